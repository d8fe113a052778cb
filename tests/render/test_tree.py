"""Explanation trees as text: a golden copy of one "how" tree."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

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


def test_golden_how_tree_names_the_firings_the_trace_has(traces):
    """When the golden copy goes stale because the knowledge base renumbered its firings, say so."""
    trace, _ = traces["isolated-deep-ice-pick.yaml"]
    by_seq = {f.seq: f.rule for f in trace.firings}
    named = re.findall(r"rule (\S+) \(firing #(\d+)\)", (GOLDEN / "how-tca-cross.txt").read_text(encoding="utf-8"))
    assert named, "the golden tree names no firing"
    for rule, seq in named:
        assert by_seq.get(int(seq)) == rule, f"firing #{seq} is {by_seq.get(int(seq))}, not {rule}: regenerate"


@pytest.mark.parametrize(
    ("marker", "command"), [("trace-how", ("how", "tca_cross")), ("trace-why-not", ("why-not", "punch_excision"))]
)
def test_readme_trace_examples_match_real_output(run_cli, tmp_path, marker, command):
    """The README shows real `trace how` and `why-not` output of the mixed example; keep it real."""
    from ..conftest import EXAMPLES, REPO

    trace = tmp_path / "trace.json"
    assert run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--trace", str(trace)).code == 0
    out = run_cli("trace", command[0], str(trace), command[1]).out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(f"<!-- output:{marker} -->") :].split("```text\n", 1)[1].split("```", 1)[0]
    assert block.strip() and out.startswith(block)
