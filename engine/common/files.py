"""Writing a file so that no reader ever sees half of it: the one place that does.

Everything cicatrix writes (plans, traces, saved answers, batch output, JSON
Schemas, the cache of knowledge bases) goes through :func:`atomic_output`. The
content goes to a temporary file beside the target, and only once it is
complete and on disk is that file renamed over the target, which a rename within
one folder does in one step. Any failure half-way (an error, a full disk,
Ctrl-C) removes the temporary file and leaves the target as it was, so a
command that fails never leaves a truncated plan behind, and a reader never sees
one while it is being written. How files are written is decided here only, so a
change to it is a change to this module.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import CicatrixError


@contextmanager
def atomic_output(path: Path | str, mode: str = "w", *, encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """A file handle whose content replaces ``path`` when the ``with`` block ends without an error.

    ``mode`` is ``"w"`` (text in ``encoding``) or ``"wb"``. A missing folder is
    bad input (:class:`CicatrixError`), reported before anything is written.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output writes a new file: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise CicatrixError.about(str(path), f"the folder {str(directory)!r} does not exist")
    # Beside the target, not in /tmp: a rename is atomic only within one file system.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            # On disk before the rename: otherwise a power cut can leave an empty
            # file where the old one was, the very half-write this module prevents.
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path | str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` with :func:`atomic_output`."""
    with atomic_output(path, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)
