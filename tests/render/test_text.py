"""The text plan: its sections, its width, the README's excerpt and a golden copy."""

from __future__ import annotations

import os
from pathlib import Path

from ..conftest import EXAMPLES, REPO

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def test_text_plan_reads_as_a_plan(run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--width", "88")
    assert run.code == 0
    text = run.out
    assert text.count("Decision support, not a diagnosis") == 2
    for heading in ("START HERE", "YOUR SCARS, MOST SEVERE FIRST", "COURSE, WEEK BY WEEK", "HOME CARE, DAY BY DAY"):
        assert heading in text
    # nothing is chosen in pregnancy, and the plan says why, naming the best option
    words = " ".join(text.split())
    assert "Choice: nothing for now" in text
    assert "The best option, TCA CROSS, is not an option now: You are pregnant" in words
    assert "Retinoid (tretinoin / adapalene): You are pregnant" in words  # under AVOID
    assert max(len(line) for line in text.splitlines()) <= 88


SECTIONS = (
    "START HERE",
    "YOUR SCARS, MOST SEVERE FIRST",
    "COURSE, WEEK BY WEEK",
    "HOME CARE, DAY BY DAY",
    "AVOID",
    "NOTES",
)


def test_the_plan_runs_in_the_order_a_person_acts_and_fits_150_lines(run_cli):
    run = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"))
    lines = run.out.splitlines()
    assert len(lines) <= 150
    positions = [lines.index(h) for h in SECTIONS]
    assert positions == sorted(positions)
    assert lines[-2].startswith("Decision support, not a diagnosis")
    # one choice per problem, at most three alternatives each
    assert sum(line.startswith("     Choice: ") for line in lines) == 3
    assert "  1. Deep ice pick scars on the cheeks (scars 1; grade 4 (severe))" in lines
    assert "     Choice: TCA CROSS" in lines
    # the full list is one flag away, and only there
    assert "ALL OPTIONS CONSIDERED, RANKED" not in lines
    everything = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--all").out
    assert "ALL OPTIONS CONSIDERED, RANKED" in everything and "INPUT" in everything
    assert everything.count("TCA CROSS + Microneedling  [combination") == 1


def test_the_course_is_a_calendar_with_re_assessments(run_cli):
    lines = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml")).out.splitlines()
    course = lines[lines.index("COURSE, WEEK BY WEEK") : lines.index("HOME CARE, DAY BY DAY")]
    assert "  Weeks 0-12: Scar by scar, deep and tethered scars first" in course
    assert "    - TCA CROSS (problem 1): 4 sessions, every 4 weeks: weeks 0, 4, 8, 12" in course
    assert "  Week 16: re-assess with your dermatologist" in course
    # the re-assessment comes before the phase that starts that week
    assert course.index("  Week 16: re-assess with your dermatologist") < course.index(
        "  Weeks 16-34: Resurface and remodel"
    )


def test_consult_explain_adds_how_each_recommendation_was_concluded(run_cli):
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--explain", "--width", "88")
    assert run.code == 0
    assert "HOW EACH RECOMMENDATION WAS CONCLUDED" in run.out
    assert "(patient input)" in run.out


def test_readme_excerpt_matches_real_output(run_cli):
    """The README shows real output; keep it real."""
    readme = (REPO / "README.md").read_text()
    run = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--width", "88")
    start = readme.index("<!-- output:mixed-facial-scars -->")
    blocks = readme[start:].split("```text\n")[1:3]  # the excerpt, and the course further down
    for block in (b.split("```", 1)[0] for b in blocks):
        assert block.strip() and block in run.out


def test_golden_text_plan(run_cli):
    """The text rendering of one example, byte for byte (regenerate with CICATRIX_GOLDEN=update)."""
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--width", "88")
    path = GOLDEN / "isolated-deep-ice-pick.txt"
    if os.environ.get("CICATRIX_GOLDEN") == "update":
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def test_alerts_print_before_everything_else(make_kb):
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.render.text import render

    from ..helpers import ALERT_RULES, TWO_SITES, consult

    root = make_kb(ALERT_RULES)
    text = render(consult(root, TWO_SITES)[0], load(root), width=88)
    lines = text.splitlines()
    first = lines.index("ALERTS: ACT ON THESE FIRST")
    headings = [i for i, line in enumerate(lines) if line and line == line.upper() and not line.startswith(" ")]
    assert headings[0] == first  # before the problems, the course and everything else
    assert lines[first + 1] == "  URGENT: stop now."
    assert "  WARNING: look at the forehead and cheeks first." in lines


def test_with_every_procedure_left_out_the_plan_says_so(run_cli, tmp_path):
    patient = tmp_path / "p.yaml"
    patient.write_text("patient: {downtime_days: 0}\nscars: [{type: ice_pick, site: cheeks, count: 4, depth: deep}]\n")
    out = run_cli("consult", str(patient), "--width", "200").out
    lines = out.splitlines()
    assert "     Choice: nothing for now" in lines
    assert (
        "     Why: Nothing fits your preferences for now. The best option, TCA CROSS, is left out: It needs at "
        "least 1 day of visible downtime and you accept 0 days"
    ) in out
    left = lines.index("LEFT OUT FOR YOUR PREFERENCES")
    assert lines[left + 1].startswith(
        "  - TCA CROSS: It needs at least 1 day of visible downtime and you accept 0 days"
    )
    assert "TCA CROSS" not in out[out.index("AVOID") : out.index("LEFT OUT FOR YOUR PREFERENCES")]


def test_home_care_and_the_steps_first_say_why(run_cli):
    # the reasons behind home care and the steps before procedures are part of the plan:
    # an active-acne plan says why the acne comes first, and why each product is there
    out = run_cli("consult", str(EXAMPLES / "active-acne.yaml"), "--width", "200").out
    course = out[out.index("COURSE, WEEK BY WEEK") : out.index("HOME CARE, DAY BY DAY")]
    assert "  Acne treatment comes first: You have active breakouts:" in course
    home = out[out.index("HOME CARE, DAY BY DAY") : out.index("AVOID")]
    items = " ".join(line.strip() for line in home.splitlines()).split(" - ")
    retinoid = next(item for item in items if item.startswith("Retinoid: "))
    assert "Why: " in retinoid and "Adapalene 0.1% is sold over the counter" in retinoid
    assert retinoid.index("Why: ") < retinoid.index("Caution: ")
