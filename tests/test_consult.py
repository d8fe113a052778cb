"""The consult command on the bundled examples: the JSON contract, determinism, the text plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cicatrix.engine.knowledge.loader import load

from .conftest import EXAMPLES, REPO

ALL_EXAMPLES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))
CONTRACT_IDS = {
    "tca_cross", "rf_microneedling", "microneedling", "punch_excision", "punch_elevation",
    "subcision", "ablative_fractional_laser", "non_ablative_fractional_laser", "dermal_filler",
    "pulsed_dye_laser", "cryotherapy", "chemical_peel", "intralesional_steroid", "dermabrasion",
    "prp", "retinoid", "sunscreen", "niacinamide", "aha", "bha", "moisturizer", "silicone_gel",
    "azelaic_acid", "treat_active_acne", "lemon_juice", "baking_soda",
}  # fmt: skip
CATALOGUE = set(load().treatments)
KINDS = {"procedure", "combination", "home_care", "prerequisite", "lifestyle"}
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def procedures(plan: dict) -> list[dict]:
    return [r for r in plan["recommendations"] if r["kind"] in ("procedure", "combination")]


def consult_json(run_cli, path) -> dict:
    run = run_cli("consult", str(path), "--format", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_json_contract(run_cli, path):
    plan = consult_json(run_cli, path)
    assert list(plan)[:6] == ["kb", "patient", "recommendations", "avoid", "routine", "notes"]
    assert set(plan["kb"]) == {"name", "version", "digest"}
    assert plan["kb"]["digest"].startswith("sha256:")
    assert set(plan["patient"]) == {"patient", "scars"}
    assert plan["patient"]["patient"]["skin_sensitivity"] in {
        "normal",
        "sensitive",
        "very_sensitive",
    }
    ranks = [r["rank"] for r in plan["recommendations"]]
    assert ranks == list(range(1, len(ranks) + 1))
    avoided = {a["id"] for a in plan["avoid"]}
    for r in plan["recommendations"]:
        assert {
            "id",
            "title",
            "kind",
            "targets",
            "rank",
            "explanation",
            "rules",
            "sources",
            "cautions",
        } <= set(r)
        assert r["kind"] in KINDS
        parts = r["components"] if r["kind"] == "combination" else [r["id"]]
        assert set(parts) <= CATALOGUE
        assert not set(parts) & avoided
        if r["kind"] == "combination":
            assert r["id"] == "+".join(r["components"])
    for a in plan["avoid"]:
        assert {"id", "title", "reason", "rules"} <= set(a) and a["reason"]
    assert list(plan["routine"]["evening"]) == DAYS
    assert plan["routine"]["morning"][-1] == "sunscreen"
    assert plan["disclaimer"]


def test_contract_ids_are_all_in_the_catalogue():
    assert CONTRACT_IDS <= CATALOGUE


def test_pregnant_example_defers_procedures_and_retinoid(run_cli, kb):
    plan = consult_json(run_cli, EXAMPLES / "pregnant.yaml")
    recommended = {r["id"] for r in plan["recommendations"]}
    for r in plan["recommendations"]:
        for part in r.get("components") or [r["id"]]:
            assert "defer_in_pregnancy" not in kb.treatments[part].tags
    assert "retinoid" not in recommended
    assert {"retinoid", "tca_cross", "punch_excision"} <= {a["id"] for a in plan["avoid"]}
    assert any("after delivery" in n for n in plan["notes"])


def test_isolated_deep_example_offers_punch_and_laser_combination(run_cli):
    plan = consult_json(run_cli, EXAMPLES / "isolated-deep-ice-pick.yaml")
    ranked = [r["id"] for r in procedures(plan)]
    # TCA CROSS fits the week of downtime; the punch + laser pair may run to 10 days
    assert ranked[0] == "tca_cross"
    combo = next(r for r in plan["recommendations"] if r["id"] == "punch_excision+ablative_fractional_laser")
    assert "4 weeks" in combo["sequence"] and any("up to 10 days" in c for c in combo["cautions"])
    tca = next(r for r in plan["recommendations"] if r["id"] == "tca_cross")
    assert tca["targets"] == ["ice_pick"] and "forehead" in tca["explanation"]
    assert "000_9f831d32b1b93e3e.txt" in tca["sources"]


def test_mixed_example_offers_tca_cross_with_microneedling(run_cli):
    plan = consult_json(run_cli, EXAMPLES / "mixed-facial-scars.yaml")
    ids = [r["id"] for r in plan["recommendations"]]
    assert procedures(plan)[0]["id"] == "tca_cross+microneedling"
    assert "tca_cross" in ids and "microneedling" in ids
    evening = plan["routine"]["evening"]
    for day in DAYS:
        assert not ({"retinoid"} & set(evening[day]) and {"aha", "bha"} & set(evening[day]))
    assert sum("retinoid" in evening[d] for d in DAYS) == 3


def test_low_downtime_strikes_out_long_recoveries(run_cli):
    plan = consult_json(run_cli, EXAMPLES / "sensitive-low-downtime.json")
    avoid = {a["id"]: a for a in plan["avoid"]}
    assert "5 days" in avoid["ablative_fractional_laser"]["reason"]
    assert "you accept 3" in avoid["punch_excision"]["reason"]
    assert {"aha", "bha", "retinoid"} <= set(avoid)
    tca = next(r for r in plan["recommendations"] if r["id"] == "tca_cross")
    assert any("up to 7 days" in c for c in tca["cautions"])


def test_active_acne_example_treats_acne_first(run_cli, kb):
    plan = consult_json(run_cli, EXAMPLES / "active-acne.yaml")
    assert plan["recommendations"][0]["id"] == "treat_active_acne"
    assert plan["recommendations"][0]["kind"] == "prerequisite"
    for r in plan["recommendations"]:
        for part in r.get("components") or [r["id"]]:
            assert "defer_with_active_acne" not in kb.treatments[part].tags


def test_json_is_byte_identical_across_processes_and_hash_seeds(tmp_path):
    outputs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", "from cicatrix.cli import main; main()", "consult",
             str(EXAMPLES / "mixed-facial-scars.yaml"), "--format", "json"],
            capture_output=True, env=env, cwd=tmp_path, check=True,
        )  # fmt: skip
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]


def test_output_file_is_written_whole(tmp_path, run_cli):
    out = tmp_path / "plan.json"
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "json", "-o", str(out))
    assert run.code == 0 and run.out == ""
    assert json.loads(out.read_text())["kb"]["name"] == "cicatrix-acne-scars"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


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


def test_version_and_help(run_cli):
    run = run_cli("--version")
    assert run.code == 0 and run.out.startswith("cicatrix ")
    for args in (["--help"], ["consult", "--help"]):
        run = run_cli(*args)
        assert run.code == 0 and "Usage:" in run.out
    assert "dermatologist decides" in run_cli("--help").out


def test_readme_excerpt_matches_real_output(run_cli):
    """The README shows real output; keep it real."""
    readme = (REPO / "README.md").read_text()
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--width", "88")
    start = readme.index("<!-- output:isolated-deep-ice-pick -->")
    block = readme[start:].split("```text\n", 1)[1].split("```", 1)[0]
    assert block.strip() and block in run.out
