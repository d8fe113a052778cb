"""Reading the plan's problems back from a trace: the links the resolver made, found again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cicatrix.engine.explain import plan
from cicatrix.engine.explain.tracefile import read
from cicatrix.engine.patient.reader import InputFact
from cicatrix.engine.resolve import resolver
from cicatrix.engine.resolve.problems import groups
from cicatrix.engine.resolve.roots import roots

from ...helpers import ALL_EXAMPLES
from .conftest import SCOPED


def _resolver_view(kb, trace):
    """What the resolver itself found: the standing firings and each problem's options."""
    consultation = trace.consultation()
    firing_roots, fact_roots = roots(consultation, kb.targets[0])
    inputs = tuple(InputFact(f.id, f.template, f.values) for f in trace.facts.values() if f.origin == "input")
    found = groups(kb, inputs, consultation, fact_roots)
    valid, _, options, _ = resolver._standing(kb, consultation, firing_roots, found)
    return valid, {g.id: set(o) for g, o in zip(found, options.values(), strict=True)}


def _all_traces(traces, scoped):
    return [traces[p.name][0] for p in ALL_EXAMPLES] + [read(scoped[name]) for name in SCOPED]


def test_the_trace_finds_the_resolvers_standing_firings_and_options(kb, traces, scoped):
    for trace in _all_traces(traces, scoped):
        valid, options = _resolver_view(kb, trace)
        stand = plan.standing(trace)
        assert stand.valid == valid, trace.file
        for problem in plan.problems(trace):
            assert plan.proposed_for(trace, problem, stand) == options[problem["id"]], (trace.file, problem["id"])


def test_every_alternative_gets_the_reason_its_why_gives(traces, scoped):
    checked = unchosen = 0
    for trace in _all_traces(traces, scoped):
        stand = plan.standing(trace)
        for problem in plan.problems(trace):
            reasons = plan.alternative_reasons(trace, problem)
            if problem["choice"] is None:  # the why says why nothing is chosen, not why each is not
                assert reasons == {}
                for option in problem["alternatives"]:
                    assert plan.reason_after(trace, problem, option, stand).startswith("an add-on here: ")
                    unchosen += 1
                continue
            assert set(reasons) == set(problem["alternatives"]), (trace.file, problem["id"])
            for option, reason in reasons.items():
                assert f"({reason})" in problem["why"], (option, reason)
                assert plan.reason_after(trace, problem, option, stand) == reason
            checked += len(reasons)
    assert checked > 20 and unchosen > 0


def test_reasons_are_read_by_whole_names_and_balanced_parentheses(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    problem = {
        "alternatives": ["microneedling", "tca_cross+microneedling", "rf_microneedling", "ablative_fractional_laser"],
        "why": (
            "X: text (with a bracket). Chosen over TCA CROSS + Microneedling and Microneedling (a second-line "
            "option here); RF microneedling (a risk for you: sun (for AHAs); care); Fractional CO2 laser "
            "(fewer rules support it). Punch excision would come first but is ruled out: (x)."
        ),
    }
    assert plan.alternative_reasons(trace, problem) == {
        "tca_cross+microneedling": "a second-line option here",
        "microneedling": "a second-line option here",
        "rf_microneedling": "a risk for you: sun (for AHAs); care",
        "ablative_fractional_laser": "fewer rules support it",
    }
    assert plan.alternative_reasons(trace, {**problem, "why": "No sentence naming them."}) == {}
    # a sentence that breaks off keeps what it could read
    cut = {**problem, "why": "Chosen over Microneedling (a second-line option here); RF microneedling (a risk"}
    assert plan.alternative_reasons(trace, cut) == {"microneedling": "a second-line option here"}


@pytest.mark.parametrize("recorded", [True, False])
def test_a_problems_items_are_its_input_facts(traces, recorded):
    """Traces that do not record the target template (older ones) find it from the numbered input facts."""
    trace, result = traces["mixed-facial-scars.yaml"]
    if not recorded:
        trace = replace(trace, targets=None)
    problems = result["plan"]["problems"]
    assert [plan.item_ids(trace, p) for p in problems] == [["scar-1"], ["scar-2"], ["scar-3"]]
    assert plan.items_key(problems[0]) == "scars"
