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
    # the plan fits 150 lines; the reference list under it is compact, at most 3 lines a work
    assert lines.index("REFERENCES") <= 150
    refs = lines[lines.index("REFERENCES") + 1 : -3]
    assert len(refs) <= 3 * sum(line.startswith("  [") for line in refs)
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


def test_sources_are_numbered_references_a_reader_can_look_up(run_cli):
    out = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--width", "88").out
    lines = out.splitlines()
    # no file names of the knowledge base's documents, and no rule ids, in the plan itself
    assert ".txt" not in out and ".md" not in out
    assert "Rules:" not in out and "tca-cross" not in out
    # each problem cites numbers, and the numbers run from 1 without gaps
    assert "     Sources: [1-6]" in lines
    listed = [int(line.split("]")[0][3:]) for line in lines if line.startswith("  [")]
    assert listed == list(range(1, len(listed) + 1))
    # the fact sheet is cited as the publications it names: Lee 2002 for TCA CROSS, with its weight
    words = " ".join(out.split())
    assert "Lee JB, Chung WG, Kwahck H, Lee KH. Focal treatment of acne scars with trichloroacetic acid" in words
    assert "Case series, n=65, FST IV-V; confidence: medium." in words
    assert "What Is an Ice Pick Scar and How to Remove It?" in words  # the article, by its title


def test_rule_ids_appear_with_explain_only(run_cli):
    plain = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--all").out
    assert "Rules:" not in plain
    explained = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--all", "--explain").out
    assert "    Rules: pregnancy/" in explained  # under AVOID
    assert "     Rules: " in explained  # under every option considered
    # the numbers --all adds continue the plan's own, and the list prints each one it used
    listed = [line for line in explained.splitlines() if line.startswith("  [")]
    assert len(listed) > len([line for line in plain.splitlines() if line.startswith("  [")]) - 1


def test_the_isotretinoin_alert_cites_the_2017_consensus_papers(run_cli, tmp_path):
    patient = tmp_path / "p.yaml"
    patient.write_text(
        "patient: {isotretinoin_months_ago: 0}\nscars: [{type: boxcar, site: cheeks, count: 3, depth: shallow}]\n"
    )
    out = run_cli("consult", str(patient), "--width", "200").out
    words = " ".join(out.split())
    assert "Spring LK et al. Isotretinoin and timing of procedural interventions" in words
    assert "Waldman A et al. ASDS Guidelines Task Force" in words
