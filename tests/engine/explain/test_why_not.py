"""Why a treatment is not in the plan, on a hand-built knowledge base."""

from __future__ import annotations

import re

import pytest

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


# --- the plan's problems -------------------------------------------------------------


def _tree(path, wanted):
    from cicatrix.engine.explain.tracefile import read

    return why_not(read(path), wanted)


def test_why_not_a_recommendation_ruled_out_for_one_problem(scoped):
    """Recommended for the face, ruled out on the back: which problem, which rule, its scope, its reason."""
    tree = _tree(scoped["keloid-two-sites"], "punch_excision")
    assert re.fullmatch(r"punch_excision \(Punch excision\) was recommended, rank \d+; problem by problem:", tree.text)
    back, face = tree.children
    assert back.text == "ruled out for problem-1 (deep boxcar scars on the back)"
    (rule_line,) = [c.text for c in back.children]
    assert re.fullmatch(
        r"rule keloid/avoid-wounding-on-prone-sites \(firing #\d+\) avoids it only where site is back: "
        r"You have a keloid tendency .* and scars on the back, where keloids form most often: .*",
        rule_line,
    )
    assert face.text == (
        "an alternative for problem-2 (deep ice pick scars on the cheeks), after the choice tca_cross (TCA CROSS): "
        "ranked after TCA CROSS by the sources"
    )


def test_why_not_a_combination_names_the_part_ruled_out(scoped):
    tree = _tree(scoped["keloid-two-sites"], "punch_excision+ablative_fractional_laser")
    assert tree.children[0].text == (
        "ruled out for problem-1 (deep boxcar scars on the back) (through its part punch_excision, Punch excision)"
    )
    # for the face it was considered, and the answer says what came before it
    assert tree.children[1].text.startswith(
        "considered for problem-2 (deep ice pick scars on the cheeks), but ranked after the choice tca_cross"
    )


def test_why_not_a_recommendation_left_out_for_one_problem(scoped):
    tree = _tree(scoped["no-downtime-two-sites"], "subcision")
    face, back = tree.children
    assert face.text == "left out for problem-1 (rolling scars on the cheeks), by your preferences"
    assert re.fullmatch(
        r"rule downtime/beyond-tolerance \(firing #\d+\) leaves it out for your preferences \(downtime_days\) only "
        r"where site is forehead, temples, cheeks, nose, chin, jaw, neck or not given: "
        r"It needs at least 7 days of visible downtime and you accept 0 days; .*",
        face.children[0].text,
    )
    assert back.text == "chosen for problem-2 (rolling scars on the back)"


def test_why_not_a_recommendation_ranked_after_the_choice(scoped):
    """An option the problem had but the plan does not list: after the choice and its alternatives, with the why."""
    from cicatrix.engine.explain.tracefile import read

    trace = read(scoped["keloid-two-sites"])
    face = next(p for p in trace.result["plan"]["problems"] if p["id"] == "problem-2")
    tree = why_not(trace, "ablative_fractional_laser")
    node = tree.children[1]
    assert node.text == (
        "considered for problem-2 (deep ice pick scars on the cheeks), but ranked after the choice tca_cross "
        "and its alternatives " + ", ".join(face["alternatives"])
    )
    assert [c.text for c in node.children] == [f"why: {face['why']}"]


def test_why_not_an_add_on_says_what_it_is_shown_beside(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    lines = texts(why_not(trace, "prp"))
    assert lines[1] == (
        'an add-on, shown as "± PRP" beside rf_microneedling, tca_cross+microneedling, '
        "tca_cross+ablative_fractional_laser for problem-1 (deep ice pick scars on the cheeks)"
    )


def test_why_not_a_choice_everywhere_points_to_how(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    tree = why_not(trace, "tca_cross")
    assert tree.text == "tca_cross (TCA CROSS) was recommended, rank 1; ask `cicatrix trace how` how."
    assert [c.text for c in tree.children] == ["chosen for problem-1 (deep ice pick scars on the cheeks)"]


def test_why_not_avoided_outright_by_scoped_avoids_covering_every_problem(scoped):
    tree = _tree(scoped["keloid-one-site"], "punch_excision")
    struck = tree.children[0]
    assert (
        struck.text.startswith("proposed by ")
        and "but struck out by keloid/avoid-wounding-on-prone-sites" in struck.text
    )
    (scope,) = struck.children
    assert scope.text == (
        "every avoid of it is limited to some input items, yet together they cover every problem it could serve, "
        "so the plan avoids punch_excision outright:"
    )
    (problem,) = scope.children
    assert problem.text == "problem-1 (deep boxcar scars on the back)"
    assert "avoids it only where site is back: You have a keloid tendency" in problem.children[0].text


def test_why_not_left_out_outright_by_scoped_preferences(scoped):
    tree = _tree(scoped["no-downtime-one-site"], "tca_cross")
    left = tree.children[0]
    assert left.text.startswith("left out for your preferences (downtime_days) by downtime/beyond-tolerance: ")
    (scope,) = left.children
    assert scope.text.endswith("so the plan leaves out tca_cross outright:")
    assert [c.text for c in scope.children] == ["problem-1 (deep ice pick scars on the cheeks)"]


def test_why_not_an_unscoped_avoid_says_nothing_of_scopes(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "patient: {pregnant: true}\nscars:\n  - {type: boxcar}\n")
    assert not why_not(trace, "gamma").children[0].children


def test_why_not_a_problem_is_bad_input(traces):
    from cicatrix.engine.common.errors import CicatrixError

    trace, _ = traces["mixed-facial-scars.yaml"]
    with pytest.raises(CicatrixError) as info:
        why_not(trace, "problem-2")
    assert "problem-2 is a problem of the plan, not a treatment; ask how: cicatrix trace how" in str(info.value)
