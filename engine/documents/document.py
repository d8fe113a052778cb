"""A parsed document and the positions of its parts: what every reader returns.

Apart from the readers so that the YAML reader (:mod:`.yamlparse`) and the
module that chooses between YAML and JSON (:mod:`.yamlio`) share it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..common.errors import Problem

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a file, as editors count them."""

    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """A parsed file: its data and where each part of it came from."""

    file: str
    data: Any
    marks: dict[PathKey, Mark] = field(default_factory=dict)
    key_marks: dict[PathKey, Mark] = field(default_factory=dict)

    def mark(self, path: PathKey, *, key: bool = False) -> Mark | None:
        """The position of the value at ``path`` (or of its key), else of its nearest parent."""
        path = tuple(path)
        if key and path in self.key_marks:
            return self.key_marks[path]
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> Problem:
        mark = self.mark(path, key=key)
        return Problem(
            file=self.file,
            line=mark.line if mark else None,
            column=mark.column if mark else None,
            path=format_path(path),
            message=message,
        )


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
