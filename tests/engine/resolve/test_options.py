"""engine/resolve/options.py: what each problem could be treated with, and what is
ruled out for it only.

An option reaches a problem when its rule names the problem's kind among its
targets and its firing rests on the problem's scars (or on none). A scoped
avoid or leave_out rules a treatment out for the problems whose scars match its
scope; where that leaves the treatment no problem, it is ruled out outright, and
what depended on it falls (a combination, an add-on, and in turn whatever that
leaves nowhere). The last test checks the promise on generated patients."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import InputFact, from_data
from cicatrix.engine.resolve.options import Exclusion, Option, excluded_for, outright, proposed, scoped
from cicatrix.engine.resolve.problems import Group
from cicatrix.engine.resolve.problems import groups as problem_groups
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.roots import roots
from cicatrix.engine.resolve.support import supported_firings
from cicatrix.engine.session.records import ActionRecord
from cicatrix.engine.session.session import Session

from ...helpers import consult, patients, rule
from .test_problems import PLAN_TREATMENTS, plan_kb, procedure

REACH = """
- id: alpha-per-scar
  title: alpha for each ice pick scar
  when: [{scar: {type: ice_pick}}]
  then:
    - recommend: alpha
      tier: second_line
      explain: alpha for ice picks.
      targets: [ice_pick]
    - combine: [alpha, beta]
      rationale: both.
      targets: [ice_pick]
  sources: [src.txt]
- id: alpha-on-the-back
  title: alpha is first line on the back
  when: [{scar: {type: ice_pick, site: back}}]
  then:
    - recommend: alpha
      explain: alpha on the back.
      targets: [ice_pick]
  sources: [src.txt]
- id: beta-for-everyone
  title: beta for every ice pick and boxcar problem
  when: [{patient: {level: 3}}]
  then:
    - recommend: beta
      explain: beta for all.
      targets: [ice_pick, boxcar]
  sources: [src.txt]
- id: gamma-elsewhere
  title: gamma, named for boxcars, from an ice pick scar
  when: [{scar: {type: ice_pick}}]
  then:
    - recommend: gamma
      explain: gamma.
      targets: [boxcar]
  sources: [src.txt]
- id: cream
  title: a cream is never an option
  when: [{scar: {type: ice_pick}}]
  then:
    - recommend: cream
      explain: a cream.
      targets: [ice_pick]
  sources: [src.txt]
"""

CREAM = procedure("cream", kind="home_care", course="{phase: work}")

THREE_SCARS = {
    "scars": [{"type": "ice_pick", "site": "cheeks"}, {"type": "ice_pick", "site": "back"}, {"type": "boxcar"}]
}


def options_of(kb, data):
    """(groups, problem id -> option id -> Option) as the standing firings propose them."""
    patient = from_data(data, kb)
    record = Session(kb).consult(patient)
    firing_roots, fact_roots = roots(record, "scar")
    found = problem_groups(kb, patient.facts, record, fact_roots)
    return found, proposed(kb, record, supported_firings(record), firing_roots, found)


def test_an_option_reaches_the_problems_its_firing_rests_on(make_kb):
    kb = load(plan_kb(make_kb, REACH, treatments=PLAN_TREATMENTS + CREAM))
    found, options = options_of(kb, THREE_SCARS)
    assert [(g.id, g.kind, g.region) for g in found] == [
        ("problem-1", "ice_pick", "face"),
        ("problem-2", "ice_pick", "body"),
        ("problem-3", "boxcar", "face"),
    ]
    # beta rests on no scar, so it speaks for every problem of the kinds it names; gamma names
    # boxcars but rests on ice pick scars, so it reaches no problem; a cream is never an option
    assert {pid: sorted(found) for pid, found in options.items()} == {
        "problem-1": ["alpha", "alpha+beta", "beta"],
        "problem-2": ["alpha", "alpha+beta", "beta"],
        "problem-3": ["beta"],
    }
    face, back = options["problem-1"], options["problem-2"]
    # the tier is the best any firing gave for this problem
    assert (face["alpha"].tier, back["alpha"].tier) == ("second_line", "first_line")
    assert face["alpha"].rules == ["alpha-per-scar"]
    assert sorted(back["alpha"].rules) == ["alpha-on-the-back", "alpha-per-scar"]
    assert [a.text for a in back["alpha"].texts if a.tier == "first_line"] == ["alpha on the back."]
    assert face["alpha+beta"].components == ("alpha", "beta") and face["alpha+beta"].tier == "first_line"


def test_only_standing_firings_propose(make_kb):
    kb = load(plan_kb(make_kb, REACH, treatments=PLAN_TREATMENTS + CREAM))
    patient = from_data(THREE_SCARS, kb)
    record = Session(kb).consult(patient)
    firing_roots, fact_roots = roots(record, "scar")
    found = problem_groups(kb, patient.facts, record, fact_roots)
    beta = {f.seq for f in record.firings if f.rule == "beta-for-everyone"}
    valid = {f.seq for f in record.firings} - beta
    options = proposed(kb, record, valid, firing_roots, found)
    assert options["problem-3"] == {} and "beta" not in options["problem-1"]


# --- scoped exclusions ----------------------------------------------------------------

SCOPED = """
- id: alpha-and-beta
  title: alpha, beta and both for everyone
  when: []
  then:
    - recommend: alpha
      explain: alpha.
      targets: [ice_pick, boxcar]
    - recommend: beta
      explain: beta.
      targets: [ice_pick, boxcar]
    - combine: [alpha, beta]
      rationale: both.
      targets: [ice_pick, boxcar]
  sources: [src.txt]
- id: delta-with-alpha
  title: an add-on that reacts to alpha
  when: [{recommend: {treatment: alpha}}]
  then:
    - recommend: delta
      tier: adjunct
      explain: delta rides along with alpha.
      targets: [ice_pick, boxcar]
  sources: [src.txt]
"""
NO_ALPHA_ON_CHEEKS = """
- id: no-alpha-on-cheeks
  title: no alpha on the cheeks
  when: [{scar: {site: cheeks}}]
  then:
    - avoid: alpha
      scope: {site: cheeks}
      reason: not on the cheeks.
  sources: [src.txt]
"""
SCOPED += NO_ALPHA_ON_CHEEKS


@pytest.fixture
def scoped_kb(make_kb):
    return plan_kb(make_kb, SCOPED)


def test_a_scoped_avoid_covers_only_problems_whose_scars_match(scoped_kb):
    result, _ = consult(
        scoped_kb, {"scars": [{"type": "ice_pick", "site": "cheeks"}, {"type": "ice_pick", "site": "back"}]}
    )
    face, body = result.plan.problems
    assert (face.region, body.region) == ("face", "body")
    assert [(x.id, x.kind, x.reason, x.rules) for x in face.ruled_out] == [
        ("alpha", "avoid", "not on the cheeks.", ("no-alpha-on-cheeks",))
    ]
    assert face.choice == "beta" and "alpha" not in face.alternatives and "alpha+beta" not in face.alternatives
    assert body.ruled_out == () and body.choice == "alpha"
    # alpha still serves the body, so it stays in the plan, and so does what reacted to it
    ids = {r.id for r in result.recommendations}
    assert {"alpha", "alpha+beta", "delta"} <= ids
    assert result.avoid == ()
    # a problem with scars on and off the scope is covered as a whole
    mixed, _ = consult(scoped_kb, {"scars": [{"type": "ice_pick", "site": "cheeks"}, {"type": "ice_pick"}]})
    assert [x.id for x in mixed.plan.problems[0].ruled_out] == ["alpha"]


def test_a_treatment_a_scoped_avoid_leaves_no_problem_is_avoided_outright(scoped_kb):
    result, _ = consult(
        scoped_kb, {"scars": [{"type": "ice_pick", "site": "cheeks"}, {"type": "boxcar", "site": "cheeks"}]}
    )
    assert [(a.id, a.reason, a.rules, a.proposed_by) for a in result.avoid] == [
        ("alpha", "not on the cheeks.", ("no-alpha-on-cheeks",), ("alpha-and-beta",))
    ]
    ids = {r.id for r in result.recommendations}
    assert "alpha" not in ids
    # what depended on it falls: the combination, and the add-on that reacted to it
    assert "alpha+beta" not in ids and "delta" not in ids
    assert [(d.id, d.reason) for d in result.dropped] == [("alpha+beta", "avoided for this patient: alpha")]
    assert [p.choice for p in result.plan.problems] == ["beta", "beta"]


CHAIN = """
- id: alpha-for-ice-pick
  title: alpha for ice picks
  when: [{scar: {type: ice_pick}}]
  then: [{recommend: alpha, explain: alpha., targets: [ice_pick]}]
  sources: [src.txt]
- id: gamma-with-alpha
  title: gamma for ice picks, when alpha is recommended
  when: [{recommend: {treatment: alpha}}]
  then: [{recommend: gamma, explain: gamma with alpha., targets: [ice_pick]}]
  sources: [src.txt]
- id: gamma-for-boxcar
  title: gamma for boxcars
  when: [{scar: {type: boxcar}}]
  then: [{recommend: gamma, explain: gamma., targets: [boxcar]}]
  sources: [src.txt]
- id: beta-for-all
  title: beta for all
  when: []
  then: [{recommend: beta, explain: beta., targets: [ice_pick, boxcar]}]
  sources: [src.txt]
- id: no-alpha-on-cheeks
  title: no alpha on the cheeks
  when: [{scar: {site: cheeks}}]
  then: [{avoid: alpha, scope: {site: cheeks}, reason: not on the cheeks.}]
  sources: [src.txt]
- id: no-gamma-on-the-back
  title: no gamma on the back
  when: [{scar: {site: back}}]
  then: [{avoid: gamma, scope: {site: back}, reason: not on the back.}]
  sources: [src.txt]
"""


def test_ruling_out_outright_repeats_until_nothing_more_falls(make_kb):
    # alpha serves only the cheeks, where it is avoided: out. gamma then serves the ice pick
    # scars no longer (it came with alpha), only the boxcars on the back, where it is avoided: out.
    root = plan_kb(make_kb, CHAIN)
    result, _ = consult(root, {"scars": [{"type": "ice_pick", "site": "cheeks"}, {"type": "boxcar", "site": "back"}]})
    assert [(a.id, a.reason) for a in result.avoid] == [("alpha", "not on the cheeks."), ("gamma", "not on the back.")]
    assert [r.id for r in result.recommendations] == ["beta"]
    assert [(p.kind, p.choice) for p in result.plan.problems] == [("ice_pick", "beta"), ("boxcar", "beta")]
    # with ice pick scars off the cheeks, alpha stands, gamma with it, and gamma keeps its place there
    kept, _ = consult(root, {"scars": [{"type": "ice_pick", "site": "nose"}, {"type": "boxcar", "site": "back"}]})
    assert kept.avoid == ()
    ice_pick, boxcar = kept.plan.problems
    assert ice_pick.choice == "alpha" and "gamma" in ice_pick.alternatives
    assert [x.id for x in boxcar.ruled_out] == ["gamma"]


LEAVE_OUT = """
- id: alpha-and-beta
  title: alpha and beta
  when: []
  then:
    - recommend: alpha
      explain: alpha.
      targets: [ice_pick]
    - recommend: beta
      explain: beta.
      targets: [ice_pick]
  sources: [src.txt]
"""
SLOW_ALPHA = """
- id: slow-alpha
  title: alpha takes too long on the face
  when: [{scar: {site: $s}}]
  then:
    - leave_out: alpha
      scope: {site: $s}
      constraint: level
      reason: too slow on the {$s}.
  sources: [src.txt]
"""
LEAVE_OUT += SLOW_ALPHA


def test_a_scoped_leave_out_that_leaves_no_problem_is_left_out_outright(make_kb):
    root = plan_kb(make_kb, LEAVE_OUT)
    result, _ = consult(root, {"scars": [{"type": "ice_pick", "site": "cheeks"}]})
    assert result.avoid == ()
    assert [(x.id, x.constraints, x.reason, x.rules) for x in result.left_out] == [
        ("alpha", ("level",), "too slow on the cheeks.", ("slow-alpha",))
    ]
    assert [r.id for r in result.recommendations] == ["beta"]
    (problem,) = result.plan.problems
    assert [(x.id, x.kind) for x in problem.ruled_out] == [("alpha", "left_out")]
    assert problem.choice == "beta"


def test_avoid_outweighs_leave_out_among_scoped_exclusions(make_kb):
    result, _ = consult(
        plan_kb(make_kb, LEAVE_OUT + NO_ALPHA_ON_CHEEKS), {"scars": [{"type": "ice_pick", "site": "cheeks"}]}
    )
    assert [a.id for a in result.avoid] == ["alpha"] and result.left_out == ()
    assert result.avoid[0].reason == "not on the cheeks."  # the safety reason, not the preference's
    assert [(x.id, x.kind) for x in result.plan.problems[0].ruled_out] == [("alpha", "avoid")]


# --- the helpers on hand-built groups --------------------------------------------------


def group(gid: str, *sites: str | None, kind: str = "ice_pick") -> Group:
    facts = tuple(InputFact(f"{gid}-{i}", "scar", {"type": kind, "site": s}) for i, s in enumerate(sites))
    return Group(gid, kind, "", facts, tuple(range(1, len(sites) + 1)), gid, None, 1.0)


def exclusion(tid: str, kind: str = "avoid", **scope) -> Exclusion:
    return Exclusion(tid, kind, f"no-{tid}", ActionRecord(kind, tid, "no", scope=scope))


def test_an_exclusion_covers_a_group_when_one_item_matches_its_whole_scope():
    e = exclusion("alpha", site="cheeks", type="ice_pick")
    assert e.covers(group("a", "nose", "cheeks"))
    assert not e.covers(group("b", "nose"))
    assert not e.covers(group("c", "cheeks", kind="boxcar"))
    assert exclusion("alpha", site=None).covers(group("d", None))
    covering = exclusion("beta", site="nose")
    assert excluded_for(group("e", "nose"), [e, covering, exclusion("beta", kind="leave_out", site="nose")]) == {
        "beta": [covering, exclusion("beta", kind="leave_out", site="nose")]
    }


def test_outright_is_where_no_problem_can_use_the_treatment():
    cheeks, nose = group("p1", "cheeks"), group("p2", "nose")
    options = {
        "p1": {"alpha": Option("alpha", ("alpha",), "first_line")},
        "p2": {"beta+alpha": Option("beta+alpha", ("beta", "alpha"), "first_line")},
    }
    on_cheeks = exclusion("alpha", site="cheeks")
    # alpha is still usable on the nose, inside a combination
    assert outright([on_cheeks], [cheeks, nose], options) == {}
    on_nose = exclusion("alpha", kind="leave_out", site="nose")
    assert outright([on_cheeks, on_nose], [cheeks, nose], options) == {"alpha": [on_cheeks, on_nose]}
    # a treatment that is an option nowhere has no problem left to serve
    gamma = exclusion("gamma", site="cheeks")
    assert outright([gamma], [cheeks, nose], options) == {"gamma": [gamma]}


def test_scoped_lists_only_standing_scoped_exclusions(make_kb):
    unscoped = rule("no-gamma", "[]", "- avoid: gamma\n      reason: never.")
    kb = load(plan_kb(make_kb, SCOPED + SLOW_ALPHA + unscoped))
    record = Session(kb).consult(from_data({"scars": [{"type": "ice_pick", "site": "cheeks"}]}, kb))
    found = scoped(record, supported_firings(record))
    assert [(e.treatment, e.kind, e.rule, e.action.scope) for e in found] == [
        ("alpha", "avoid", "no-alpha-on-cheeks", {"site": "cheeks"}),
        ("alpha", "leave_out", "slow-alpha", {"site": "cheeks"}),
    ]
    assert scoped(record, set()) == []


# --- on the bundled knowledge base ----------------------------------------------------------


def test_downtime_counts_only_for_visible_skin(kb, session):
    """The bundled downtime rule leaves options out for scars on the face only."""
    data = {
        "patient": {"downtime_days": 2},
        "scars": [
            {"type": "rolling", "depth": "moderate", "site": "cheeks"},
            {"type": "rolling", "depth": "moderate", "site": "back"},
        ],
    }
    face, body = plan(session, from_data(data, kb)).plan.problems
    assert (face.region, body.region) == ("face", "body")
    assert body.choice == "subcision"
    assert "subcision" in {x.id for x in face.ruled_out if x.kind == "left_out"}
    assert face.choice != "subcision" and "subcision" not in (face.choice or "").split("+")


def test_keloid_prone_sites_rule_out_wounding_there_only(kb, session):
    data = {
        "patient": {"keloid_history": True},
        "scars": [
            {"type": "boxcar", "depth": "deep", "site": "chest"},
            {"type": "boxcar", "depth": "deep", "site": "cheeks"},
        ],
    }
    result = plan(session, from_data(data, kb))
    by_region = {p.region: p for p in result.plan.problems}
    on_chest = {x.id for x in by_region["body"].ruled_out if x.kind == "avoid"}
    assert "punch_excision" in on_chest
    assert "punch_excision" not in {x.id for x in by_region["face"].ruled_out}
    planned = {part for o in (by_region["body"].choice, *by_region["body"].alternatives) if o for part in o.split("+")}
    assert planned and not planned & on_chest
    assert "punch_excision" not in {a.id for a in result.avoid}


# --- the promise, over generated patients of the bundled knowledge base ---------------------

FACE = {"back": "cheeks", "chest": "forehead", "shoulders": "jaw"}
BODY = {face: body for body, face in FACE.items()}
DEFERRING = ("pregnant", "active_acne", "active_infection", "isotretinoin_months_ago")


def on_face_and_body(args) -> dict:
    """A generated patient whose first scars come in pairs, one on the face and one on the
    body, with nothing that defers every procedure: where scoped exclusions matter most."""
    data, downtime, keloid = args
    person = {k: v for k, v in data["patient"].items() if k not in DEFERRING}
    person.update(downtime_days=downtime, keloid_history=keloid)
    scars = []
    for scar in data["scars"][:2]:
        site = scar.get("site") or "cheeks"
        scars += [{**scar, "site": site}, {**scar, "site": BODY.get(site) or FACE.get(site) or "back"}]
    return {"patient": person, "scars": scars}


both_regions = st.tuples(patients, st.integers(0, 10), st.booleans()).map(on_face_and_body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(patients, both_regions))
def test_nothing_ruled_out_for_a_problem_is_planned_for_it(kb, session, data):
    result = plan(session, from_data(data, kb))
    for p in result.plan.problems:
        ruled_out = {x.id for x in p.ruled_out}
        planned = [x for x in (p.choice, *p.alternatives) if x is not None]
        for option in planned:
            assert not ruled_out & set(option.split("+")), (p.title, option)
        for option, added in p.adjuncts.items():
            assert option in planned and not ruled_out & set(added), (p.title, option, added)
        assert all(x.kind in ("avoid", "left_out") and x.reason and x.rules for x in p.ruled_out)
    for phase in result.plan.course:
        for item in phase.items:
            for pid in item.problems:
                problem = next(p for p in result.plan.problems if p.id == pid)
                assert item.id not in {x.id for x in problem.ruled_out}, (problem.title, item.id)
                assert not {x.id for x in problem.ruled_out} & set(item.adjuncts)
