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
    for heading in ("INPUT", "HOME CARE", "DAILY ROUTINE", "AVOID", "NOTES"):
        assert heading in text
    assert "Why:" in text and "Sources:" in text
    assert "Retinoid (tretinoin / adapalene): You are pregnant" in text
    assert max(len(line) for line in text.splitlines()) <= 88


def test_consult_explain_adds_how_each_recommendation_was_concluded(run_cli):
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--explain", "--width", "88")
    assert run.code == 0
    assert "HOW EACH RECOMMENDATION WAS CONCLUDED" in run.out
    assert "(patient input)" in run.out


def test_readme_excerpt_matches_real_output(run_cli):
    """The README shows real output; keep it real."""
    readme = (REPO / "README.md").read_text()
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--width", "88")
    start = readme.index("<!-- output:isolated-deep-ice-pick -->")
    block = readme[start:].split("```text\n", 1)[1].split("```", 1)[0]
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
    assert first < lines.index("INPUT")
    assert lines[first + 1] == "  URGENT: stop now."
    assert "  WARNING: look at the forehead and cheeks first." in lines


def test_with_every_procedure_left_out_the_plan_says_so(run_cli, tmp_path):
    from cicatrix.render.text import NOTHING_FITS

    patient = tmp_path / "p.yaml"
    patient.write_text("patient: {downtime_days: 0}\nscars: [{type: ice_pick, site: cheeks, count: 4, depth: deep}]\n")
    out = run_cli("consult", str(patient), "--width", "200").out
    lines = out.splitlines()
    assert lines[lines.index("PROCEDURES AND COMBINATIONS") + 1] == "  " + NOTHING_FITS
    left = lines.index("LEFT OUT FOR YOUR PREFERENCES")
    assert lines[left + 1].startswith(
        "  - TCA CROSS: It needs at least 1 day of visible downtime and you accept 0 days"
    )
    assert "TCA CROSS" not in out[: out.index("LEFT OUT FOR YOUR PREFERENCES")].split("AVOID")[-1]
