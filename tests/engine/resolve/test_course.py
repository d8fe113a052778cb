"""engine/resolve/course.py: the course of care, week by week.

Phases run in the knowledge base's order, one after another (with a phase's
gap_weeks after the one before), except alongside phases, which start at week 0
and last the whole course. Each item starts at the earliest week its phase, the
gradual spacing of home care and every ordering rule allow; a series of sessions
ends (sessions - 1) * interval weeks after it starts. order_violations finds a
course that breaks its order, and the finished plan is checked for it
(safety._check_plan). The last tests check the promises on generated patients of
the bundled knowledge base."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.resolve.course import order_violations, schedule
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.result import Problem, Recommendation, RuledOut
from cicatrix.engine.resolve.safety import SafetyInvariantError, _check_plan

from ...conftest import EXAMPLES
from ...helpers import patients, replace
from .test_problems import NOTHING, PLAN_PROBLEMS, plan_kb, procedure

COURSE = """\
adjuncts:
  addon: [lift, laser]
course:
  gradual_weeks: 3
  phases:
    - {id: prepare, title: Prepare first, reassess_after_weeks: 0}
    - {id: home, title: Home care, alongside: true}
    - {id: priming, title: Prime the skin}
    - {id: focal, title: Scar by scar, reassess_after_weeks: 4}
    - {id: resurfacing, title: Resurface, gap_weeks: 4, reassess_after_weeks: 12}
  order:
    - first: {ids: [clear]}
      then: {kinds: [procedure]}
      why: Clear the skin first.
      sources: [src.txt]
    - first: {ids: [punch]}
      then: {ids: [laser]}
      gap_weeks: 6
      why: Laser six weeks after a punch.
      sources: [src.txt]
    - first: {ids: [lift]}
      then: {ids: [cross]}
      gap_weeks: 2
      why: Cross two weeks after the lift.
      sources: [src.txt]
"""

ENTRIES = {
    "clear": ("prerequisite", "{phase: prepare, weeks: 6}"),
    "prime": ("prerequisite", "{phase: priming, weeks: 2, only_with: [cross]}"),
    "cover": ("prerequisite", "{phase: resurfacing, only_with: [laser]}"),
    "cross": ("procedure", "{phase: focal, sessions: 4, interval_weeks: 4}"),
    "punch": ("procedure", "{phase: focal, sessions: 1}"),
    "lift": ("procedure", "{phase: focal, sessions: 3, interval_weeks: 2}"),
    "laser": ("procedure", "{phase: resurfacing, sessions: 3, interval_weeks: 5}"),
    "cream_a": ("home_care", "{phase: home, gradual: true}"),
    "cream_b": ("home_care", "{phase: home, gradual: true}"),
    "cream_c": ("home_care", "{phase: home, gradual: true}"),
    "screen": ("home_care", "{phase: home}"),
}
COURSE_TREATMENTS = (
    "treatments:\n"
    + "".join(procedure(tid, kind, course) for tid, (kind, course) in ENTRIES.items())
    + procedure("addon").replace("    course: {phase: work, sessions: 1}\n", "")
)


@pytest.fixture(scope="module")
def ckb(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")

    def make_kb(rules, *, templates, treatments, manifest, name):
        folder = root / name
        (folder / "rules").mkdir(parents=True)
        (folder / "kb.yaml").write_text(manifest)
        (folder / "templates.yaml").write_text(templates)
        (folder / "treatments.yaml").write_text(treatments)
        (folder / "rules" / "rules.yaml").write_text(rules)
        return folder

    return load(plan_kb(make_kb, NOTHING, PLAN_PROBLEMS + COURSE, COURSE_TREATMENTS))


def problem(n: int, choice: str | None, adjuncts: dict | None = None) -> Problem:
    return Problem(
        f"problem-{n}", (n,), "ice_pick", "face", f"scars {n}", None, 1.0, choice, (), adjuncts or {}, "", (), ()
    )


def rec(tid: str, kb) -> Recommendation:
    kind = "combination" if "+" in tid else kb.treatments[tid].kind
    return Recommendation(tid, tid, kind, (), 0, "first_line", "", (), (), (), ())


def course(kb, problems=(), recs=()):
    """(phase id -> (start, end, [(item, start, end)]), reassess weeks) of a schedule."""
    phases, reassess = schedule(kb, problems, [rec(t, kb) for t in recs])
    shown = {ph.id: (ph.start_week, ph.end_week, [(i.id, i.start_week, i.end_week) for i in ph.items]) for ph in phases}
    return shown, reassess


def items(kb, problems=(), recs=()):
    phases, _ = schedule(kb, problems, [rec(t, kb) for t in recs])
    return {i.id: i for ph in phases for i in ph.items}


# --- phases -------------------------------------------------------------------------------


def test_phases_run_in_order_and_alongside_ones_from_week_0(ckb):
    phases, reassess = schedule(ckb, [problem(1, "cross"), problem(2, "laser")], [rec("screen", ckb)])
    assert [(ph.number, ph.id, ph.title, ph.start_week, ph.end_week) for ph in phases] == [
        (1, "home", "Home care", 0, 26),  # alongside: from week 0 to the end of the course
        (2, "focal", "Scar by scar", 0, 12),  # cross: 4 sessions 4 weeks apart
        (3, "resurfacing", "Resurface", 16, 26),  # 4 weeks after focal; laser: 3 sessions 5 weeks apart
    ]
    assert [(i.id, i.start_week, i.end_week) for ph in phases for i in ph.items] == [
        ("screen", 0, 26),
        ("cross", 0, 12),
        ("laser", 16, 26),
    ]
    # each sequential phase's re-assessment, after its last session; none for the alongside one
    assert reassess == (16, 38)


def test_a_phase_gap_follows_an_earlier_phase_only(ckb):
    shown, reassess = course(ckb, [problem(1, "laser")])
    assert shown == {"resurfacing": (0, 10, [("laser", 0, 10)])}
    assert reassess == (22,)
    # after a preparation, the gap counts from its end; the order rule alone would allow week 6
    shown, reassess = course(ckb, [problem(1, "laser")], ["clear"])
    assert shown == {"prepare": (0, 6, [("clear", 0, 6)]), "resurfacing": (10, 20, [("laser", 10, 20)])}
    assert reassess == (6, 32)  # a preparation is re-assessed as it ends


# --- items: sessions, ordering rules, gradual starts, what enters ---------------------------


def test_sessions_and_intervals_set_the_weeks(ckb):
    found = items(ckb, [problem(1, "cross"), problem(2, "punch")], ["clear"])
    assert (found["clear"].start_week, found["clear"].end_week) == (0, 6)  # weeks: 6
    assert (found["cross"].start_week, found["cross"].end_week) == (6, 18)  # 6 + (4 - 1) * 4
    assert (found["cross"].sessions, found["cross"].interval_weeks) == (4, 4)
    assert (found["punch"].start_week, found["punch"].end_week) == (6, 6)  # one session
    assert (found["punch"].sessions, found["punch"].interval_weeks) == (1, None)
    assert (found["clear"].sessions, found["clear"].interval_weeks) == (None, None)


def test_an_ordering_rule_puts_its_gap_between_phases(ckb):
    found = items(ckb, [problem(1, "punch+laser")])
    # the phase gap alone would start the laser at week 4
    assert (found["punch"].start_week, found["punch"].end_week) == (0, 0)
    assert (found["laser"].start_week, found["laser"].end_week) == (6, 16)
    assert found["punch"].part_of == found["laser"].part_of == "punch+laser"
    assert found["punch"].problems == found["laser"].problems == ("problem-1",)


def test_an_ordering_rule_orders_items_within_a_phase(ckb):
    shown, _ = course(ckb, [problem(1, "cross"), problem(2, "lift")])
    # lift runs weeks 0-4, so cross waits until week 6 although its problem comes first
    assert shown["focal"] == (0, 18, [("lift", 0, 4), ("cross", 6, 18)])


def test_gradual_items_start_one_at_a_time_in_rank_order(ckb):
    # the others from the phase's start, the first gradual one gradual_weeks later, and so on
    shown, reassess = course(ckb, recs=["cream_b", "screen", "cream_a", "cream_c"])
    assert shown == {
        "home": (0, 9, [("screen", 0, 9), ("cream_b", 3, 9), ("cream_a", 6, 9), ("cream_c", 9, 9)]),
    }
    assert reassess == ()


def test_only_with_schedules_an_item_only_beside_what_it_prepares_for(ckb):
    shown, _ = course(ckb, [problem(1, "lift")], ["prime", "cover"])
    assert list(shown) == ["focal"]
    shown, _ = course(ckb, [problem(1, "cross"), problem(2, "laser")], ["prime", "cover"])
    assert shown["priming"] == (0, 2, [("prime", 0, 2)])
    assert shown["focal"] == (2, 14, [("cross", 2, 14)])
    # an item with neither sessions nor weeks spans its phase
    assert shown["resurfacing"] == (18, 28, [("laser", 18, 28), ("cover", 18, 28)])


def test_procedures_enter_only_as_a_problems_choice(ckb):
    shown, _ = course(ckb, [problem(1, None)], ["cross", "laser", "punch+laser", "screen"])
    assert shown == {"home": (0, 0, [("screen", 0, 0)])}


def test_an_item_serves_every_problem_that_chose_it_and_carries_its_add_ons(ckb):
    problems = [problem(1, "lift", {"lift": ("addon",)}), problem(2, "lift+laser"), problem(3, "cross")]
    found = items(ckb, problems)
    assert (found["lift"].problem, found["lift"].problems) == ("problem-1", ("problem-1", "problem-2"))
    assert found["lift"].adjuncts == ("addon",)
    assert found["lift"].part_of is None  # chosen alone first
    assert (found["laser"].part_of, found["laser"].problems, found["laser"].adjuncts) == (
        "lift+laser",
        ("problem-2",),
        (),
    )
    assert "addon" not in found  # an add-on without a course of its own rides along


def test_items_of_the_first_problems_come_first(ckb):
    shown, _ = course(ckb, [problem(1, "punch"), problem(2, "lift")])
    assert [i for i, *_ in shown["focal"][2]] == ["punch", "lift"]
    shown, _ = course(ckb, [problem(1, "lift"), problem(2, "punch")])
    assert [i for i, *_ in shown["focal"][2]] == ["lift", "punch"]


# --- order_violations ------------------------------------------------------------------------


def test_order_violations_finds_a_hand_broken_course(ckb):
    phases, _ = schedule(ckb, [problem(1, "punch+laser")], [])
    assert order_violations(ckb, phases) == []
    focal, resurfacing = phases
    early = replace(resurfacing, start_week=2, items=(replace(resurfacing.items[0], start_week=2),))
    assert order_violations(ckb, (focal, early)) == [
        "laser starts at week 2, before punch ends (week 0) plus 6 weeks",
    ]
    outside = replace(focal, start_week=1)
    assert order_violations(ckb, (outside, resurfacing)) == ["punch runs weeks 0-0, outside its phase focal"]
    backwards = replace(resurfacing, items=(replace(resurfacing.items[0], end_week=5),))
    assert order_violations(ckb, (focal, backwards)) == ["laser runs weeks 6-5, outside its phase resurfacing"]


# --- on the bundled knowledge base ----------------------------------------------------------


def bundled_course(session, kb, **data):
    result = plan(session, from_data(data, kb))
    return {i.id: (ph.id, i.start_week, i.end_week) for ph in result.plan.course for i in ph.items}, result


def test_bundled_punched_areas_are_resurfaced_weeks_later(kb, session):
    found, result = bundled_course(
        session,
        kb,
        patient={"downtime_days": 14},
        scars=[{"type": "boxcar", "depth": "deep", "floor": "normal", "site": "cheeks", "count": 3}],
    )
    assert result.plan.problems[0].choice == "punch_elevation+ablative_fractional_laser"
    assert found["punch_elevation"] == ("focal", 0, 0)
    assert found["ablative_fractional_laser"] == ("resurfacing", 4, 12)  # 3 sessions 4 weeks apart
    assert result.plan.reassess_weeks == (4, 24)


def test_bundled_darker_skin_is_primed_and_an_infection_healed_first(kb, session):
    scars = [{"type": "ice_pick", "depth": "deep", "site": "cheeks"}]
    found, result = bundled_course(session, kb, patient={"fitzpatrick": 5, "active_infection": True}, scars=scars)
    assert found["heal_infection"] == ("prepare", 0, 2)
    assert found["priming"] == ("priming", 2, 4)
    assert found["tca_cross"] == ("focal", 4, 16)
    assert [ph.id for ph in result.plan.course] == ["prepare", "home", "priming", "focal"]
    # priming only comes with TCA CROSS
    found, _ = bundled_course(
        session, kb, patient={"fitzpatrick": 5}, scars=[{"type": "rolling", "depth": "moderate", "site": "cheeks"}]
    )
    assert "priming" not in found and found["subcision"][1] == 0


# --- the finished plan's course is checked --------------------------------------------------


@pytest.fixture(scope="module")
def mixed(kb, session):
    result = plan(session, read(EXAMPLES / "mixed-facial-scars.yaml", kb))
    assert [p.choice for p in result.plan.problems] == ["tca_cross", "subcision", "rf_microneedling"]
    return result


def with_item(result, item_id: str, **changes):
    phases = tuple(
        replace(ph, items=tuple(replace(i, **changes) if i.id == item_id else i for i in ph.items))
        for ph in result.plan.course
    )
    return replace(result, plan=replace(result.plan, course=phases))


def check(result, kb):
    excluded = {a.id for a in result.avoid} | {x.id for x in result.left_out}
    _check_plan(result, kb, {r.id for r in result.recommendations}, excluded)


def test_the_check_catches_a_course_holding_what_is_not_recommended(kb, mixed):
    check(mixed, kb)
    with pytest.raises(SafetyInvariantError, match=r"^the course holds dermabrasion, which is not recommended or"):
        check(with_item(mixed, "tca_cross", id="dermabrasion"), kb)
    with pytest.raises(SafetyInvariantError, match="the course holds fully_ablative_laser"):
        check(with_item(mixed, "subcision", adjuncts=("fully_ablative_laser",)), kb)
    with pytest.raises(SafetyInvariantError, match="the course holds tca_cross\\+subcision"):
        check(with_item(mixed, "tca_cross", part_of="tca_cross+subcision"), kb)
    recommended = {r.id for r in mixed.recommendations}
    with pytest.raises(
        SafetyInvariantError, match="the course holds retinoid, which is not recommended or is excluded"
    ):
        _check_plan(replace(mixed, plan=replace(mixed.plan, problems=())), kb, recommended, {"retinoid"})


def test_the_check_catches_a_course_item_for_a_problem_it_is_ruled_out_for(kb, mixed):
    out = RuledOut("tca_cross", "TCA CROSS", "avoid", "planted", ("planted",))
    second = replace(mixed.plan.problems[1], ruled_out=(out,))
    problems = (mixed.plan.problems[0], second, *mixed.plan.problems[2:])
    broken = with_item(
        replace(mixed, plan=replace(mixed.plan, problems=problems)), "tca_cross", problems=("problem-1", "problem-2")
    )
    with pytest.raises(
        SafetyInvariantError, match=r"^the course gives tca_cross for problem-2, where it is ruled out$"
    ):
        check(broken, kb)


def test_the_check_catches_a_course_that_breaks_its_order(kb, session):
    _, result = bundled_course(
        session,
        kb,
        patient={"downtime_days": 14},
        scars=[{"type": "boxcar", "depth": "deep", "floor": "normal", "site": "cheeks", "count": 3}],
    )
    check(result, kb)
    with pytest.raises(
        SafetyInvariantError, match="ablative_fractional_laser starts at week 2, before punch_elevation"
    ):
        check(with_item(result, "ablative_fractional_laser", start_week=2), kb)
    with pytest.raises(SafetyInvariantError, match="punch_elevation runs weeks -1-0, outside its phase focal"):
        check(with_item(result, "punch_elevation", start_week=-1), kb)


# --- the promises, over generated patients of the bundled knowledge base ---------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_the_course_honours_its_phases_and_every_ordering_rule(kb, session, data):
    result = plan(session, from_data(data, kb))
    placed = [(ph, i) for ph in result.plan.course for i in ph.items]
    for ph, item in placed:
        spec = kb.treatments[item.id].course
        assert spec is not None and spec.phase == ph.id, (item.id, ph.id)
        assert ph.start_week <= item.start_week <= item.end_week <= ph.end_week, (item.id, ph.id)
        if spec.sessions is not None:
            assert item.end_week - item.start_week == (spec.sessions - 1) * (spec.interval_weeks or 0), item.id
    for rule in kb.plan.order:
        for _, first in placed:
            if not rule.first.matches(kb.treatments[first.id]):
                continue
            for _, then in placed:
                if then is not first and rule.then.matches(kb.treatments[then.id]):
                    assert then.start_week >= first.end_week + rule.gap_weeks, (rule.why, first.id, then.id)
    assert [ph.number for ph in result.plan.course] == list(range(1, len(result.plan.course) + 1))
    assert [ph.start_week for ph in result.plan.course] == sorted(ph.start_week for ph in result.plan.course)
    assert list(result.plan.reassess_weeks) == sorted(set(result.plan.reassess_weeks))


# Prerequisites that come before the procedures are those in a phase without procedures
# (acne treatment, healing an infection, priming). Antiviral cover sits in the resurfacing
# phase on purpose: it is taken around each session, not finished before the first.


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_prerequisites_end_before_any_procedure_starts(kb, session, data):
    procedure_phases = {t.course.phase for t in kb.treatments.values() if t.kind == "procedure" and t.course}
    result = plan(session, from_data(data, kb))
    placed = [(ph, i) for ph in result.plan.course for i in ph.items]
    for ph, first in placed:
        if kb.treatments[first.id].kind != "prerequisite" or ph.id in procedure_phases:
            continue
        for _, later in placed:
            if kb.treatments[later.id].kind == "procedure":
                assert first.end_week <= later.start_week, (first.id, later.id)
