"""engine/resolve/summary.py: the "Start here" lines, read off the finished course:
an urgent alert first, then each sequential phase with its weeks and what it holds
(and for which problems), what waits when nothing corrective can start, the
gradual start of home care, and when to re-assess; a long plan keeps its first
steps and its re-assessment and folds the middle."""

from __future__ import annotations

import pytest

from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.course import schedule
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.result import Alert
from cicatrix.engine.resolve.summary import MAX_LINES, summary

from ...conftest import EXAMPLES
from ...helpers import replace
from .test_course import ckb, problem, rec  # noqa: F401  (ckb is a fixture)

URGENT = Alert("stop", "urgent", "Stop now.", ("r",), ())
WARNING = Alert("look", "warning", "Look first.", ("r",), ())


def lines(kb, problems, recs=(), alerts=()):
    course, reassess = schedule(kb, problems, [rec(t, kb) for t in recs])
    return list(summary(kb, alerts, tuple(problems), course, reassess))


def test_each_sequential_phase_says_its_weeks_and_what_it_holds_for_which_problem(ckb):  # noqa: F811
    assert lines(ckb, [problem(1, "cross"), problem(2, "laser")]) == [
        "First, weeks 0-12: Scar by scar: Cross for scars 1.",
        "Then, weeks 16-26: Resurface: Laser for scars 2.",
        "Re-assess at weeks 16 and 38.",
    ]


def test_one_week_one_item_for_several_problems_and_add_ons(ckb):  # noqa: F811
    assert lines(ckb, [problem(1, "punch")]) == [
        "First, week 0: Scar by scar: Punch for scars 1.",
        "Re-assess at week 4.",
    ]
    both = [problem(1, "lift", {"lift": ("addon",)}), problem(2, "lift"), problem(3, "punch")]
    assert (
        lines(ckb, both)[0]
        == "First, weeks 0-4: Scar by scar: Lift ± Addon for scars 1 and scars 2; Punch for scars 3."
    )


def test_a_step_for_no_problem_is_named_alone(ckb):  # noqa: F811
    assert lines(ckb, [problem(1, "cross")], ["clear"])[:2] == [
        "First, weeks 0-6: Prepare first: Clear.",
        "Then, weeks 6-18: Scar by scar: Cross for scars 1.",
    ]


def test_home_care_starts_at_once_then_one_at_a_time(ckb):  # noqa: F811
    assert lines(ckb, [], ["cream_b", "screen", "cream_a", "cream_c"]) == [
        "From week 0, home care: Screen; then one at a time: Cream b (week 3), Cream a (week 6) and Cream c (week 9).",
    ]
    assert lines(ckb, [], ["screen"]) == ["From week 0, home care: Screen."]


def test_an_urgent_alert_comes_first_and_a_warning_adds_no_line(ckb):  # noqa: F811
    found = lines(ckb, [problem(1, "punch")], alerts=[WARNING, URGENT])
    assert found[0] == "Act on the urgent alert above before anything else."
    assert lines(ckb, [problem(1, "punch")], alerts=[WARNING]) == lines(ckb, [problem(1, "punch")])


def test_when_nothing_corrective_can_start_it_says_what_waits_and_why(ckb):  # noqa: F811
    waiting = replace(problem(1, None), why="Nothing fits yet.")
    other = replace(problem(2, None), why="Second reason.")
    assert lines(ckb, [waiting, other], ["clear", "screen"]) == [
        "First, weeks 0-6: Prepare first: Clear.",
        "Nothing corrective yet for scars 1 and scars 2. Nothing fits yet.",
        "From week 0, home care: Screen.",
        "Re-assess at week 6.",
    ]
    # once one problem has a procedure, the others are listed in the plan, not here
    assert not any("Nothing corrective" in line for line in lines(ckb, [problem(2, "punch"), waiting]))


def test_a_long_plan_keeps_its_first_steps_and_the_reassessment(ckb):  # noqa: F811
    problems = [problem(1, "cross"), problem(2, "laser")]
    full = lines(ckb, problems, ["clear", "prime", "screen"])
    assert full == [
        "First, weeks 0-6: Prepare first: Clear.",
        "Then, weeks 6-8: Prime the skin: Prime.",
        "Then, weeks 8-20: Scar by scar: Cross for scars 1.",
        "Then, weeks 24-34: Resurface: Laser for scars 2.",
        "From week 0, home care: Screen.",
        "Re-assess at weeks 6, 24 and 46.",
    ]
    assert len(full) == MAX_LINES
    folded = lines(ckb, problems, ["clear", "prime", "screen"], alerts=[URGENT])
    assert folded == [
        "Act on the urgent alert above before anything else.",
        "First, weeks 0-6: Prepare first: Clear.",
        "Then, weeks 6-8: Prime the skin: Prime.",
        "Then, weeks 8-20: Scar by scar: Cross for scars 1.",
        "Then the later phases of the course below.",
        "Re-assess at weeks 6, 24 and 46.",
    ]


@pytest.mark.parametrize("example", ["mixed-facial-scars.yaml", "active-acne.yaml", "pregnant.yaml", "dark-skin.yaml"])
def test_bundled_summaries_agree_with_their_course(kb, session, example):
    result = plan(session, read(EXAMPLES / example, kb))
    found = result.plan.summary
    assert 1 <= len(found) <= MAX_LINES
    sequential = [ph for ph in result.plan.course if not kb.plan.phase(ph.id).alongside]
    for n, ph in enumerate(sequential[: MAX_LINES - 2]):
        weeks = f"week {ph.start_week}" if ph.start_week == ph.end_week else f"weeks {ph.start_week}-{ph.end_week}"
        line = next(line for line in found if ph.title.rstrip(".") in line)
        assert line.startswith(("First, " if n == 0 else "Then, ") + weeks + ": ")
        for item in ph.items:
            assert kb.treatments[item.id].name in line
    for ph in result.plan.course:
        if kb.plan.phase(ph.id).alongside:
            title = ph.title[0].lower() + ph.title[1:]
            line = next(line for line in found if line.startswith(f"From week {ph.start_week}, {title}: "))
            assert all(kb.treatments[i.id].name in line for i in ph.items)
    if not any(i.problem for ph in sequential for i in ph.items):
        waiting = [p.title for p in result.plan.problems if p.choice is None]
        assert any(line.startswith("Nothing corrective yet for " + waiting[0]) for line in found)
    if result.plan.reassess_weeks:
        assert found[-1].startswith("Re-assess at week") and found[-1].endswith(f"{result.plan.reassess_weeks[-1]}.")


def test_bundled_mixed_example_starts_with_the_focal_work(kb, session):
    result = plan(session, read(EXAMPLES / "mixed-facial-scars.yaml", kb))
    assert result.plan.summary[0] == (
        "First, weeks 0-12: Scar by scar, deep and tethered scars first: TCA CROSS for deep ice pick scars on "
        "the cheeks; Subcision ± PRP for moderate rolling scars on the cheeks."
    )
    assert result.plan.summary[-1] == "Re-assess at weeks 16 and 46."
