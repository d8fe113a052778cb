"""Replaying a trace: the recorded firings resolve again to the recorded plan."""

from __future__ import annotations

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
    assert paths == sorted(paths)
    assert {"avoid", "recommendations", "routine.how.retinoid"} <= set(paths)
    assert any(d.startswith("avoid: recorded ['") and ", replayed ['" in d for d in differences)
    assert "routine.how.retinoid: recorded None, replayed {'title': 'Retinoid" in "\n".join(differences)
