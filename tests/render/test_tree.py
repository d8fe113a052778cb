"""Explanation trees as text: a golden copy of one "how" tree."""

from __future__ import annotations

import os
from pathlib import Path

from cicatrix.engine.explain.how import how
from cicatrix.render.tree import render

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def test_golden_how_tree(traces):
    """One example's "how" tree, byte for byte (regenerate with CICATRIX_GOLDEN=update)."""
    trace, _ = traces["isolated-deep-ice-pick.yaml"]
    text = render(how(trace, "tca_cross"), 100)
    path = GOLDEN / "how-tca-cross.txt"
    if os.environ.get("CICATRIX_GOLDEN") == "update":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
