"""Reading YAML (and JSON) with the safe loader while remembering where each value was.

PyYAML's constructed objects forget their positions, yet every error we report
must name a line and column. We therefore compose the node graph with the safe
loader (the C one when available), build plain Python values ourselves and keep a
map from each value's path to its position. Duplicate keys, which PyYAML silently
overwrites, are reported as problems because in a rule file they hide a typo.

PyYAML itself is imported only where YAML is parsed (:mod:`.yamlparse`): a JSON
patient file never needs it unless a message needs a position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError
from . import limits
from .document import Document, Mark, PathKey, format_path

__all__ = ["Document", "Mark", "PathKey", "as_written", "format_path", "parse", "parse_json", "read"]


def as_written(value: Any) -> str:
    """A value as an author wrote it in YAML (``null``, ``true``), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def parse(text: str, file: str) -> Document:
    """Parse one YAML/JSON document, raising :class:`CicatrixError` with positions."""
    from .yamlparse import parse_yaml

    return parse_yaml(text, file)


def read(path: Path, *, display: str | None = None) -> Document:
    """Read and parse a file within :mod:`.limits`; a missing or unreadable file is bad input too."""
    name = display or str(path)
    text = limits.read_text(path, name)
    if path.suffix.lower() == ".json":
        return parse_json(text, name)
    return parse(text, name)


def parse_json(text: str, file: str) -> Document:
    """JSON parsed as JSON (``1e1`` is a number, as YAML 1.1 would not have it), with positions.

    The values come from the JSON parser; the positions from reading the same
    text as YAML, which JSON nearly always is. Where it is not (a tab YAML
    refuses), the values stand without positions rather than fail.
    """
    return _JsonDocument(file, limits.load_json(text, file), text)


class _JsonDocument(Document):
    """A JSON document whose positions are read only when something asks for one.

    Most JSON input is valid and no message ever needs a line number, so the
    second reading (as YAML, for the positions) and PyYAML's import wait until then.
    """

    def __init__(self, file: str, data: Any, text: str):
        self.file, self.data, self._text = file, data, text
        self._marks: dict[PathKey, Mark] | None = None
        self._key_marks: dict[PathKey, Mark] | None = None

    def _read_positions(self) -> None:
        try:
            positioned = parse(self._text, self.file)
        except CicatrixError:
            positioned = Document(file=self.file, data=None)
        if self._marks is None:
            self._marks = positioned.marks
        if self._key_marks is None:
            self._key_marks = positioned.key_marks

    @property  # type: ignore[override]
    def marks(self) -> dict[PathKey, Mark]:
        if self._marks is None:
            self._read_positions()
        assert self._marks is not None
        return self._marks

    @marks.setter
    def marks(self, value: dict[PathKey, Mark]) -> None:
        self._marks = value

    @property  # type: ignore[override]
    def key_marks(self) -> dict[PathKey, Mark]:
        if self._key_marks is None:
            self._read_positions()
        assert self._key_marks is not None
        return self._key_marks

    @key_marks.setter
    def key_marks(self, value: dict[PathKey, Mark]) -> None:
        self._key_marks = value
