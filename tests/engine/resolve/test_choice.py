"""engine/resolve/choice.py: one choice per problem, up to three alternatives, and
the reasons in words.

The order is tier, then a risk caution for this person, then the order plan.yaml
gives for the problem (the first priority entry that matches wins), then how many
rules support an option, then the catalogue. Add-ons fold into what they join
("± add-on") and are never options of their own; an add-on-tier option is never
the choice, nor an alternative beside one; a chosen combination's parts are not
repeated unless first line. When nothing can be chosen, the problem says which
option is best and what rules it out, and which add-ons remain. The finished
plan is checked (safety._check_plan); the last tests check the promises on
generated patients of the bundled knowledge base."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import TIERS
from cicatrix.engine.patient.reader import InputFact, from_data, read
from cicatrix.engine.resolve import resolver
from cicatrix.engine.resolve.choice import MAX_ALTERNATIVES, priority_for
from cicatrix.engine.resolve.problems import Group
from cicatrix.engine.resolve.problems import groups as problem_groups
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.result import RuledOut
from cicatrix.engine.resolve.roots import roots
from cicatrix.engine.resolve.safety import SafetyInvariantError, _check_plan, check_invariants

from ...conftest import EXAMPLES
from ...helpers import consult, patients, replace, rule
from .test_problems import PLAN, plan_kb

PRIORITIES = """
priorities:
  - when: {type: ice_pick, depth: deep}
    order: [beta, alpha, alpha+gamma]
    why: Deep ice picks take beta first.
    sources: [src.txt]
  - when: {type: ice_pick}
    order: [alpha, beta]
    why: Ice picks take alpha first.
    sources: [src.txt]
"""


def recommend(tid: str, kinds: str = "[ice_pick, boxcar]", tier: str = "first_line", text: str = "") -> str:
    return f"- recommend: {tid}\n      tier: {tier}\n      targets: {kinds}\n      explain: {text or tid + ' helps.'}"


def combine(*parts: str, kinds: str = "[ice_pick, boxcar]", tier: str = "first_line") -> str:
    return f"- combine: [{', '.join(parts)}]\n      tier: {tier}\n      targets: {kinds}\n      rationale: together."


def caution(tid: str, text: str, risk: bool) -> str:
    return f"- caution: {tid}\n      risk: {'true' if risk else 'false'}\n      text: {text}"


def for_all(rid: str, *actions: str) -> str:
    """A rule that fires once, on no scar, with these actions."""
    return rule(rid, "[]", "\n    ".join(actions))


@pytest.fixture
def chosen(make_kb):
    """chosen(rules, scars, plan_yaml=...) -> the plan's problems."""
    made = []

    def run(rules: str, scars: list[dict], plan_yaml: str = PLAN + PRIORITIES, patient=None):
        made.append(1)
        root = plan_kb(make_kb, rules, plan_yaml, name=f"kb{len(made)}")
        result, _ = consult(root, {"scars": scars, **({"patient": patient} if patient else {})})
        return result.plan.problems

    return run


DEEP = [{"type": "ice_pick", "depth": "deep"}]
SHALLOW = [{"type": "ice_pick", "depth": "shallow"}]
BOXCAR = [{"type": "boxcar"}]


# --- the priority entry -----------------------------------------------------------------


def group(*values: dict) -> Group:
    facts = tuple(InputFact(f"scar-{i}", "scar", {"site": None, "depth": None, **v}) for i, v in enumerate(values))
    return Group("problem-1", values[0]["type"], "", facts, (1,), "t", None, 1.0)


def test_the_first_priority_entry_that_one_scar_matches_wins(make_kb):
    kb = load(plan_kb(make_kb, for_all("a", recommend("alpha")), PLAN + PRIORITIES))
    deep, general = kb.plan.priorities
    assert priority_for(kb, group({"type": "ice_pick", "depth": "deep"})) is deep
    assert priority_for(kb, group({"type": "ice_pick", "depth": "shallow"})) is general
    assert priority_for(kb, group({"type": "ice_pick"})) is general
    # one deep scar among shallow ones is enough, whatever its place
    assert priority_for(kb, group({"type": "ice_pick"}, {"type": "ice_pick", "depth": "deep"})) is deep
    assert priority_for(kb, group({"type": "boxcar", "depth": "deep"})) is None


def test_bundled_priorities_follow_the_sources(kb):
    def first(**values):
        entry = priority_for(kb, group(values))
        return entry.order[0] if entry else None

    assert first(type="ice_pick", depth="deep") == "tca_cross"
    assert first(type="boxcar", depth="deep", floor="normal") == "punch_elevation+ablative_fractional_laser"
    assert first(type="boxcar", depth="deep", floor="scarred") == "punch_excision"
    assert first(type="rolling") == "subcision"
    assert first(type="atrophic", depth="shallow") == "rf_microneedling"
    assert first(type="keloid") == "intralesional_steroid+silicone_gel"


# --- the order: tier, risk, the sources' order, support, the catalogue ----------------------


def test_the_sources_order_beats_the_number_of_supporting_rules(chosen):
    rules = for_all("a1", recommend("alpha")) + for_all("a2", recommend("alpha")) + for_all("b", recommend("beta"))
    (problem,) = chosen(rules, DEEP)
    assert (problem.choice, problem.alternatives) == ("beta", ("alpha",))
    assert problem.why == (
        "Beta: beta helps. Deep ice picks take beta first. Chosen over Alpha (ranked after Beta by the sources)."
    )
    assert problem.rules == ("b",) and problem.sources == ("src.txt",)
    # the general entry puts alpha first for ice picks that are not deep
    (problem,) = chosen(rules, SHALLOW)
    assert (problem.choice, problem.alternatives) == ("alpha", ("beta",))
    assert problem.why.endswith("Ice picks take alpha first. Chosen over Beta (ranked after Alpha by the sources).")


def test_options_the_order_does_not_list_follow_those_it_does(chosen):
    rules = (
        for_all("g1", recommend("gamma"))
        + for_all("g2", recommend("gamma"))
        + for_all("a", recommend("alpha"))
        + for_all("b", recommend("beta"))
    )
    (problem,) = chosen(rules, DEEP)
    assert (problem.choice, problem.alternatives) == ("beta", ("alpha", "gamma"))


def test_without_a_priority_support_then_the_catalogue_decides(chosen):
    rules = for_all("d", recommend("delta")) + for_all("g1", recommend("gamma")) + for_all("g2", recommend("gamma"))
    rules += for_all("b", recommend("beta"))
    (problem,) = chosen(rules, BOXCAR)
    assert (problem.choice, problem.alternatives) == ("gamma", ("beta", "delta"))
    assert problem.why == "Gamma: gamma helps. Chosen over Beta and Delta (fewer rules support it)."


def test_tier_comes_before_the_sources_order(chosen):
    rules = for_all("a", recommend("alpha")) + for_all("b", recommend("beta", tier="second_line"))
    (problem,) = chosen(rules, DEEP)
    assert (problem.choice, problem.alternatives) == ("alpha", ("beta",))
    assert problem.why.endswith("Chosen over Beta (a second-line option here).")


def test_a_risk_caution_demotes_an_option_and_a_plain_caution_does_not(chosen):
    options = for_all("a", recommend("alpha")) + for_all("b", recommend("beta"))
    risky = for_all("r", caution("beta", "Beta bruises people on blood thinners. Ask first.", risk=True))
    (problem,) = chosen(options + risky, DEEP)
    assert (problem.choice, problem.alternatives) == ("alpha", ("beta",))
    assert problem.why.endswith("Chosen over Beta (a risk for you: beta bruises people on blood thinners).")
    plain = for_all("p", caution("beta", "Beta stings a little.", risk=False))
    (problem,) = chosen(options + plain, DEEP)
    assert (problem.choice, problem.alternatives) == ("beta", ("alpha",))


def test_a_risk_caution_never_outweighs_the_tier(chosen):
    rules = for_all("a", recommend("alpha", tier="second_line")) + for_all("b", recommend("beta"))
    rules += for_all("r", caution("beta", "A risk.", risk=True))
    (problem,) = chosen(rules, DEEP)
    assert problem.choice == "beta"


def test_a_risk_caution_on_a_part_demotes_the_combination(chosen):
    rules = for_all("a", recommend("alpha"), recommend("gamma"), combine("alpha", "gamma"))
    rules += for_all("b", recommend("beta")) + for_all("r", caution("gamma", "A risk.", risk=True))
    plan_yaml = PLAN + PRIORITIES.replace("[beta, alpha, alpha+gamma]", "[alpha+gamma, beta, alpha]")
    (problem,) = chosen(rules, DEEP, plan_yaml)
    assert problem.choice == "beta"
    assert problem.alternatives[0] == "alpha"


# --- add-ons, combinations and alternatives ------------------------------------------------

ADJUNCTS = "adjuncts:\n  delta: [alpha, beta]\n"


def test_an_add_on_folds_into_what_it_joins(chosen):
    rules = for_all("r", recommend("alpha"), recommend("delta"), combine("alpha", "delta"))
    (problem,) = chosen(rules, DEEP, PLAN + PRIORITIES + ADJUNCTS)
    assert (problem.choice, problem.alternatives) == ("alpha", ())
    assert problem.adjuncts == {"alpha": ("delta",)}
    assert problem.why.startswith("Alpha ± Delta: alpha helps.")


def test_base_and_add_on_fold_into_the_base_even_when_only_the_pair_targets_the_problem(chosen):
    # alpha alone is proposed for boxcar scars only; alpha + delta also for ice pick ones:
    # the ice pick problem still gets "Alpha ± Delta", on the pair's own case for it
    rules = for_all(
        "r", recommend("alpha", kinds="[boxcar]"), recommend("delta"), combine("alpha", "delta", tier="second_line")
    )
    (problem,) = chosen(rules, DEEP, PLAN + PRIORITIES + ADJUNCTS)
    assert (problem.choice, problem.adjuncts) == ("alpha", {"alpha": ("delta",)})
    assert problem.why.startswith("Alpha ± Delta: together.")
    # where alpha is not in the plan at all, nothing folds into it and the pair is no option
    rules = for_all("r", recommend("delta"), combine("alpha", "delta"))
    (problem,) = chosen(rules, DEEP, PLAN + PRIORITIES + ADJUNCTS)
    assert problem.choice is None


def test_an_add_on_alone_is_never_an_option(chosen):
    (problem,) = chosen(for_all("r", recommend("delta")), DEEP, PLAN + PRIORITIES + ADJUNCTS)
    assert (problem.choice, problem.alternatives, problem.adjuncts) == (None, (), {})


def test_an_add_on_that_is_avoided_is_not_offered(chosen):
    rules = for_all("r", recommend("alpha"), recommend("delta")) + rule(
        "no-delta", "[]", "- avoid: delta\n      reason: no."
    )
    (problem,) = chosen(rules, DEEP, PLAN + PRIORITIES + ADJUNCTS)
    assert (problem.choice, problem.adjuncts) == ("alpha", {})


def test_an_add_on_tier_option_is_never_the_choice(chosen):
    rules = for_all("r", recommend("alpha", tier="adjunct"), recommend("beta", tier="adjunct"))
    (problem,) = chosen(rules, DEEP)
    assert (problem.choice, problem.alternatives) == (None, ("beta", "alpha"))
    assert problem.why == (
        "Nothing corrective is proposed for these; only add-ons remain, which support but do not correct"
        " on their own: Beta and Alpha."
    )
    # with a second-line option beside it, that one is chosen, against the sources' order, and
    # the add-ons, which support a treatment, are no alternatives to it
    (problem,) = chosen(rules + for_all("g", recommend("gamma", tier="second_line")), DEEP)
    assert (problem.choice, problem.alternatives) == ("gamma", ())


def test_at_most_three_alternatives_in_rank_order(chosen):
    rules = for_all("r", *(recommend(t) for t in ("delta", "gamma", "beta", "alpha")), combine("alpha", "gamma"))
    (problem,) = chosen(rules, DEEP)
    assert MAX_ALTERNATIVES == 3
    assert (problem.choice, problem.alternatives) == ("beta", ("alpha", "alpha+gamma", "gamma"))


def test_a_chosen_combinations_parts_are_not_repeated_unless_first_line(chosen):
    rules = for_all("r", recommend("alpha"), recommend("gamma", tier="second_line"), combine("alpha", "gamma"))
    plan_yaml = PLAN + PRIORITIES.replace("[beta, alpha, alpha+gamma]", "[alpha+gamma, alpha, gamma]")
    (problem,) = chosen(rules, DEEP, plan_yaml)
    assert problem.choice == "alpha+gamma"
    assert problem.alternatives == ("alpha",)  # first line on its own; gamma is only second line


def test_the_choice_plus_what_other_problems_get_is_no_alternative(chosen):
    rules = for_all("a", recommend("alpha", kinds="[boxcar]"), combine("alpha", "beta", kinds="[boxcar]"))
    rules += for_all("b", recommend("beta", kinds="[ice_pick]"))
    problems = chosen(rules, [*DEEP, *BOXCAR])
    assert [(p.kind, p.choice, p.alternatives) for p in problems] == [("ice_pick", "beta", ()), ("boxcar", "alpha", ())]
    (alone,) = chosen(rules, BOXCAR)
    assert (alone.choice, alone.alternatives) == ("alpha", ("alpha+beta",))


# --- what is ruled out, and why nothing is chosen --------------------------------------------

RULED_OUT = (
    for_all("r", recommend("alpha"), recommend("beta"), recommend("gamma"))
    + rule("no-alpha", "[]", "- avoid: alpha\n      reason: alpha harms you.")
    + rule("slow-beta", "[]", "- leave_out: beta\n      constraint: level\n      reason: beta takes too long.")
)


def test_the_choice_says_what_would_have_come_first(chosen):
    (problem,) = chosen(RULED_OUT, DEEP)
    # beta, then alpha would come first; beta is left out, alpha avoided; gamma remains
    assert problem.choice == "gamma"
    assert problem.why == (
        "Gamma: gamma helps. Deep ice picks take beta first."
        " Beta would come first but is left out for your preferences: beta takes too long."
    )
    assert [(x.id, x.kind, x.reason, x.rules) for x in problem.ruled_out] == [
        ("alpha", "avoid", "alpha harms you.", ("no-alpha",)),  # avoided first, then the catalogue's order
        ("beta", "left_out", "beta takes too long.", ("slow-beta",)),
    ]
    (problem,) = chosen(RULED_OUT, SHALLOW)
    assert problem.why.endswith(" Alpha would come first but is not an option now: alpha harms you.")


def test_with_nothing_chosen_the_best_option_and_what_it_needs_are_named(chosen):
    rules = RULED_OUT.replace("recommend: gamma", "recommend: alpha")
    (problem,) = chosen(rules, DEEP)
    assert (problem.choice, problem.alternatives, problem.rules) == (None, (), ())
    # what a preference rules out is named before what is unsafe: it can change
    assert (
        problem.why == "Nothing fits your preferences for now. The best option, Beta, is left out: beta takes too long."
    )
    unsafe = for_all("r", recommend("alpha")) + rule("no-alpha", "[]", "- avoid: alpha\n      reason: alpha harms you.")
    (problem,) = chosen(unsafe, DEEP)
    assert problem.why == "Nothing is planned for now. The best option, Alpha, is not an option now: alpha harms you."
    # and says which add-ons remain
    (problem,) = chosen(unsafe + for_all("b", recommend("beta", tier="adjunct")), DEEP)
    assert problem.why == (
        "Nothing is planned for now. The best option, Alpha, is not an option now: alpha harms you. Meanwhile only"
        " add-ons remain, which support but do not correct on their own: Beta."
    )
    (problem,) = chosen(for_all("r", recommend("alpha", kinds="[rolling]")), DEEP)
    assert problem.why == "No option in the knowledge base fits these."


# --- on the bundled knowledge base ----------------------------------------------------------


def bundled(session, kb, **data):
    return plan(session, from_data(data, kb)).plan.problems


def test_bundled_choices_for_each_kind_of_scar(kb, session):
    problems = bundled(
        session,
        kb,
        patient={"downtime_days": 14},
        scars=[
            {"type": "ice_pick", "depth": "deep", "site": "cheeks"},
            {"type": "boxcar", "depth": "deep", "floor": "normal", "site": "forehead"},
            {"type": "rolling", "depth": "moderate", "site": "back"},
        ],
    )
    assert {p.kind: p.choice for p in problems} == {
        "ice_pick": "tca_cross",
        "boxcar": "punch_elevation+ablative_fractional_laser",
        "rolling": "subcision",
    }
    by_kind = {p.kind: p for p in problems}
    assert by_kind["rolling"].adjuncts["subcision"] == ("prp",)  # PRP rides along, never an option alone
    assert "prp" not in by_kind["rolling"].alternatives
    # a raised scar is planned apart: it shows a keloid tendency, which would change
    # the choices above (no wounding on the back, a risk caution on ablative lasers)
    (raised,) = bundled(session, kb, patient={"downtime_days": 14}, scars=[{"type": "hypertrophic", "site": "chest"}])
    assert raised.choice == "intralesional_steroid+silicone_gel"
    assert raised.adjuncts["intralesional_steroid+silicone_gel"] == ("intralesional_5fu",)
    assert "intralesional_5fu" not in raised.alternatives  # never on its own


def test_bundled_a_raised_scar_keeps_wounding_off_prone_sites(kb, session):
    problems = bundled(
        session,
        kb,
        patient={"downtime_days": 14},
        scars=[{"type": "rolling", "depth": "moderate", "site": "back"}, {"type": "hypertrophic", "site": "chest"}],
    )
    rolling = next(p for p in problems if p.kind == "rolling")
    assert "subcision" in {x.id for x in rolling.ruled_out}
    assert rolling.choice is not None and "subcision" not in rolling.choice


def test_bundled_risk_for_this_person_demotes_bleeding_options(kb, session):
    rolling = [{"type": "rolling", "depth": "moderate", "site": "cheeks"}]
    (plain,) = bundled(session, kb, patient={"downtime_days": 14}, scars=rolling)
    (thinned,) = bundled(session, kb, patient={"downtime_days": 14, "anticoagulants": True}, scars=rolling)
    assert plain.choice == "subcision"
    assert thinned.choice != "subcision" and "subcision" in thinned.alternatives
    assert "(a risk for you: on an anticoagulant, expect more bruising and bleeding" in thinned.why


def test_bundled_add_ons_are_never_part_of_a_planned_option(kb, session):
    (problem,) = bundled(session, kb, scars=[{"type": "ice_pick", "depth": "shallow", "site": "forehead"}])
    for option in filter(None, (problem.choice, *problem.alternatives)):
        assert not set(option.split("+")) & set(kb.plan.adjuncts), option


def test_bundled_choice_waits_when_every_option_is_ruled_out(kb, session):
    (problem,) = bundled(session, kb, patient={"pregnant": True}, scars=DEEP)
    assert problem.choice is None and problem.alternatives == ()
    assert problem.why.startswith(
        "Nothing is planned for now. The best option, TCA CROSS, is not an option now: You are pregnant"
    )
    assert {x.kind for x in problem.ruled_out} == {"avoid"}


# --- the finished plan is checked ------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(kb, session):
    result = plan(session, read(EXAMPLES / "mixed-facial-scars.yaml", kb))
    assert result.plan.problems[0].choice == "tca_cross"
    return result


def with_problem(result, **changes):
    first = replace(result.plan.problems[0], **changes)
    return replace(result, plan=replace(result.plan, problems=(first, *result.plan.problems[1:])))


def check(result, kb):
    excluded = {a.id for a in result.avoid} | {x.id for x in result.left_out}
    _check_plan(result, kb, {r.id for r in result.recommendations}, excluded)


def test_a_real_plan_passes_the_plan_check(kb, mixed):
    check(mixed, kb)
    check_invariants(mixed, kb)


def test_the_check_catches_a_plan_naming_what_is_not_recommended(kb, mixed):
    broken = with_problem(mixed, alternatives=("dermabrasion",))
    with pytest.raises(SafetyInvariantError, match=r"^problem-1 plans dermabrasion, which is not recommended$"):
        check(broken, kb)
    with pytest.raises(SafetyInvariantError, match="plans lemon_juice, which is not recommended"):
        check(with_problem(mixed, choice="lemon_juice"), kb)
    with pytest.raises(SafetyInvariantError, match="plans medium_deep_peel, which is not recommended"):
        check(with_problem(mixed, adjuncts={"tca_cross": ("medium_deep_peel",)}), kb)


def test_the_check_catches_a_plan_naming_what_is_ruled_out_for_the_problem(kb, mixed):
    out = RuledOut("tca_cross", "TCA CROSS", "avoid", "planted", ("planted",))
    broken = with_problem(mixed, ruled_out=(out,))
    with pytest.raises(SafetyInvariantError, match=r"^problem-1 plans tca_cross, but tca_cross is ruled out$"):
        check(broken, kb)
    # a part of a combination counts too
    microneedling = RuledOut("microneedling", "Microneedling", "left_out", "planted", ("planted",))
    combined = with_problem(mixed, alternatives=("tca_cross+microneedling",), ruled_out=(microneedling,))
    with pytest.raises(SafetyInvariantError, match="plans tca_cross\\+microneedling, but microneedling is ruled out"):
        check(combined, kb)


def test_the_check_catches_a_plan_naming_what_is_excluded_everywhere(kb, mixed):
    recommended = {r.id for r in mixed.recommendations}
    with pytest.raises(SafetyInvariantError, match="plans tca_cross, but tca_cross is ruled out"):
        _check_plan(mixed, kb, recommended, {"tca_cross"})
    with pytest.raises(SafetyInvariantError, match=r"plans prp, but prp is ruled out$"):
        _check_plan(mixed, kb, recommended, {"prp"})


# --- the promises, over generated patients of the bundled knowledge base ---------------------


def options_by_problem(kb, result, patient):
    """problem id -> option id -> Option, as resolution saw them (to read each option's tier)."""
    firing_roots, fact_roots = roots(result.consultation, kb.targets[0])
    found = problem_groups(kb, patient.facts, result.consultation, fact_roots)
    return resolver._standing(kb, result.consultation, firing_roots, found)[2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_each_problem_has_a_sound_choice_and_few_alternatives(kb, session, data):
    patient = from_data(data, kb)
    result = plan(session, patient)
    options = options_by_problem(kb, result, patient)
    for p in result.plan.problems:
        assert len(p.alternatives) <= MAX_ALTERNATIVES, p.title
        assert len(set(p.alternatives)) == len(p.alternatives) and p.choice not in p.alternatives
        if p.choice is None:
            assert p.why and not p.rules
            continue
        # the choice is an option some rule proposed for this problem, never an add-on tier one
        assert options[p.id][p.choice].tier != TIERS[-1], (p.title, p.choice)
        assert p.choice not in kb.plan.adjuncts, (p.title, p.choice)
        assert p.rules and p.why.startswith(kb.treatments[p.choice.split("+")[0]].name)
        for option in (p.choice, *p.alternatives):
            assert option in options[p.id], (p.title, option)
