"""The Markdown plan."""

from __future__ import annotations

from ..conftest import EXAMPLES


def test_markdown_plan_with_explanations(run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "markdown", "--explain")
    assert run.code == 0
    md = run.out
    assert md.startswith("# Acne-scar treatment plan")
    assert "## Avoid" in md and "| Monday |" in md and "<details>" in md
    assert md.count("dermatologist") >= 2


def test_alerts_come_first_in_a_report(make_kb):
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.render.markdown import render

    from ..helpers import ALERT_RULES, TWO_SITES, consult

    root = make_kb(ALERT_RULES)
    text = render(consult(root, TWO_SITES)[0], load(root))
    assert text.index("## Alerts: act on these first") < text.index("## Input")
    assert "- **URGENT:** stop now. _(sources: src.txt)_" in text
