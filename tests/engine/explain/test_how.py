"""How a conclusion was reached: a tree from the conclusion down to the patient's input."""

from __future__ import annotations

import pytest

from cicatrix.engine.explain.how import how
from cicatrix.engine.explain.tree import leaves

from ...helpers import ALL_EXAMPLES, texts, trace_of


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_how_reaches_only_input_facts(traces, name):
    trace, plan = traces[name]
    for rec in plan["recommendations"]:
        tree = how(trace, rec["id"])
        assert tree.children, rec["id"]
        for leaf in leaves(tree):
            text = leaf.text
            ok = (
                text.endswith(("(patient input)", "(treatment catalogue)", "(derived above)"))
                or text.startswith("says: ")
                or text == "no conditions: applies to everyone"
                or ": rank " in text  # a combination's recommended components
            )
            assert ok, f"{rec['id']}: leaf {text!r}"


def test_how_of_a_fact(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: deep, site: cheeks}\n")
    lines = texts(how(trace, "finding-1"))
    assert lines[0] == "finding-1: kind deep, site cheeks"
    assert lines[1].startswith("rule derive-deep (firing #1)")
    assert lines[2] == "scar-1: type ice pick, site cheeks, depth deep  (patient input)"


def test_how_an_alert_was_raised(make_kb, tmp_path):
    from cicatrix.engine.explain.how import how
    from cicatrix.engine.explain.tracefile import read, render
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.engine.resolve.contract import to_dict

    from ...helpers import ALERT_RULES, TWO_SITES, consult

    root = make_kb(ALERT_RULES)
    kb = load(root)
    result, _ = consult(root, TWO_SITES)
    path = tmp_path / "t.json"
    path.write_text(render(kb, result, to_dict(result), "p.yaml"))
    tree = how(read(path), "check-site")
    assert tree.text == "check-site is a warning alert: look at the forehead and cheeks first."
    assert [c.text.split(" - ")[0] for c in tree.children] == ["rule warn (firing #1)", "rule warn (firing #3)"]
