"""The Markdown plan."""

from __future__ import annotations

from ..conftest import EXAMPLES


def test_markdown_plan_with_explanations(run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "markdown", "--explain")
    assert run.code == 0
    md = run.out
    assert md.startswith("# Acne-scar treatment plan")
    assert "## Avoid" in md and "| Monday |" in md
    assert "**Choice: nothing for now.**" in md
    assert md.count("dermatologist") >= 2


def test_markdown_runs_in_the_plan_order_with_a_gantt_chart(run_cli):
    md = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--format", "markdown", "--explain").out
    order = ["## Start here", "## Your scars", "## Course, week by week", "## Home care", "## Avoid", "## Notes"]
    positions = [md.index(h) for h in order]
    assert positions == sorted(positions)
    assert "**Choice: TCA CROSS.**" in md and "<details>" in md
    gantt = md[md.index("```mermaid") :].split("```", 2)[1]
    assert "gantt" in gantt and "dateFormat X" in gantt
    assert "  TCA CROSS :0, 12" in gantt
    assert "  Week 16 :milestone, 16, 16" in gantt
    assert "## All options considered" not in md


def test_alerts_come_first_in_a_report(make_kb):
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.render.markdown import render

    from ..helpers import ALERT_RULES, TWO_SITES, consult

    root = make_kb(ALERT_RULES)
    text = render(consult(root, TWO_SITES)[0], load(root))
    assert text.index("## ") == text.index("## Alerts: act on these first")  # the first section
    assert "- **URGENT:** stop now. [1]" in text
    # sources are numbers into the list at the end; rule ids only with --explain
    assert "## References\n\n- **[1]** A source. Confidence: medium.\n" in text
    assert "(rules:" not in text


def test_markdown_home_care_and_steps_first_say_why(run_cli):
    md = run_cli("consult", str(EXAMPLES / "active-acne.yaml"), "--format", "markdown").out
    assert "- **Acne treatment comes first:** You have active breakouts:" in md
    retinoid = next(line for line in md.splitlines() if line.startswith("- **Retinoid**"))
    assert "_Why:_ " in retinoid and "_Caution:_ Ask your clinician" in retinoid


def test_markdown_references_run_without_gaps_and_link_where_known(run_cli):
    md = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "markdown").out
    listed = [line for line in md.splitlines() if line.startswith("- **[")]
    assert [int(line[5 : line.index("]")]) for line in listed] == list(range(1, len(listed) + 1))
    assert any("<https://" in line for line in listed)
    assert "_9f831d32b1b93e3e.txt" not in md and "clinical-facts.md" not in md and "(rules:" not in md
    assert "(rules:" in run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "markdown", "--explain").out
