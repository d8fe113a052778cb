"""A corpus of malformed inputs, generated, never listed by hand (issue 13).

Each module (patients, kbs, traces, batches) yields :class:`Case` s for one kind
of input; :mod:`.generate` writes them all into a folder, and
``tests/test_corpus.py`` runs every case as a real ``cicatrix`` process under a
time and memory bound, checking that none crashes, hangs or speaks of an
internal error, and that every refusal is located.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One run of the command line on one generated input."""

    kind: str  # patients, kbs, traces, batches
    name: str  # unique within its kind; also the folder the input lives in
    argv: tuple[str, ...]  # arguments after `cicatrix`; paths are absolute
    exits: tuple[int, ...] = (2,)  # the exit statuses that are correct for it
    located: str = ""  # a text the error message must contain (e.g. the file name); "" to skip
    stdin: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)  # notes for a failing report

    def folder(self, root: Path) -> Path:
        path = root / self.kind / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path
