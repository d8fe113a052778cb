"""Writing output so that no reader ever sees half of it: the one place that does.

Everything cicatrix writes (plans, traces, saved answers, batch output, JSON
Schemas, the cache of knowledge bases) goes through :func:`atomic_output`, and
what an output path means is decided here:

- ``-`` is standard output, and so is ``/dev/stdout``; another of the
  process's open descriptors (``/dev/stderr``, ``/dev/fd/N``) is written as it is;
- a symbolic link is followed to its final target, which is written (a
  dangling link creates its target); the link stays a link;
- a regular file, or a new one, is replaced atomically: the content goes to a
  temporary file beside the target, and only once it is complete and on disk is
  that file renamed over the target, which a rename within one folder does in
  one step. A new file gets the mode the umask allows (``0o666 & ~umask``); an
  existing one keeps its mode (and, where allowed, its owner);
- anything else (a device such as ``/dev/null``, a FIFO) is opened and written
  directly: no temporary file, no rename, never removed or replaced.

Any failure half-way (an error, a full disk, Ctrl-C) removes the temporary file
and leaves the target as it was, so a command that fails never leaves a
truncated plan behind. Every failure to write (no permission, a read-only or
full disk, a missing folder, a path that is a folder or empty) is bad input: a
:class:`CicatrixError` naming the file and what went wrong in plain words.

:func:`guarded_stdout` does the same for standard output while a command runs: a
closed or full standard output is a :class:`CicatrixError`, and a reader that
went away (``| head``) is :class:`StdoutGone`, which the command line ends
quietly.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import CicatrixError

STDOUT = "-"
"""The output path that means standard output."""

STDOUT_NAME = "standard output"

_MAX_LINKS = 40  # as the kernel's own limit on following links
_FD_PATH = re.compile(r"/(?:dev|proc/(?P<pid>self|\d+))/fd/(?P<fd>\d+)/?\Z")

_WORDS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be too large",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "a folder on the path does not exist",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links (a loop?)",
    errno.EIO: "an input/output error",
    errno.EBADF: "it is closed",
    errno.EPIPE: "nothing reads from it any more (broken pipe)",
    errno.ENXIO: "no device or reader behind it",
    errno.ETXTBSY: "it is a program that is running",
    errno.EBUSY: "it is busy",
}


class StdoutGone(Exception):
    """Standard output's reader went away (a broken pipe, as in ``cicatrix ... | head``).

    Not an :class:`OSError`: click turns a broken pipe into exit status 1 itself,
    and the command line ends this one quietly with status 0.
    """


def is_stdout(path: Path | str | None) -> bool:
    """Whether ``path`` names standard output (``-``; ``Path("-")`` too, as ``Path("./-")`` is the same)."""
    return path is not None and str(path) == STDOUT


def write_error(path: Path | str, exc: OSError) -> CicatrixError:
    """``exc``, met while writing ``path``, as bad input in plain words: ``PATH: cannot write: permission denied``."""
    words = _WORDS.get(exc.errno) if exc.errno is not None else None
    if words is None:
        words = (exc.strerror or str(exc) or type(exc).__name__).lower()
    return CicatrixError.about(str(path), f"cannot write: {words}")


@contextmanager
def atomic_output(path: Path | str, mode: str = "w", *, encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """A handle whose content replaces ``path`` when the ``with`` block ends without an error.

    ``mode`` is ``"w"`` (text in ``encoding``) or ``"wb"``. ``-`` (and
    ``/dev/stdout``) is standard output (``sys.stdout``, or its binary buffer for
    ``"wb"``), flushed at the end and never closed. A link is followed to its
    target; a device, a FIFO or another open descriptor (``/dev/stderr``) is
    written as it is; a regular file, or a new one, is replaced atomically, with
    the old file's mode or, for a new one, the umask's. A path that cannot be
    written (a missing folder, a folder, an empty path, no permission) is a
    :class:`CicatrixError` before anything is written; so is a write that fails
    on the way (a full disk). An exception in the block leaves a regular file as
    it was and no temporary file behind.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output writes a new file: mode 'w' or 'wb', not {mode!r}")
    if is_stdout(path):
        with _stdout(mode) as handle:
            yield handle
        return
    name = os.fspath(path)
    if name == "":
        raise CicatrixError("cannot write to an empty path: give a file name, or - for standard output")
    target = _final_target(name)
    if isinstance(target, int):  # an open descriptor: written as it is, standard output as "-"
        with _stdout(mode) if target == 1 else _direct(target, name, mode, encoding) as handle:
            yield handle
        return
    label = name if target == name else f"{name} (a link to {target})"
    try:
        found = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise write_error(label, exc) from exc
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise CicatrixError.about(label, "cannot write: it is a folder")
    if found is not None and stat.S_ISSOCK(found.st_mode):
        raise CicatrixError.about(label, "cannot write: it is a socket, not a file")
    if found is not None and not stat.S_ISREG(found.st_mode):
        with _direct(target, label, mode, encoding) as handle:
            yield handle
        return
    with _replacing(target, label, found, mode, encoding) as handle:
        yield handle


def write_atomically(path: Path | str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` with :func:`atomic_output`."""
    with atomic_output(path, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)


def ensure_folder(path: Path | str) -> None:
    """Create the folder ``path`` (and its parents) unless it exists; a failure is a :class:`CicatrixError`."""
    name = os.fspath(path)
    if name == "":
        raise CicatrixError("cannot create a folder with an empty name")
    try:
        os.makedirs(name, exist_ok=True)
    except FileExistsError:
        raise CicatrixError.about(name, "cannot write: it is not a folder") from None
    except OSError as exc:
        raise write_error(name, exc) from exc


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """While the block runs, make failures to write standard output what they are.

    A closed standard output (``cicatrix ... >&-``) or one that fails (a full
    disk, ``>/dev/full``) raises :class:`CicatrixError` when something is
    written; a reader that went away raises :class:`StdoutGone`. The output is
    flushed at the end of the block (so a failure of the last flush is caught
    too) and the previous ``sys.stdout`` put back. Only the process's own
    standard output is guarded: one already replaced (as by pytest) is left be.
    """
    original = sys.stdout
    if original is not None and original is not sys.__stdout__:
        yield
        return
    if original is None:
        _occupy_fd(1)  # so that no file opened later becomes "standard output"
        sink = _Sink(1, STDOUT_NAME, owned=False, closed=True, stdout=True)
        guarded = io.TextIOWrapper(io.BufferedWriter(sink), encoding="utf-8", errors="strict")
    else:
        try:
            fd = original.fileno()
        except (OSError, ValueError):  # no descriptor behind it: nothing to guard
            yield
            return
        with contextlib.suppress(OSError, ValueError):
            original.flush()
        sink = _Sink(fd, STDOUT_NAME, owned=False, stdout=True)
        guarded = io.TextIOWrapper(
            io.BufferedWriter(sink),
            encoding=original.encoding,
            errors=original.errors,
            line_buffering=original.line_buffering,
        )
    sys.stdout = guarded
    try:
        yield
        guarded.flush()
    except BaseException:
        # What is still buffered goes out if it can; the error that stopped the
        # command is the one to report, not a second one from this flush.
        try:
            guarded.flush()
        except BaseException:
            sink.discard = True
        raise
    finally:
        sink.discard = True  # anything written later (at exit) is dropped, never an error
        if sys.stdout is guarded:
            sys.stdout = original


def silence_stdout() -> None:
    """After a broken pipe: point the process's standard output at the null device.

    Python flushes standard output at exit, and a flush into the broken pipe
    would print "Exception ignored" (the recipe of the ``signal`` module's docs).
    """
    if sys.stdout is None:
        return
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a descriptor (a test's capture): nothing to redirect
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


# --- the three ways of writing ------------------------------------------------------


class _Sink(io.RawIOBase):
    """A file descriptor whose write errors name the file, in plain words."""

    def __init__(self, fd: int, label: str, *, owned: bool = True, closed: bool = False, stdout: bool = False):
        super().__init__()
        self._fd, self._label, self._owned, self._closed, self._stdout = fd, label, owned, closed, stdout
        self.discard = False  # drop what is written: a failed write is being cleaned up

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return not self._closed and os.isatty(self._fd)

    def write(self, data) -> int:
        if self.discard:
            return len(data)
        if self._closed:
            raise CicatrixError.about(self._label, "cannot write: it is closed")
        try:
            return os.write(self._fd, data)
        except BrokenPipeError as exc:
            if self._stdout:
                raise StdoutGone() from exc
            raise write_error(self._label, exc) from exc
        except OSError as exc:
            raise write_error(self._label, exc) from exc

    def close(self) -> None:
        if not self.closed and self._owned:
            os.close(self._fd)
        super().close()


def _handle(sink: _Sink, mode: str, encoding: str) -> IO[Any]:
    buffered = io.BufferedWriter(sink)
    return buffered if mode == "wb" else io.TextIOWrapper(buffered, encoding=encoding)


def _abandon(handle: IO[Any], sink: _Sink) -> None:
    """Close ``handle`` after a failure, dropping what it still holds; never raises."""
    sink.discard = True
    with contextlib.suppress(Exception):
        handle.close()


@contextmanager
def _stdout(mode: str) -> Iterator[IO[Any]]:
    stream = sys.stdout
    if stream is None:
        raise CicatrixError.about(STDOUT_NAME, "cannot write: it is closed")
    if mode == "wb":
        stream.flush()
        stream = stream.buffer
    yield stream
    stream.flush()


@contextmanager
def _direct(target: str | int, label: str, mode: str, encoding: str) -> Iterator[IO[Any]]:
    """Written as it is, never replaced or removed: a device, a FIFO (which waits for its
    reader), or one of the process's open descriptors (``/dev/stderr``), through a copy of it."""
    try:
        if isinstance(target, int):
            fd = os.dup(target)
        else:
            fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise write_error(label, exc) from exc
    sink = _Sink(fd, label)
    handle = _handle(sink, mode, encoding)
    try:
        yield handle
        handle.close()
    except BaseException:
        _abandon(handle, sink)
        raise


@contextmanager
def _replacing(target: str, label: str, found: os.stat_result | None, mode: str, encoding: str) -> Iterator[IO[Any]]:
    """A regular file (``found``) or a new one: a temporary file beside it, renamed over it once complete."""
    folder = os.path.dirname(target) or "."
    if found is None and not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CicatrixError.about(label, f"the folder {folder!r} {what}")
    if found is not None and not os.access(target, os.W_OK):
        raise CicatrixError.about(label, "cannot write: the file is read-only (permission denied)")
    try:
        # Beside the target, not in /tmp: a rename is atomic only within one file system.
        import tempfile  # here, not at the top: a consultation printing to standard output never needs it

        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise write_error(label, exc) from exc
    sink = _Sink(fd, label)
    handle = _handle(sink, mode, encoding)
    try:
        yield handle
        handle.flush()
        try:
            _settle(fd, tmp, found)
            # On disk before the rename: otherwise a power cut can leave an empty
            # file where the old one was, the very half-write this module prevents.
            os.fsync(fd)
            handle.close()
            os.replace(tmp, target)
        except OSError as exc:
            raise write_error(label, exc) from exc
    except BaseException:
        _abandon(handle, sink)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _settle(fd: int, tmp: str, found: os.stat_result | None) -> None:
    """Give the temporary file the mode (and owner) the target has, or the umask's for a new one."""
    if found is not None and hasattr(os, "fchown") and (found.st_uid, found.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.fchown(fd, found.st_uid, found.st_gid)  # before the mode: a chown clears set-user-ID
    mode = 0o666 & ~_umask() if found is None else stat.S_IMODE(found.st_mode)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows (before Python 3.13): the read-only flag only
        os.chmod(tmp, mode)


def _umask() -> int:
    """The process's umask, read without changing it where the system tells (Linux), else set and put back."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", errors="replace") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)  # restrictive while it is changed, should another thread create a file
    os.umask(mask)
    return mask


def _final_target(name: str) -> str | int:
    """What ``name`` is a link to, following links to the last; ``name`` itself when it is no link.

    A path to one of this process's open descriptors (``/dev/stdout``,
    ``/dev/fd/N``, ``/proc/self/fd/N``) gives the descriptor: its link names no
    file to replace (``pipe:[1234]``), and ``>> log`` must stay an append.
    """
    target = name
    for _ in range(_MAX_LINKS):
        descriptor = _FD_PATH.match(target)
        if descriptor and descriptor["pid"] in (None, "self", str(os.getpid())):
            return int(descriptor["fd"])
        try:
            link = os.readlink(target)
        except OSError:  # not a link, or nothing there: this is the file to write
            return target
        target = os.path.join(os.path.dirname(target), link)
    raise CicatrixError.about(name, f"cannot write: {_WORDS[errno.ELOOP]}")


def _occupy_fd(fd: int) -> None:
    """Open the null device as ``fd`` if that descriptor is closed."""
    try:
        os.fstat(fd)
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
