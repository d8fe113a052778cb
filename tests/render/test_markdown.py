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
