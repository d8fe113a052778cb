"""Central safety: whatever the rules say, avoided treatments never reach the plan,
combinations need every component, and the routine keeps incompatible items apart.

The enforcing steps (allowed, split_combinations) are tested on hand-built
proposals, the final check (check_invariants) on real plans broken by hand, and
the whole on generated patients of the bundled knowledge base."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.resolve.proposals import Proposal, Proposals
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.result import Avoidance
from cicatrix.engine.resolve.routine import same_night_violations
from cicatrix.engine.resolve.safety import (
    SafetyInvariantError,
    allowed,
    avoided_named,
    check_invariants,
    split_combinations,
)

from ...conftest import EXAMPLES
from ...helpers import consult, patients, replace

# --- enforcing: avoid wins, combinations need their parts ----------------------------


def proposal(*rules: str, components: tuple[str, ...] = ()) -> Proposal:
    return Proposal("first_line", rules=list(rules), components=components)


def test_allowed_drops_avoided_ids_and_keeps_the_order():
    proposals = Proposals(
        recommended={"c": proposal("r1"), "a": proposal("r2"), "b": proposal("r3")},
        avoided={"a": proposal("r4"), "z": proposal("r5")},
    )
    assert allowed(proposals) == ["c", "b"]
    assert allowed(Proposals(recommended={"a": proposal("r1")})) == ["a"]


def test_split_combinations_keeps_only_complete_safe_ones():
    proposals = Proposals(
        recommended={"a": proposal("r1"), "b": proposal("r1"), "c": proposal("r1")},
        combinations={
            "a+b": proposal("combo", "combo", components=("a", "b")),
            "a+c": proposal("other", "combo", "other", components=("a", "c")),
            "a+d": proposal("combo", components=("a", "d")),
            "d+e": proposal("combo", components=("d", "e")),
        },
        avoided={"c": proposal("no-c"), "d": proposal("no-d")},
    )
    kept, dropped = split_combinations(proposals)
    assert list(kept) == ["a+b"]
    assert kept["a+b"] is proposals.combinations["a+b"]
    assert [(d.id, d.rules, d.reason) for d in dropped] == [
        ("a+c", ("other", "combo"), "avoided for this patient: c"),
        # an avoided component is the reason given, before a missing one
        ("a+d", ("combo",), "avoided for this patient: d"),
        ("d+e", ("combo",), "avoided for this patient: d"),
    ]
    missing = Proposals(
        recommended={"a": proposal("r1")},
        combinations={"a+b+c": proposal("combo", components=("a", "b", "c"))},
    )
    kept, dropped = split_combinations(missing)
    assert kept == {}
    assert [(d.id, d.reason) for d in dropped] == [("a+b+c", "not recommended on their own: b, c")]


def test_avoid_wins_whatever_the_firing_order(make_kb):
    # The recommend rule fires first (higher salience) and is never told about the avoid.
    root = make_kb(
        """
- id: rec
  title: rec
  salience: 10
  when: []
  then:
    - recommend: alpha
      explain: first
    - recommend: beta
      explain: second
    - combine: [alpha, beta]
      rationale: together
  sources: [src.txt]
- id: no-alpha
  title: no alpha
  when: []
  then:
    - avoid: alpha
      reason: not for you
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    assert [r.id for r in result.recommendations] == ["beta"]
    assert [a.id for a in result.avoid] == ["alpha"]
    assert result.avoid[0].proposed_by == ("rec",)
    assert [d.id for d in result.dropped] == ["alpha+beta"]
    assert "alpha" in result.dropped[0].reason


def test_combination_needs_every_component_recommended(make_kb):
    root = make_kb(
        """
- id: rec
  title: rec
  when: []
  then:
    - recommend: alpha
      explain: first
    - combine: [alpha, beta]
      rationale: together
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    assert [r.id for r in result.recommendations] == ["alpha"]
    assert result.dropped[0].reason == "not recommended on their own: beta"


# --- checking: a finished plan that breaks an invariant is a bug ----------------------


@pytest.fixture(scope="module")
def mixed(kb, session):
    """A real plan with combinations and an evening routine that keeps items apart."""
    result = plan(session, read(EXAMPLES / "mixed-facial-scars.yaml", kb))
    ids = [r.id for r in result.recommendations]
    assert "tca_cross+microneedling" in ids and "microneedling" in ids and "retinoid" in ids and "aha" in ids
    return result


def avoiding(result, tid: str):
    return replace(result, avoid=(*result.avoid, Avoidance(tid, tid, "planted", ("planted",), (), ())))


def test_a_real_plan_passes_the_check(kb, mixed):
    check_invariants(mixed, kb)


def test_check_catches_an_avoided_recommendation(kb, mixed):
    with pytest.raises(SafetyInvariantError, match=r"^retinoid is both avoided and recommended \(in retinoid\)$"):
        check_invariants(avoiding(mixed, "retinoid"), kb)


def test_check_catches_an_avoided_component(kb, mixed):
    # microneedling is kept only inside combinations, then avoided
    result = replace(mixed, recommendations=tuple(r for r in mixed.recommendations if r.id != "microneedling"))
    with pytest.raises(SafetyInvariantError, match="microneedling is both avoided and recommended"):
        check_invariants(avoiding(result, "microneedling"), kb)


def test_check_catches_a_combination_without_its_component(kb, mixed):
    result = replace(mixed, recommendations=tuple(r for r in mixed.recommendations if r.id != "microneedling"))
    with pytest.raises(SafetyInvariantError, match=r"combination \w+\+microneedling has a component that is not"):
        check_invariants(result, kb)


def test_check_catches_incompatible_items_on_one_night(kb, mixed):
    evening = dict(mixed.routine.evening)
    evening["tuesday"] = ("aha", "retinoid", "moisturizer")
    result = replace(mixed, routine=replace(mixed.routine, evening=evening))
    with pytest.raises(SafetyInvariantError, match="incompatible items on one night: tuesday: aha with retinoid"):
        check_invariants(result, kb)


def test_check_catches_a_left_out_recommendation(kb, mixed):
    from cicatrix.engine.resolve.result import LeftOut

    gone = LeftOut("retinoid", "Retinoid", ("budget",), "costs too much", ("r",), (), (0, 0))
    with pytest.raises(SafetyInvariantError, match=r"^retinoid is both left out and recommended \(in retinoid\)$"):
        check_invariants(replace(mixed, left_out=(gone,)), kb)


def test_a_preference_never_wins_over_safety_and_blocks_combinations():
    proposals = Proposals(
        recommended={"a": proposal("r1"), "b": proposal("r1")},
        combinations={"a+b": proposal("combo", components=("a", "b"))},
        left_out={"b": proposal("too-long")},
    )
    assert allowed(proposals) == ["a"]
    kept, dropped = split_combinations(proposals)
    assert kept == {} and [(d.id, d.reason) for d in dropped] == [("a+b", "left out for your preferences: b")]


def test_left_out_and_avoided_is_listed_as_avoided_only(make_kb):
    from ...helpers import rule

    root = make_kb(
        rule("rec", "[{scar: {type: ice_pick}}]", "- recommend: alpha\n      explain: a")
        + rule("pref", "[{patient: {level: 3}}]", "- leave_out: alpha\n      constraint: level\n      reason: slow")
        + rule("unsafe", "[{patient: {level: 3}}]", "- avoid: alpha\n      reason: harmful")
    )
    result, _ = consult(root, {"scars": [{"type": "ice_pick"}]})
    assert [a.id for a in result.avoid] == ["alpha"] and result.left_out == ()
    assert not result.recommendations


def test_safety_errors_are_assertion_errors():
    # a broken invariant is a bug in the engine, never a user's bad input
    assert issubclass(SafetyInvariantError, AssertionError)


# --- the invariants over generated patients -------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_plan_invariants_over_generated_patients(kb, session, data):
    result = plan(session, from_data(data, kb))
    avoided = {a.id for a in result.avoid}
    left_out = {x.id for x in result.left_out}
    recommended = {r.id for r in result.recommendations}
    singles = {i for i in recommended if "+" not in i}
    # a preference never makes an option a danger, and what is unsafe is never a mere preference
    assert not (left_out & avoided)
    for x in result.left_out:
        assert x.constraints and x.reason and x.rules
    p = result.patient["patient"]
    for r in result.recommendations:
        # nothing avoided or left out is recommended, alone or inside a combination
        assert not ({r.id, *r.components} & (avoided | left_out))
        if r.kind == "combination":
            assert set(r.components) <= recommended
        # every recommendation is explained, attributed and sourced
        assert r.explanation.strip()
        assert r.rules
        assert r.sources
    # nothing planned for visible skin needs more downtime than the person accepts
    # (clothes usually cover the body, where visible downtime does not count)
    for problem in result.plan.problems:
        if problem.region == "body":
            continue
        for option in filter(None, (problem.choice, *problem.alternatives)):
            for part in option.split("+"):
                assert kb.treatments[part].downtime_min <= p["downtime_days"], (problem.title, option)
    if p["pregnant"] or p["trying_to_conceive"] or (p["breastfeeding"] and not p["retinoid_cleared"]):
        assert "retinoid" not in recommended
    if p["skin_sensitivity"] == "very_sensitive" or {"eczema", "rosacea", "broken_skin"} & set(p["conditions"]):
        # home exfoliants and in-office exfoliation are treated alike
        assert not ({"aha", "bha", "lactic_acid", "chemical_peel", "microdermabrasion"} & recommended)
    if p["active_acne"]:
        assert "treat_active_acne" in recommended
        assert not any("defer_with_active_acne" in kb.treatments[i].tags for i in singles)
    if p["pregnant"]:
        assert not any("defer_in_pregnancy" in kb.treatments[i].tags for i in singles)
    for never in ("lemon_juice", "baking_soda"):
        assert never in avoided
    assert "sunscreen" in recommended
    assert result.routine.morning[-1] == "sunscreen"
    assert same_night_violations(result.routine, kb.treatments) == []
    assert result.disclaimer


# --- where facts meet: texts, isotretinoin alerts, keloid safeguards --------------------


def test_avoided_named_finds_a_text_that_names_an_avoided_item(kb, mixed):
    result = mixed
    assert avoided_named(result, kb) == []
    first = result.recommendations[0]
    planted = replace(first, cautions=(*first.cautions, "Use lemon juice on the scars at night."))
    broken = replace(result, recommendations=(planted, *result.recommendations[1:]))
    assert avoided_named(broken, kb) == [f'{first.id} caution: "lemon juice"']
    with pytest.raises(SafetyInvariantError, match="names what the plan avoids"):
        check_invariants(broken, kb)


def test_avoided_named_knows_a_class_by_its_drugs_and_a_longer_name_is_not_a_shorter_one(kb, session):
    # pregnant: the retinoid is avoided, and so is microneedling (deferred); RF
    # microneedling is deferred too, so use a patient where only microneedling is out
    data = {"patient": {"pregnant": True}, "scars": [{"type": "boxcar", "site": "cheeks", "depth": "moderate"}]}
    result = plan(session, from_data(data, kb))
    step = next(iter(result.routine.steps.values()))
    planted = replace(step, how="Tretinoin at night; adapalene is milder.")
    broken = replace(result, routine=replace(result.routine, steps={**result.routine.steps, step.id: planted}))
    assert avoided_named(broken, kb) == [f'{step.id} how: "Tretinoin"', f'{step.id} how: "adapalene"']
    only_mn = replace(result, avoid=tuple(a for a in result.avoid if a.id == "microneedling"))
    rec = result.recommendations[0]
    rf = replace(rec, explanation="RF microneedling heats the skin.")
    assert avoided_named(replace(only_mn, recommendations=(rf,)), kb) == []
    plain = replace(rec, explanation="Microneedling builds collagen.")
    assert avoided_named(replace(only_mn, recommendations=(plain,)), kb) == [f'{rec.id} explanation: "Microneedling"']


def test_a_text_read_before_is_judged_on_the_avoided_items_of_this_plan(kb, mixed, monkeypatch):
    # Texts are scanned once and remembered; what counts as avoided is this plan's.
    from cicatrix.engine.resolve import safety

    monkeypatch.setattr(safety, "_TEXTS_KEPT", 2)  # the memory starts again past two texts
    first = mixed.recommendations[0]
    planted = replace(first, cautions=("Dab lemon juice on each scar.",))
    broken = replace(mixed, recommendations=(planted,))
    expected = [f'{first.id} caution: "lemon juice"']
    assert avoided_named(broken, kb) == expected
    assert avoided_named(broken, kb) == expected  # remembered, and still found
    lemon_kept = replace(broken, avoid=tuple(a for a in broken.avoid if a.id != "lemon_juice"))
    assert avoided_named(lemon_kept, kb) == []  # the same text, nothing avoided in it
    assert len(safety._catalogue_names(kb).seen) <= 2


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_no_recommended_text_names_what_the_plan_avoids(kb, session, data):
    result = plan(session, from_data(data, kb))
    assert avoided_named(result, kb) == []


ISOTRETINOIN_NOW = {"isotretinoin_months_ago": 0}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients, situation=st.sampled_from(["pregnant", "trying_to_conceive", "breastfeeding"]))
def test_isotretinoin_with_pregnancy_conception_or_breastfeeding_is_always_urgent(kb, session, data, situation):
    data = {**data, "patient": {**data["patient"], **ISOTRETINOIN_NOW, situation: True}}
    result = plan(session, from_data(data, kb))
    urgent = [a for a in result.alerts if a.severity == "urgent"]
    assert urgent, "no urgent alert"
    assert any("isotretinoin" in a.text and "prescri" in a.text for a in urgent)
    # and nothing tells a pregnant person there is no reason to delay procedures
    if situation == "pregnant":
        assert not any("no reason to delay" in n for n in result.notes)


PRONE_SITES = {"chest", "shoulders", "back", "jaw"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=patients,
    raised=st.sampled_from(["keloid", "hypertrophic"]),
    prone=st.sampled_from(sorted(PRONE_SITES)),
    other=st.sampled_from(["ice_pick", "boxcar", "rolling", "atrophic"]),
)
def test_a_raised_scar_always_activates_the_keloid_safeguards_on_prone_sites(kb, session, data, raised, prone, other):
    # a raised scar anywhere, and depressed scars on a prone site: no history asked
    patient = {**data["patient"], "keloid_history": False, "family_keloid_history": False}
    scars = [{"type": raised, "site": "cheeks"}, {"type": other, "site": prone, "depth": "deep", "count": 3}]
    result = plan(session, from_data({"patient": patient, "scars": scars}, kb))
    wounding = {t for t, entry in kb.treatments.items() if "keloid_site_risk" in entry.tags}
    assert "subcision" in wounding
    for problem in result.plan.problems:
        if problem.region != "body" and prone != "jaw":
            continue
        items = [result.patient["scars"][i - 1] for i in problem.items]
        if not any(s["site"] == prone for s in items):
            continue
        for option in filter(None, (problem.choice, *problem.alternatives)):
            assert not (set(option.split("+")) & wounding), (problem.title, option)
    for phase in result.plan.course:
        for item in phase.items:
            if item.id in wounding:
                for pid in item.problems:
                    problem = next(p for p in result.plan.problems if p.id == pid)
                    sites = {result.patient["scars"][i - 1]["site"] for i in problem.items}
                    assert prone not in sites, (item.id, problem.title)
