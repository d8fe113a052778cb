"""Replaying a trace: the recorded firings resolve again to the recorded plan."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from cicatrix.engine.explain.replay import replay

from ...helpers import ALL_EXAMPLES


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_replay_gives_the_recorded_plan(traces, kb, name):
    trace, _ = traces[name]
    assert replay(trace, kb) == []


def test_replay_detects_a_tampered_trace(traces, kb):
    trace, _ = traces["pregnant.yaml"]
    tampered = type(trace)(**{**trace.__dict__, "result": {**trace.result, "notes": ["changed"]}})
    assert any(d.startswith("notes") for d in replay(tampered, kb))


def test_replay_names_where_the_plans_differ(traces, kb):
    trace, _ = traces["pregnant.yaml"]
    kept = tuple(
        f for f in trace.firings if not any(a.kind == "avoid" and a.treatment == "retinoid" for a in f.actions)
    )
    assert len(kept) < len(trace.firings)
    differences = replay(replace(trace, firings=kept), kb)
    # without its avoid, retinoid is recommended and scheduled: each change is named by its path
    paths = [d.split(": ")[0] for d in differences]
    assert paths == sorted(paths, key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p)])
    assert {"avoid", "recommendations", "routine.how.retinoid"} <= set(paths)
    assert any(d.startswith("avoid: recorded ['") and ", replayed ['" in d for d in differences)
    assert "routine.how.retinoid: recorded None, replayed {'title': 'Retinoid" in "\n".join(differences)


def test_resolving_a_trace_does_not_load_the_rule_engine():
    """Replay and explanations read traces; they must not pay for experta's import."""
    import subprocess
    import sys

    code = (
        "import sys, cicatrix.engine.explain.replay, cicatrix.engine.explain.why_not; print('experta' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_a_trace_naming_an_unknown_rule_is_bad_input(tmp_path, kb, run_cli):
    import json

    from ...conftest import EXAMPLES

    path = tmp_path / "t.json"
    assert run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--trace", str(path)).code == 0
    data = json.loads(path.read_text())
    data["firings"][0]["rule"] = "no/such-rule"
    path.write_text(json.dumps(data))
    run = run_cli("trace", "replay", str(path))
    assert run.code == 2 and "firing #1 names rule 'no/such-rule'" in run.err


def test_a_trace_from_another_knowledge_base_is_bad_input(traces, kb):
    from cicatrix.engine.common.errors import CicatrixError
    from cicatrix.engine.session.records import ActionRecord

    trace, _ = traces["pregnant.yaml"]
    first = trace.firings[0]
    stranger = replace(first, actions=(*first.actions, ActionRecord("recommend", "moonlight", "x", "first_line")))
    with pytest.raises(CicatrixError, match="names treatment 'moonlight', which this knowledge base does not have"):
        replay(replace(trace, firings=(stranger, *trace.firings[1:])), kb)


def test_firings_that_resolve_to_an_unsafe_plan_are_bad_input(traces, kb):
    from cicatrix.engine.common.errors import CicatrixError

    trace, _ = traces["pregnant.yaml"]
    # a recommendation's text edited to name what the plan avoids
    edited = []
    for firing in trace.firings:
        actions = tuple(
            replace(a, text="Use a retinoid.", template="Use a retinoid.") if a.kind == "recommend" else a
            for a in firing.actions
        )
        edited.append(replace(firing, actions=actions))
    with pytest.raises(CicatrixError, match="do not resolve to a safe plan with this knowledge base"):
        replay(replace(trace, firings=tuple(edited)), kb)
