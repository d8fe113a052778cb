"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..engine.common.errors import CicatrixError


def kb_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--kb",
        "kb_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CICATRIX_KB",
        default=None,
        show_envvar=True,
        help="Knowledge-base folder to use instead of the bundled one.",
    )(func)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader never sees half a file.

    The text goes to a temporary file beside the target and is renamed over it
    only once complete; on any failure the temporary file is removed and the
    target is left as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CicatrixError.about(str(path), f"the folder {str(directory)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
