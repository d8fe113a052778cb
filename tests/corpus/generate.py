"""Write the malformed-input corpus into a folder: ``python -m tests.corpus.generate OUT``.

Prints one line per case (kind, name, the command to run, the exit statuses
that are right), so a person can replay any case by hand; the test suite
(``tests/test_corpus.py``) generates the same corpus into a temporary folder.
"""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

from . import Case

KINDS = ("patients", "kbs", "traces", "batches")
MINIMUM = {"patients": 150, "kbs": 60, "traces": 40, "batches": 30}  # issue 13's floor per kind


def cases(root: Path, kind: str) -> Iterator[Case]:
    module = importlib.import_module(f"{__package__}.{kind}")
    yield from module.cases(root)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.corpus.generate OUTPUT_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0]).resolve()
    root.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        for case in cases(root, kind):
            print(f"{kind}\t{case.name}\tcicatrix {shlex.join(case.argv)}\texits {case.exits}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
