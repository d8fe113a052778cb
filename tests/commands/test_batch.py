"""Batch consultations: JSON lines, YAML documents and CSV in; one JSON line per patient out."""

from __future__ import annotations

import json

import yaml

from ..conftest import EXAMPLES

GOOD = [
    yaml.safe_load((EXAMPLES / name).read_text()) for name in ("pregnant.yaml", "back-scars.yaml", "dark-skin.yaml")
]


def write_jsonl(tmp_path):
    lines = [
        json.dumps(GOOD[0]),
        '{"scars": [{"type": "icepick"}]}',
        "not json",
        json.dumps(GOOD[1]),
        "",
        json.dumps(GOOD[2]),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_batch_streams_plans_and_reports_bad_records(tmp_path, run_cli):
    path = write_jsonl(tmp_path)
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2  # some records failed
    out = [json.loads(line) for line in run.out.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 6]
    assert "did you mean 'ice_pick'" in out[1]["error"]["problems"][0]["message"]
    assert out[2]["error"]["problems"][0]["message"].startswith("not a JSON object")
    assert f"{path}:2: scars[0].type" in run.err and f"{path}:3:1:" in run.err
    assert "5 record(s), 2 failed" in run.err
    single = run_cli("consult", str(EXAMPLES / "back-scars.yaml"), "--format", "json")
    expected = json.loads(single.out)
    expected["line"] = 4
    assert out[3] == expected


def test_parallel_output_is_identical_and_ordered(tmp_path, run_cli):
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(GOOD[i % 3]) for i in range(30)) + "\n")
    one = run_cli("batch", str(path), "--jobs", "1", "--window", "7")
    two = run_cli("batch", str(path), "--jobs", "2", "--window", "7")
    assert one.code == two.code == 0
    assert one.out == two.out
    assert [json.loads(line)["line"] for line in two.out.splitlines()] == list(range(1, 31))


def test_yaml_documents(tmp_path, run_cli):
    path = tmp_path / "in.yaml"
    path.write_text("---\nscars: [{type: boxcar}]\n---\nscars: [{type: bocar}]\n")
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2
    out = [json.loads(line) for line in run.out.splitlines()]
    assert out[0]["line"] == 2 and out[0]["recommendations"]
    problem = out[1]["error"]["problems"][0]
    assert (problem["line"], problem["column"]) == (4, 16) and "did you mean 'boxcar'" in problem["message"]


def test_csv_columns(tmp_path, run_cli):
    path = tmp_path / "in.csv"
    path.write_text(
        "patient.age,patient.pregnant,patient.conditions,scars.1.type,scars.1.site,scars.2.type\n"
        "30,no,eczema;rosacea,rolling,cheeks,ice_pick\n"
        "40,maybe,,boxcar,,\n"
    )
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2
    first, second = (json.loads(line) for line in run.out.splitlines())
    assert first["patient"]["patient"]["conditions"] == ["eczema", "rosacea"]
    assert [s["type"] for s in first["patient"]["scars"]] == ["rolling", "ice_pick"]
    assert second["line"] == 3 and second["error"]["problems"][0]["path"] == "patient.pregnant"
    bad = tmp_path / "bad.csv"
    bad.write_text("patient.agee,scars.1.type\n30,boxcar\n")
    run = run_cli("batch", str(bad), "--jobs", "1")
    assert run.code == 2 and "column 'patient.agee' is not a patient-file field" in run.err


def test_output_file_is_atomic(tmp_path, run_cli):
    path = write_jsonl(tmp_path)
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(path), "-o", str(out), "--jobs", "1")
    assert run.code == 2 and run.out == ""
    assert len(out.read_text().splitlines()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
    missing = run_cli("batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.jsonl"))
    assert missing.code == 2 and "no such input file" in missing.err
    assert not (tmp_path / "x.jsonl").exists()


def test_input_that_is_not_utf8_is_bad_input(tmp_path, run_cli):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"scars": [{"type": "\xff"}]}\n')
    run = run_cli("batch", str(path))
    assert run.code == 2 and f"{path}: not UTF-8 text" in run.err and "Traceback" not in run.err


def test_a_bad_matcher_is_bad_input_before_any_worker_starts(tmp_path, run_cli, monkeypatch):
    path = tmp_path / "in.jsonl"
    path.write_text('{"scars": [{"type": "boxcar"}]}\n')
    monkeypatch.setenv("CICATRIX_MATCHER", "fastest")
    run = run_cli("batch", str(path), "--jobs", "2")
    assert run.code == 2 and "CICATRIX_MATCHER must be one of" in run.err
