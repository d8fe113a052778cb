"""Bounds on what any input may cost, and the readers that enforce them.

Every file cicatrix reads (patient files, knowledge bases, traces, batch input)
is hostile until checked: a file of endless bytes (``/dev/zero``), a 366-byte
YAML alias bomb, a self-referencing alias, nesting a thousand levels deep or an
integer of ten thousand digits would otherwise hang, exhaust memory or surface
as a Python exception. Each bound below fails as a located
:class:`~..common.errors.CicatrixError` (exit status 2), and the README lists them.
The numbers are far above any real input: the bundled knowledge base is about
0.2 MB, nests 8 levels and has no number longer than 6 characters.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem

MAX_BYTES = 8 * 1024 * 1024  # one document: a patient file, a rule file, a trace
MAX_RECORD_BYTES = 1024 * 1024  # one batch record
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_VALUES = 200_000  # values after YAML aliases are expanded (an alias bomb expands to billions)
MAX_NUMBER = 64  # characters of one number

LIMITS = {
    "file size": f"{MAX_BYTES // (1024 * 1024)} MB per file ({MAX_RECORD_BYTES // (1024 * 1024)} MB per batch record)",
    "nesting": f"{MAX_DEPTH} levels",
    "values after alias expansion": f"{MAX_VALUES:,}",
    "number length": f"{MAX_NUMBER} characters",
}


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def read_bytes(path: Path, display: str | None = None, *, limit: int = MAX_BYTES) -> bytes:
    """The bytes of ``path``, reading at most ``limit``: past it, a located error.

    Reading stops one byte past the limit, so an endless device or a huge file
    costs no more than the limit; a missing or unreadable file is bad input like
    any other.
    """
    name = display or str(path)
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise CicatrixError.about(name, "no such file") from None
    except IsADirectoryError:
        raise CicatrixError.about(name, "is a folder, expected a file") from None
    except OSError as exc:
        raise CicatrixError.about(name, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise CicatrixError.about(name, f"larger than the {_size(limit)} limit for one file")
    return raw


def read_text(path: Path, display: str | None = None, *, limit: int = MAX_BYTES) -> str:
    """The text of ``path`` as UTF-8 (a BOM dropped), within :func:`read_bytes`' bound."""
    name = display or str(path)
    return decode(read_bytes(path, name, limit=limit), name)


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text, a leading BOM dropped; invalid bytes are a located error."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw[: exc.start].decode("utf-8", errors="replace")
        line, column = position(text, len(text))
        raise CicatrixError(
            [Problem(name, line, column, "", f"not UTF-8 text (byte {exc.start}: {raw[exc.start]:#04x})")]
        ) from None


_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_too_deep(text: str) -> int | None:
    """The offset where JSON nesting first passes :data:`MAX_DEPTH`, or None (strings skipped)."""
    depth = 0
    for m in _NESTING.finditer(text):
        token = m.group(0)
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif token in "]}":
            depth -= 1
    return None


def load_json(text: str, name: str) -> Any:
    """Parse JSON within the bounds: depth, number length, finite numbers; errors located."""
    offset = json_too_deep(text)
    if offset is not None:
        raise CicatrixError([Problem(name, *position(text, offset), "", f"nested deeper than {MAX_DEPTH} levels")])

    def number(kind: type) -> Any:
        def convert(literal: str) -> Any:
            if len(literal) > MAX_NUMBER:
                raise _TooLong(literal)
            value = kind(literal)
            if isinstance(value, float) and not math.isfinite(value):
                raise _TooLong(literal)
            return value

        return convert

    def constant(literal: str) -> Any:
        raise _NotFinite(literal)

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise CicatrixError([Problem(name, exc.lineno, exc.colno, "", f"not valid JSON: {exc.msg}")]) from None
    except _TooLong as exc:
        at = text.find(exc.args[0])
        where = position(text, at) if at >= 0 else (None, None)
        message = f"a number longer than {MAX_NUMBER} characters, or too large to be finite"
        raise CicatrixError([Problem(name, *where, "", message)]) from None
    except _NotFinite as exc:
        at = text.find(exc.args[0])
        where = position(text, at) if at >= 0 else (None, None)
        raise CicatrixError([Problem(name, *where, "", f"expected a finite number, got {exc.args[0]}")]) from None


class _TooLong(Exception):
    pass


class _NotFinite(Exception):
    pass
