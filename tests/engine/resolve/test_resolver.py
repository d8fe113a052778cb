"""Resolution: from one consultation's firings to the whole plan, entry by entry,
and only from the firings (resolving the same record twice gives the same plan)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings

from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.resolve import resolver
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan, resolve
from cicatrix.engine.resolve.result import Avoidance, DroppedCombination, KbInfo
from cicatrix.engine.session.session import Session

from ...conftest import EXAMPLES, MANIFEST, TREATMENTS
from ...helpers import patients

SOURCES = MANIFEST + "  other.txt: {title: Another source, confidence: low}\n"
TARGETS = "targets: {template: scar, field: type}\n"

EPSILON = """\
  epsilon:
    title: Epsilon
    kind: procedure
    summary: A long-downtime procedure.
    sessions: 3 sessions
    interval: a month apart
    downtime: {min: 2, max: 14}
    results: Smoother in three months.
    evidence: high
    sources: [src.txt]
"""

RULES = """
- id: alpha-for-ice-pick
  title: alpha
  when: [{scar: {type: ice_pick}}]
  then:
    - recommend: alpha
      explain: alpha lifts ice picks.
      targets: [ice_pick, rolling]
  sources: ["src.txt#one"]
- id: alpha-for-boxcar
  title: alpha again
  when: [{scar: {type: boxcar}}]
  then:
    - recommend: alpha
      explain: alpha also suits boxcars.
      tier: second_line
      targets: [boxcar]
  sources: [other.txt, "src.txt#two"]
- id: beta-and-epsilon
  title: beta and epsilon
  when: []
  then:
    - recommend: beta
      explain: beta for texture.
      tier: second_line
      targets: [rolling]
    - recommend: epsilon
      explain: epsilon for depth.
    - combine: [beta, epsilon]
      rationale: beta with epsilon.
      sequence: beta first.
      targets: [boxcar, rolling]
    - combine: [alpha, gamma]
      rationale: alpha with gamma.
    - caution: beta
      text: beta stings.
    - caution: epsilon
      text: epsilon needs a week off.
    - note: A note for everyone.
  sources: ["src.txt#three"]
- id: no-never
  title: never
  when: []
  then: [{avoid: never, reason: never on skin.}]
  sources: [other.txt]
- id: delta-proposed
  title: delta proposed
  when: []
  then: [{recommend: delta, explain: delta helps.}]
  sources: [src.txt]
- id: no-delta
  title: no delta
  salience: -1
  when: [{scar: {type: boxcar}}]
  then: [{avoid: delta, reason: not with boxcars.}]
  sources: ["src.txt#four"]
- id: gamma-cream
  title: gamma
  when: []
  then: [{recommend: gamma, explain: gamma nightly., tier: adjunct}]
  sources: [src.txt]
"""

PATIENT = {"scars": [{"type": "ice_pick"}, {"type": "boxcar"}]}


@pytest.fixture
def small(make_kb):
    """(kb, session, patient) of a small knowledge base whose targets name scar types."""

    def make(manifest: str = SOURCES + TARGETS):
        kb = load(make_kb(RULES, manifest=manifest, treatments=TREATMENTS + EPSILON))
        return kb, Session(kb), from_data(PATIENT, kb)

    return make


def by_id(result):
    return {r.id: r for r in result.recommendations}


def test_a_single_recommendation_takes_its_catalogue_entry_and_its_rules(small):
    _, session, patient = small()
    result = plan(session, patient)
    alpha = by_id(result)["alpha"]
    assert (alpha.title, alpha.kind, alpha.tier) == ("Alpha", "procedure", "first_line")
    fired = [f.rule for f in result.consultation.firings if f.rule.startswith("alpha-")]
    assert alpha.rules == tuple(fired) == ("alpha-for-boxcar", "alpha-for-ice-pick")  # in firing order
    # the explanation puts the best tier's text first, whatever the firing order
    assert alpha.explanation == "alpha lifts ice picks. alpha also suits boxcars."
    assert alpha.downtime_days == (1, 3)
    assert alpha.components == () and alpha.sequence == "" and alpha.cautions == ()
    epsilon = by_id(result)["epsilon"]
    assert epsilon.sessions == "3 sessions a month apart"
    assert epsilon.expected_results == "Smoother in three months." and epsilon.evidence == "high"
    assert epsilon.cautions == ("epsilon needs a week off.",)


def test_sources_are_the_documents_and_citations_keep_the_sections(small):
    _, session, patient = small()
    result = plan(session, patient)
    alpha = by_id(result)["alpha"]
    assert alpha.sources == ("other.txt", "src.txt")
    assert alpha.citations == ("other.txt", "src.txt#one", "src.txt#two")
    assert by_id(result)["gamma"].citations == ("src.txt",)


def test_targets_are_only_those_the_patient_has(small):
    _, session, patient = small()
    recs = by_id(plan(session, patient))
    assert recs["alpha"].targets == ("boxcar", "ice_pick")  # rolling named, but not this patient's
    assert recs["beta"].targets == ()
    assert recs["beta+epsilon"].targets == ("boxcar",)


def test_without_declared_targets_every_named_target_is_kept(small):
    _, session, patient = small(SOURCES)
    recs = by_id(plan(session, patient))
    assert recs["alpha"].targets == ("boxcar", "ice_pick", "rolling")
    assert recs["beta"].targets == ("rolling",)


def test_a_combination(small):
    _, session, patient = small()
    result = plan(session, patient)
    combo = by_id(result)["beta+epsilon"]
    assert (combo.title, combo.kind, combo.components) == ("Beta + Epsilon", "combination", ("beta", "epsilon"))
    assert combo.tier == "first_line" and combo.rules == ("beta-and-epsilon",)
    assert combo.explanation == "beta with epsilon." and combo.sequence == "beta first."
    # the longest of its parts, each bound on its own: beta 5-7 days, epsilon 2-14
    assert combo.downtime_days == (5, 14)
    # what the rules cautioned about its parts comes with it
    assert combo.cautions == ("beta stings.", "epsilon needs a week off.")
    assert combo.citations == ("src.txt#three",)


def test_a_combination_stands_only_with_all_its_parts(small, make_kb):
    _, session, patient = small()
    assert "alpha+gamma" in by_id(plan(session, patient))
    rules = RULES.replace("- id: gamma-cream", "- id: gamma-cream\n  unless: [{scar: {type: boxcar}}]")
    kb = load(make_kb(rules, manifest=SOURCES, treatments=TREATMENTS + EPSILON, name="no-gamma"))
    result = plan(Session(kb), from_data(PATIENT, kb))
    assert "alpha+gamma" not in by_id(result)
    assert DroppedCombination("alpha+gamma", ("beta-and-epsilon",), "not recommended on their own: gamma") in (
        result.dropped
    )


def test_avoidances_follow_the_catalogue_and_name_who_proposed_them(small):
    _, session, patient = small()
    result = plan(session, patient)
    # avoid wins: delta was recommended by a rule, and is not in the plan
    assert "delta" not in by_id(result)
    # "never" was avoided first, but delta comes before it in the catalogue
    assert result.avoid == (
        Avoidance(
            "delta", "Delta", "not with boxcars.", ("no-delta",), ("src.txt",), ("delta-proposed",), ("src.txt#four",)
        ),
        Avoidance("never", "Never", "never on skin.", ("no-never",), ("other.txt",), (), ("other.txt",)),
    )
    assert [f.rule for f in result.consultation.firings].index("no-never") < [
        f.rule for f in result.consultation.firings
    ].index("no-delta")


def test_the_rest_of_the_plan(small):
    kb, session, patient = small()
    result = plan(session, patient)
    assert result.kb == KbInfo("test-kb", "1", kb.digest)
    assert result.patient == patient.normalised
    assert result.notes == ("A note for everyone.",)
    assert result.disclaimer == kb.disclaimer
    assert [r.rank for r in result.recommendations] == list(range(1, len(result.recommendations) + 1))
    # home care goes to the routine
    assert "gamma" in result.routine.steps
    assert set(by_id(result)) == {"alpha", "beta", "epsilon", "gamma", "beta+epsilon", "alpha+gamma"}


def test_plan_is_consult_then_resolve(small):
    kb, session, patient = small()
    result = plan(session, patient)
    consultation = session.consult(patient)
    assert result.consultation == consultation
    assert resolve(kb, patient, consultation) == result


def test_resolving_is_a_function_of_the_consultation(kb, session):
    patient = read(EXAMPLES / "mixed-facial-scars.yaml", kb)
    consultation = session.consult(patient)
    before = copy.deepcopy(consultation)
    first = resolve(kb, patient, consultation)
    session.consult(read(EXAMPLES / "pregnant.yaml", kb))  # the session moves on; the record does not
    second = resolve(kb, patient, consultation)
    assert first == second and first is not second
    assert first.consultation is consultation and second.consultation is consultation
    assert consultation == before  # resolving changed nothing in the record
    assert first.recommendations and first.avoid == second.avoid


def test_every_plan_is_checked_before_it_is_returned(small, monkeypatch):
    kb, session, patient = small()
    checked = []
    monkeypatch.setattr(resolver, "check_invariants", lambda result, kb: checked.append((result, kb)))
    result = plan(session, patient)
    assert checked == [(result, kb)]


def test_a_combination_that_fires_per_item_says_its_reason_once(make_kb):
    """Like a recommendation's, a combination's text gathers the words of every firing."""
    from ...engine.compile.test_compiler import ONE_SCAR
    from ...helpers import consult, rule

    root = make_kb(
        rule("a", "[{scar: {site: $s}}]", "- recommend: alpha\n      explain: alpha on the {$s}.")
        + rule("b", "[{scar: {site: $s}}]", "- recommend: beta\n      explain: beta on the {$s}.")
        + rule("ab", "[{scar: {site: $s}}]", "- combine: [alpha, beta]\n      rationale: both on the {$s}.")
    )
    two_sites = {"scars": [ONE_SCAR["scars"][0], {**ONE_SCAR["scars"][0], "site": "forehead"}]}
    result, _ = consult(root, two_sites)
    texts = {r.id: r.explanation for r in result.recommendations}
    assert texts["alpha"] == "alpha on the forehead and cheeks."
    assert texts["alpha+beta"] == "both on the forehead and cheeks."


def test_alerts_come_urgent_first_with_their_words_gathered(make_kb):
    from ...helpers import ALERT_RULES, TWO_SITES, consult

    result, _ = consult(make_kb(ALERT_RULES), TWO_SITES)
    assert [(a.id, a.severity) for a in result.alerts] == [("stop-now", "urgent"), ("check-site", "warning")]
    assert result.alerts[1].text == "look at the forehead and cheeks first."
    assert result.alerts[1].rules == ("warn",) and result.alerts[1].sources == ("src.txt",)


def test_no_alert_without_a_rule_that_raises_one(make_kb):
    from ...helpers import ALERT_RULES, TWO_SITES, consult

    result, _ = consult(make_kb(ALERT_RULES), {**TWO_SITES, "patient": {"pregnant": False}})
    assert [a.id for a in result.alerts] == ["check-site"]


def test_only_options_some_rule_proposed_are_listed_as_left_out(make_kb):
    from ...helpers import consult, rule

    root = make_kb(
        rule("rec", "[{scar: {type: ice_pick}}]", "- recommend: alpha\n      explain: a")
        + rule("slow-a", "[{patient: {level: 3}}]", "- leave_out: alpha\n      constraint: level\n      reason: slow")
        + rule("slow-b", "[{patient: {level: 3}}]", "- leave_out: beta\n      constraint: level\n      reason: slow")
    )
    result, _ = consult(root, {"scars": [{"type": "ice_pick"}]})
    assert [(x.id, x.constraints, x.reason, x.rules) for x in result.left_out] == [
        ("alpha", ("level",), "slow", ("slow-a",))
    ]
    assert not result.recommendations


# --- the plan, over generated patients of the bundled knowledge base ------------------------


def planned_ids(result) -> dict[str, set[str]]:
    """Every id the plan names, by where it names it."""
    problems = result.plan.problems
    course = [i for ph in result.plan.course for i in ph.items]
    return {
        "choice": {p.choice for p in problems if p.choice},
        "alternatives": {a for p in problems for a in p.alternatives},
        "adjuncts": {a for p in problems for added in p.adjuncts.values() for a in added}
        | {a for i in course for a in i.adjuncts},
        "adjunct keys": {k for p in problems for k in p.adjuncts},
        "course": {i.id for i in course},
        "part_of": {i.part_of for i in course if i.part_of},
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_the_plan_names_only_recommendations_and_nothing_excluded(kb, session, data):
    result = plan(session, from_data(data, kb))
    recommended = {r.id for r in result.recommendations}
    excluded = {a.id for a in result.avoid} | {x.id for x in result.left_out}
    for where, ids in planned_ids(result).items():
        assert ids <= recommended, (where, ids - recommended)
        parts = {part for i in ids for part in i.split("+")}
        assert not parts & excluded, (where, parts & excluded)
    for p in result.plan.problems:
        assert set(p.adjuncts) <= {p.choice, *p.alternatives}, p.title
    # every input scar is in exactly one problem
    count = len(result.patient["scars"])
    assert sorted(i for p in result.plan.problems for i in p.items) == list(range(1, count + 1))


@pytest.fixture(scope="module")
def fresh_session(kb):
    return Session(compile_kb(kb))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_the_json_plan_is_byte_identical_across_runs(kb, session, fresh_session, data):
    first = json.dumps(to_dict(plan(session, from_data(data, kb))), ensure_ascii=False)
    again = json.dumps(to_dict(plan(fresh_session, from_data(copy.deepcopy(data), kb))), ensure_ascii=False)
    assert first == again
    assert json.loads(first)["plan"]["problems"]


def test_also_holds_only_options_that_rest_on_no_scar(kb, session):
    """Options whose rules name other scar types, resting on this patient's scars, are no
    'also' options: the course once ran four resurfacing procedures at once for them."""
    from cicatrix.engine.resolve.roots import roots

    result = plan(session, from_data({"scars": [{"type": "ice_pick", "depth": "shallow", "site": "forehead"}]}, kb))
    firing_roots, _ = roots(result.consultation, "scar")
    for firing in result.consultation.firings:
        for action in firing.actions:
            oid = action.treatment if action.kind == "recommend" else "+".join(action.components)
            if action.kind in ("recommend", "combine") and oid in result.plan.also:
                assert not firing_roots[firing.seq], (oid, firing.rule, "rests on", firing_roots[firing.seq])
    corrective = [
        i.id
        for ph in result.plan.course
        for i in ph.items
        if kb.treatments[i.id].kind == "procedure" and not i.problems
    ]
    assert corrective == []
