"""The consult command on the bundled examples and its output file; the clinical
expectations here are the bundled knowledge base's, as the command prints them."""

from __future__ import annotations

import json

from ..conftest import EXAMPLES

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def procedures(plan: dict) -> list[dict]:
    return [r for r in plan["recommendations"] if r["kind"] in ("procedure", "combination")]


def consult_json(run_cli, path) -> dict:
    run = run_cli("consult", str(path), "--format", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)


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


def test_mixed_example_plans_one_choice_per_problem_and_keeps_every_option(run_cli):
    plan = consult_json(run_cli, EXAMPLES / "mixed-facial-scars.yaml")
    ids = [r["id"] for r in plan["recommendations"]]
    problems = plan["plan"]["problems"]
    assert [(p["title"], p["choice"]) for p in problems] == [
        ("deep ice pick scars on the cheeks", "tca_cross"),
        ("moderate rolling scars on the cheeks", "subcision"),
        ("shallow boxcar scars on the temples", "rf_microneedling"),
    ]
    assert [p["scars"] for p in problems] == [[1], [2], [3]]
    # the choices lead the full list, which still holds every option considered
    assert [r["id"] for r in procedures(plan)[:3]] == ["tca_cross", "subcision", "rf_microneedling"]
    assert "tca_cross+microneedling" in ids and "microneedling" in ids
    evening = plan["routine"]["evening"]
    for day in DAYS:
        assert not ({"retinoid"} & set(evening[day]) and {"aha", "bha"} & set(evening[day]))
    assert sum("retinoid" in evening[d] for d in DAYS) == 3


def test_low_downtime_strikes_out_long_recoveries(run_cli):
    plan = consult_json(run_cli, EXAMPLES / "sensitive-low-downtime.json")
    avoid = {a["id"]: a for a in plan["avoid"]}
    left_out = {x["id"]: x for x in plan["left_out"]}
    assert "5 days" in left_out["ablative_fractional_laser"]["reason"]
    assert "you accept 3" in left_out["punch_excision"]["reason"]
    assert left_out["punch_excision"]["constraint"] == "downtime_days"
    assert left_out["punch_excision"]["downtime_days"] == {"min": 5, "max": 10}
    assert not set(left_out) & set(avoid)  # a preference is never listed as a danger
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


def test_output_file_is_written_whole(tmp_path, run_cli):
    out = tmp_path / "plan.json"
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "json", "-o", str(out))
    assert run.code == 0 and run.out == ""
    assert json.loads(out.read_text())["kb"]["name"] == "cicatrix-acne-scars"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_output_is_not_written_on_bad_input(tmp_path, run_cli):
    bad = tmp_path / "p.yaml"
    bad.write_text("scars:\n  - type: nope\n")
    out = tmp_path / "plan.json"
    run = run_cli("consult", str(bad), "--format", "json", "-o", str(out))
    assert run.code == 2
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_output_into_a_missing_folder(tmp_path, run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "-o", str(tmp_path / "no" / "p.txt"))
    assert run.code == 2
    assert "does not exist" in run.err


def test_bad_kb_folder(tmp_path, run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--kb", str(tmp_path / "missing"))
    assert run.code == 2
    assert "no such knowledge-base folder" in run.err


def test_save_needs_an_interactive_consultation(run_cli, tmp_path):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--save", str(tmp_path / "x.yaml"))
    assert run.code == 2 and "--save are for consultations without a patient file" in run.err


def test_example_option_runs_a_bundled_example_from_any_folder(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name = run_cli("consult", "--example", "mixed-facial-scars", "--format", "json")
    assert by_name.code == 0, by_name.err
    with_extension = run_cli("consult", "--example", "mixed-facial-scars.yaml", "--format", "json")
    monkeypatch.chdir(EXAMPLES.parent)
    by_file = run_cli("consult", "examples/mixed-facial-scars.yaml", "--format", "json")
    assert json.loads(by_name.out)["recommendations"] == json.loads(by_file.out)["recommendations"]
    assert with_extension.out == by_name.out


def test_unknown_example_lists_the_names_and_suggests_one(run_cli):
    run = run_cli("consult", "--example", "mixed-facial")
    assert run.code == 2
    assert "no example called 'mixed-facial'" in run.err
    assert "did you mean 'mixed-facial-scars'?" in run.err and "pregnant" in run.err


def test_example_and_a_file_together_is_a_usage_error(run_cli):
    run = run_cli("consult", "--example", "pregnant", str(EXAMPLES / "pregnant.yaml"))
    assert run.code == 2 and "--example" in run.err and not run.out


def test_explain_with_json_warns_and_still_succeeds(run_cli):
    run = run_cli("consult", "--example", "pregnant", "--format", "json", "--explain")
    assert run.code == 0
    assert "--explain does not apply" in run.err
    assert json.loads(run.out)["recommendations"]
    quiet = run_cli("consult", "--example", "pregnant", "--format", "json")
    assert "--explain" not in quiet.err


def _stdin(monkeypatch, data: bytes) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_dash_reads_the_patient_from_stdin_as_yaml_or_json(run_cli, monkeypatch):
    expected = consult_json(run_cli, EXAMPLES / "sensitive-low-downtime.json")
    _stdin(monkeypatch, (EXAMPLES / "sensitive-low-downtime.json").read_bytes())
    from_json = run_cli("consult", "-", "--format", "json")
    assert from_json.code == 0, from_json.err
    assert json.loads(from_json.out)["recommendations"] == expected["recommendations"]
    expected = consult_json(run_cli, EXAMPLES / "pregnant.yaml")
    _stdin(monkeypatch, (EXAMPLES / "pregnant.yaml").read_bytes())
    from_yaml = run_cli("consult", "-", "--format", "json")
    assert from_yaml.code == 0, from_yaml.err
    assert json.loads(from_yaml.out)["recommendations"] == expected["recommendations"]


def test_dash_names_stdin_in_messages(run_cli, monkeypatch):
    _stdin(monkeypatch, b"patient: {age: 5\n")
    run = run_cli("consult", "-")
    assert run.code == 2 and run.err.startswith("<stdin>:")
    _stdin(monkeypatch, b"")
    run = run_cli("consult", "-")
    assert run.code == 2 and "<stdin>" in run.err and "empty" in run.err
    _stdin(monkeypatch, b"\xff\xfe")
    run = run_cli("consult", "-")
    assert run.code == 2 and "<stdin>" in run.err and "UTF-8" in run.err


def test_dash_stops_reading_past_the_size_limit(run_cli, monkeypatch):
    from cicatrix.engine.documents import limits

    monkeypatch.setattr(limits, "MAX_BYTES", 64)
    _stdin(monkeypatch, b"# " + b"x" * 200 + b"\n")
    run = run_cli("consult", "-")
    assert run.code == 2 and "<stdin>" in run.err and "limit" in run.err


# --- --store: every consultation recorded, the output unchanged ----------------------------------------------


def test_store_records_the_consultation_and_changes_no_output(tmp_path, run_cli):
    from cicatrix.store import open_store

    mixed = str(EXAMPLES / "mixed-facial-scars.yaml")
    store = tmp_path / "s.db"
    for fmt in ("text", "json"):
        plain = run_cli("consult", mixed, "--format", fmt)
        stored = run_cli("consult", mixed, "--format", fmt, "--store", str(store))
        assert stored.code == 0 and (stored.out, stored.err) == (plain.out, plain.err)
    with open_store(store, create=False) as records:
        assert records.count() == 2
        assert records.plan(1) == records.plan(2) == plain.out  # the plan JSON as consult prints it, even for text
        assert [e.where for e in records.entries()] == [mixed, mixed]


def test_a_bad_store_is_refused_before_anything_is_written(tmp_path, run_cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    plan, trace = tmp_path / "plan.json", tmp_path / "trace.json"
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "-o", str(plan), "--trace", str(trace),
                  "--store", str(notes))  # fmt: skip
    assert run.code == 2 and f"{notes}: not a cicatrix store" in run.err and "Traceback" not in run.err
    assert notes.read_text() == "keep me\n" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_consultation_that_fails_records_nothing(tmp_path, run_cli):
    from cicatrix.store import open_store

    bad = tmp_path / "bad.yaml"
    bad.write_text("scars: [{type: icepick}]\n")
    run = run_cli("consult", str(bad), "--store", str(tmp_path / "s.db"))
    assert run.code == 2 and "did you mean 'ice_pick'" in run.err
    with open_store(tmp_path / "s.db", create=False) as records:
        assert records.count() == 0


def test_a_store_that_fails_after_the_plan_is_written_says_so(tmp_path, run_cli, monkeypatch):
    from cicatrix.engine.common.errors import CicatrixError
    from cicatrix.store.sqlite import Store

    def full(self, record, recorded=None):
        raise CicatrixError.about(self.name, "cannot record the consultation: no space left on the disk")

    monkeypatch.setattr(Store, "add", full)
    store = tmp_path / "s.db"
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "json", "--store", str(store))
    assert run.code == 2 and json.loads(run.out)["kb"]
    assert run.err == (
        f"{store}: cannot record the consultation: no space left on the disk"
        " (the plan was written to standard output, but not recorded)\n"
    )
