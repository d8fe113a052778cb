"""The JSON contract of a plan: its shape on every bundled example, and its
determinism: the same patient gives the same bytes in one process, in another,
and under any hash seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings

from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.cache import load_cached
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session

from ...conftest import EXAMPLES
from ...helpers import ALL_EXAMPLES, patients

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


# --- determinism ------------------------------------------------------------------------


def contract_json(session, data) -> str:
    return json.dumps(to_dict(plan(session, from_data(data, session.kb))), ensure_ascii=False)


OTHER = yaml.safe_load((EXAMPLES / "pregnant.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def second_session(kb):
    """A session of its own, compiled again: nothing it holds is shared with ``session``."""
    return Session(compile_kb(kb))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_json_is_byte_identical_across_runs_in_one_process(session, second_session, data):
    first = contract_json(session, data)
    contract_json(session, OTHER)  # nothing of another consultation may stay behind
    assert contract_json(session, data) == first
    assert contract_json(second_session, data) == first


# Consults every patient of a JSON file and prints one contract per line; the last
# argument, "reversed", consults them in the opposite order (and prints in file order).
SCRIPT = """\
import json, sys
from cicatrix.engine.knowledge.cache import load_cached
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session

kb = load_cached()
session = Session(kb)
batch = json.load(open(sys.argv[1], encoding="utf-8"))
order = list(range(len(batch)))
if sys.argv[2] == "reversed":
    order.reverse()
out = {}
for i in order:
    out[i] = json.dumps(to_dict(plan(session, from_data(batch[i], kb))), ensure_ascii=False)
sys.stdout.write("".join(out[i] + "\\n" for i in range(len(batch))))
"""


def generated_batch(size: int) -> list[dict]:
    """``size`` distinct generated patients, the same on every run (derandomised)."""
    batch: dict[str, dict] = {}

    @settings(max_examples=4 * size, derandomize=True, database=None, deadline=None, phases=[Phase.generate])
    @given(data=patients)
    def collect(data):
        batch.setdefault(json.dumps(data, sort_keys=True), data)

    collect()
    found = list(batch.values())
    assert len(found) >= size
    return found[len(found) % size :: len(found) // size]  # spread over the run, from simple to complex


def test_json_is_byte_identical_across_hash_seeds(tmp_path, session):
    batch = generated_batch(20)
    load_cached()  # the processes below read the knowledge base from the cache, as the command line does
    path = tmp_path / "patients.json"
    path.write_text(json.dumps(batch), encoding="utf-8")
    runs = {
        seed: subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(path), "reversed" if seed == "12345" else "in-order"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=tmp_path,
        )
        for seed in ("0", "1", "12345")
    }
    here = "".join(contract_json(session, data) + "\n" for data in batch)  # while they run
    outputs = {}
    for seed, proc in runs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        outputs[seed] = out.decode("utf-8")
    assert outputs["0"] == outputs["1"] == outputs["12345"] == here
    assert len(here.splitlines()) == 20


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


def test_alerts_are_in_the_json_before_the_plan(make_kb):
    from cicatrix.engine.resolve.contract import to_dict

    from ...helpers import ALERT_RULES, TWO_SITES, consult

    out = to_dict(consult(make_kb(ALERT_RULES), TWO_SITES)[0])
    # extensions: the contract's earlier keys keep their order
    assert list(out)[-4:] == ["alerts", "left_out", "plan", "references"]
    assert out["alerts"][0] == {
        "id": "stop-now",
        "severity": "urgent",
        "text": "stop now.",
        "rules": ["urgent"],
        "sources": ["src.txt"],
        "citations": ["src.txt"],
        "references": [1],
    }
    assert out["references"] == [
        {"n": 1, "id": "src.txt", "title": "A source", "confidence": "medium", "cited_as": ["src.txt"]}
    ]


def test_a_plan_without_alerts_says_so_with_an_empty_list(kb, session):
    from cicatrix.engine.patient.reader import from_data
    from cicatrix.engine.resolve.contract import to_dict
    from cicatrix.engine.resolve.resolver import plan

    out = to_dict(plan(session, from_data({"scars": [{"type": "boxcar"}]}, kb)))
    assert out["alerts"] == []
