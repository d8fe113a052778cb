"""Why a treatment is not in the plan, on a hand-built knowledge base."""

from __future__ import annotations

from cicatrix.engine.explain.why_not import why_not

from ...helpers import texts, trace_of


def test_why_not_names_a_value_mismatch(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: shallow, site: cheeks}\n")
    lines = texts(why_not(trace, "alpha"))
    assert "scar #1 depth is shallow; the rule needs deep" in lines


def test_why_not_names_a_missing_fact_and_where_it_would_come_from(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: shallow}\n")
    lines = texts(why_not(trace, "alpha"))
    assert "needs a finding fact with kind deep, and no rule asserted one" in lines
    assert "it would come from rule derive-deep - derive deep" in lines


def test_why_not_names_an_unless_that_matched(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "patient: {pregnant: true}\nscars:\n  - {type: boxcar}\n")
    lines = texts(why_not(trace, "beta"))
    assert any(line.startswith("its 'unless' condition matched: patient: ") for line in lines), lines


def test_why_not_names_the_avoid_that_won(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "patient: {pregnant: true}\nscars:\n  - {type: boxcar}\n")
    lines = texts(why_not(trace, "gamma"))
    assert lines[1] == "proposed by gamma-for-boxcar, but struck out by no-gamma-in-pregnancy: not in pregnancy"
    assert any(
        line.startswith("rule gamma-for-boxcar fired (#") and line.endswith("but the avoid above wins")
        for line in lines
    )


def test_why_not_when_no_rule_can(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: boxcar}\n")
    assert texts(why_not(trace, "delta"))[-1] == "no rule in this knowledge base can recommend delta"


def test_why_not_names_the_preference_that_left_it_out(run_cli, tmp_path):
    from cicatrix.engine.explain.tracefile import read
    from cicatrix.engine.explain.why_not import why_not
    from cicatrix.render.tree import render

    from ...conftest import EXAMPLES

    path = tmp_path / "t.json"
    assert run_cli("consult", str(EXAMPLES / "sensitive-low-downtime.json"), "--trace", str(path)).code == 0
    text = render(why_not(read(path), "punch_excision"), 200)
    assert "left out for your preferences (downtime_days) by downtime/beyond-tolerance" in text
    assert "but the preference above wins" in text
