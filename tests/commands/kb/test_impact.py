"""kb impact: the bundled knowledge base against a copy of itself changes nothing; an edit
that changes known plans is reported exactly (counts, categories, examples, reasons) and
fails the --fail-on conditions it meets; JSON is deterministic; every kind of cohort is
read and named; patients one knowledge base rejects are reported as such; bad input
exits 2 with located messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cicatrix.cli import main

from ...conftest import REPO, TEMPLATES
from ..test_completion import complete

WITHDRAWN = """
- id: withdrawn/tca-cross
  title: TCA CROSS is withdrawn
  salience: 100
  when: []
  then:
    - avoid: tca_cross
      reason: TCA CROSS is withdrawn from this clinic's list.
  sources: ["clinical-facts.md#T01"]
"""

MIXED = ["examples/mixed-facial-scars.yaml"]
ICE_PICK = [
    "examples/isolated-deep-ice-pick.yaml",
    "examples/mixed-facial-scars.yaml",
    "examples/sensitive-low-downtime.json",
]


def _impact(*args: str) -> tuple[int, dict]:
    """Run kb impact in-process with a JSON report; its exit status and the report."""
    out = Path(args[args.index("-o") + 1])
    with pytest.raises(SystemExit) as info:
        main(["kb", "impact", *args, "--format", "json"])
    return info.value.code, json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def in_repo():
    """Cohort paths as a reviewer types them, from the repository's root."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        yield


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory) -> Path:
    """A copy of the bundled knowledge base with one rule added: avoid TCA CROSS for everyone."""
    copy = tmp_path_factory.mktemp("withdrawn") / "kb"
    shutil.copytree(REPO / "kb", copy)
    with (copy / "rules" / "20-contraindications.yaml").open("a", encoding="utf-8") as handle:
        handle.write(WITHDRAWN)
    return copy


@pytest.fixture(scope="module")
def no_ice_pick_rule(tmp_path_factory) -> Path:
    """A copy without the rule that recommends TCA CROSS for deep ice pick scars."""
    copy = tmp_path_factory.mktemp("no-ice-pick") / "kb"
    shutil.copytree(REPO / "kb", copy)
    rules = copy / "rules" / "30-procedures.yaml"
    text = rules.read_text(encoding="utf-8")
    start, end = text.index("- id: ice-pick/tca-cross\n"), text.index("- id: ice-pick/wide-may-be-boxcar")
    rules.write_text(text[:start] + text[end:], encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def report(in_repo, withdrawn, tmp_path_factory) -> tuple[int, dict, Path]:
    out = tmp_path_factory.mktemp("report") / "impact.json"
    code, data = _impact(
        "--from", "kb", "--to", str(withdrawn), "examples", "--fail-on", "avoid:tca_cross", "-o", str(out)
    )
    return code, data, out


# --- no change ------------------------------------------------------------------------------


def test_a_kb_init_copy_of_the_bundled_knowledge_base_changes_no_plan(in_repo, run_cli, tmp_path):
    assert run_cli("kb", "init", str(tmp_path / "copy")).code == 0
    run = run_cli(
        "kb", "impact", "--from", str(tmp_path / "copy"), "examples", "--fail-on", "changed:*", "--fail-on",
        "alert-lost:*", "--fail-on", "removed:tca_cross",
    )  # fmt: skip
    assert run.code == 0, run.out + run.err
    assert "0 of 7 plans changed; 7 unchanged.\n" in run.out
    assert "TREATMENTS: none moved between a plan's categories" in run.out
    assert "  to    the bundled knowledge base: cicatrix-acne-scars" in run.out
    assert run.out.endswith("0 of 3 conditions met: exit status 0\n")
    # the other way round, as an author who copied the bundled one and edits the copy runs it
    back = run_cli("kb", "impact", "--to", str(tmp_path / "copy"), *MIXED, "--fail-on", "changed:*")
    assert back.code == 0 and "  from  the bundled knowledge base: cicatrix-acne-scars" in back.out
    alias = run_cli("kb", "impact", "--kb", str(tmp_path / "copy"), *MIXED)  # --kb names NEW_KB too
    assert alias.out == back.out.split("\nFAIL-ON\n")[0]


def test_the_same_folder_twice_changes_nothing_and_says_so(in_repo, run_cli, tmp_path):
    out = tmp_path / "same.json"
    code, data = _impact("--from", "kb", "--to", "kb", "examples", "-o", str(out))
    assert code == 0
    assert (data["patients"], data["changed"], data["unchanged"]) == (7, 0, 7)
    assert data["treatments"] == data["alerts"] == data["choices"] == data["other_differences"] == []
    run = run_cli("kb", "impact", "--from", "kb", "--to", "kb", *MIXED)
    assert "are the same knowledge base: no plan can change" in run.err


# --- a change, reported exactly ---------------------------------------------------------------


def test_avoiding_tca_cross_for_everyone_is_reported_exactly(report):
    code, data, _ = report
    assert code == 1 and data["status"] == 1
    assert (data["patients"], data["changed"], data["unchanged"]) == (7, 4, 3)
    assert data["differ_otherwise"]["plans"] == 3  # already avoided there; only the avoid's rules differ
    moved = {t["id"]: [(m["from"], m["to"], m["plans"]) for m in t["moves"]] for t in data["treatments"]}
    assert moved == {
        "ablative_fractional_laser": [("recommended", "alternative", 1)],
        "punch_excision": [("alternative", "choice", 1)],
        "punch_graft": [("recommended", "alternative", 1)],
        "sun_protection": [("recommended", None, 1)],  # its rule needed TCA CROSS recommended
        "tca_cross": [(None, "avoid", 1), ("choice", "avoid", 3)],
        "tca_cross+ablative_fractional_laser": [("alternative", None, 2)],
        "tca_cross+microneedling": [("alternative", None, 1), ("recommended", None, 1)],
        "tca_cross+rf_microneedling": [("recommended", None, 1)],
        "tca_cross+subcision+ablative_fractional_laser": [("recommended", None, 1)],
    }
    (tca,) = [t for t in data["treatments"] if t["id"] == "tca_cross"]
    assert (tca["title"], tca["added"], tca["removed"], tca["moved"]) == ("TCA CROSS", 1, 0, 3)
    assert [e["patient"] for e in tca["moves"][0]["examples"]] == ["examples/dark-skin.yaml"]
    assert [e["patient"] for e in tca["moves"][1]["examples"]] == ICE_PICK
    assert [(c["from"], c["to"], c["problems"], [(e["patient"], e["problem"]) for e in c["examples"]])
            for c in data["choices"]] == [
        ("tca_cross", None, 1, [("examples/sensitive-low-downtime.json", "problem-1")]),
        ("tca_cross", "punch_excision", 1, [("examples/isolated-deep-ice-pick.yaml", "problem-1")]),
        ("tca_cross", "rf_microneedling", 1, [("examples/mixed-facial-scars.yaml", "problem-1")]),
    ]  # fmt: skip
    assert data["alerts"] == []
    assert data["fail_on"] == [
        {
            "condition": "avoid:tca_cross",
            "met": True,
            "plans": 4,
            "examples": ["examples/dark-skin.yaml", *ICE_PICK[:2]],
        }
    ]


def test_the_first_example_of_each_change_is_explained_under_the_new_knowledge_base(report):
    _, data, _ = report
    (tca,) = [t for t in data["treatments"] if t["id"] == "tca_cross"]
    first, second, _ = tca["moves"][1]["examples"]
    assert (
        first["reason"]["text"] == "tca_cross (TCA CROSS) is avoided: TCA CROSS is withdrawn from this clinic's list."
    )
    (rule,) = first["reason"]["children"]
    assert rule["text"].startswith("rule withdrawn/tca-cross (firing #")
    assert [c["text"] for c in rule["children"]][-1] == "no conditions: applies to everyone"
    assert second["reason"] is None  # --reasons 1: only the first
    (combo,) = [t for t in data["treatments"] if t["id"] == "tca_cross+microneedling"]
    why_not = combo["moves"][0]["examples"][0]["reason"]
    assert why_not["text"] == "tca_cross+microneedling was not recommended."
    assert "but a component is avoided: tca_cross" in why_not["children"][0]["text"]
    assert (
        why_not["children"][-1]["text"]
        == "under --from it was alternative, by rule combination/tca-cross-microneedling"
    )
    choice = data["choices"][1]["examples"][0]["reason"]
    assert choice["text"].startswith("problem-1: deep ice pick scars on the forehead")


def test_removing_the_rule_that_recommends_tca_cross_for_ice_pick_scars(in_repo, no_ice_pick_rule, tmp_path):
    out = tmp_path / "r.json"
    code, data = _impact("--from", "kb", "--to", str(no_ice_pick_rule), "examples", "-o", str(out),
                         "--fail-on", "removed:tca_cross", "--fail-on", "avoid:tca_cross")  # fmt: skip
    assert code == 1
    assert [(f["condition"], f["plans"]) for f in data["fail_on"]] == [("removed:tca_cross", 3), ("avoid:tca_cross", 0)]
    (tca,) = [t for t in data["treatments"] if t["id"] == "tca_cross"]
    assert [(m["from"], m["to"], m["kind"], m["plans"]) for m in tca["moves"]] == [("choice", None, "removed", 3)]
    assert [e["patient"] for e in tca["moves"][0]["examples"]] == ICE_PICK
    why = tca["moves"][0]["examples"][0]["reason"]
    assert why["text"] == "tca_cross was not recommended."
    assert why["children"][-1]["text"] == "under --from it was choice, by rule ice-pick/tca-cross (gone from --to)"
    assert data["changed"] == 3
    code, _ = _impact("--from", "kb", "--to", str(no_ice_pick_rule), "examples", "-o", str(out),
                      "--fail-on", "avoid:tca_cross", "--fail-on", "alert-gained:*")  # fmt: skip
    assert code == 0


def test_an_alert_no_longer_raised_is_lost_and_explained(in_repo, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    rules = copy / "rules" / "20-contraindications.yaml"
    text = rules.read_text(encoding="utf-8")
    start = text.index("- id: isotretinoin/pregnant-alert\n")
    rules.write_text(text[:start] + text[text.index("\n- id:", start) + 1 :], encoding="utf-8")
    patient = tmp_path / "p.yaml"
    patient.write_text("patient: {pregnant: true, isotretinoin_months_ago: 0}\nscars: [{type: rolling}]\n")
    out = tmp_path / "r.json"
    code, data = _impact("--to", str(copy), str(patient), "--fail-on", "alert-lost:isotretinoin-*", "-o", str(out))
    assert code == 1
    (alert,) = data["alerts"]
    assert (alert["id"], alert["added"], alert["removed"], alert["moved"]) == ("isotretinoin-pregnancy", 0, 1, 0)
    (move,) = alert["moves"]
    assert (move["from"], move["to"], move["plans"]) == ("urgent", None, 1)
    reason = move["examples"][0]["reason"]
    assert reason["text"] == "isotretinoin-pregnancy is no longer raised."
    assert [c["text"] for c in reason["children"]] == [
        "no rule of the new knowledge base raises isotretinoin-pregnancy",
        "under --from it was urgent, by rule isotretinoin/pregnant-alert (gone from --to)",
    ]


def test_the_json_report_is_deterministic(report, in_repo, withdrawn, tmp_path):
    code, _, first = report
    again = tmp_path / "again.json"
    assert _impact("--from", "kb", "--to", str(withdrawn), "examples", "--fail-on", "avoid:tca_cross",
                   "-o", str(again))[0] == code  # fmt: skip
    assert again.read_bytes() == first.read_bytes()


def test_the_text_report(in_repo, withdrawn, run_cli):
    run = run_cli("kb", "impact", "--from", "kb", "--to", str(withdrawn), "examples", "--fail-on", "avoid:tca_cross",
                  "--width", "88")  # fmt: skip
    assert run.code == 1
    assert "4 of 7 plans changed; 3 unchanged (3 of them differ in other ways: see below).\n" in run.out
    assert (
        "  tca_cross (TCA CROSS): added to 1, moved in 3\n"
        "    absent -> avoid               1  examples/dark-skin.yaml\n"
        "    choice -> avoid               3  examples/isolated-deep-ice-pick.yaml,\n"
        "                                     examples/mixed-facial-scars.yaml,\n"
        "                                     examples/sensitive-low-downtime.json\n"
    ) in run.out
    assert "    tca_cross -> rf_microneedling    1  problem-1 of examples/mixed-facial-scars.yaml\n" in run.out
    assert "  tca_cross: choice -> avoid, in examples/isolated-deep-ice-pick.yaml\n" in run.out
    assert "    └─ rule withdrawn/tca-cross (firing #" in run.out
    assert run.out.endswith("1 of 1 condition met: exit status 1\n")
    assert max(len(line) for line in run.out.splitlines()) <= 88
    narrow = run_cli("kb", "impact", "--from", "kb", "--to", str(withdrawn), *MIXED, "--width", "50")
    assert max(len(line) for line in narrow.out.splitlines()) <= 50


def test_no_reasons_and_fewer_examples(in_repo, withdrawn, run_cli):
    run = run_cli("kb", "impact", "--from", "kb", "--to", str(withdrawn), "examples", "--examples", "1",
                  "--reasons", "0")  # fmt: skip
    assert "WHY" not in run.out
    assert "    choice -> avoid               3  examples/isolated-deep-ice-pick.yaml, and 2 more\n" in run.out


# --- cohorts -------------------------------------------------------------------------------------


def test_every_kind_of_cohort_is_read_and_each_patient_named(in_repo, withdrawn, tmp_path):
    scar = '{"scars": [{"type": "ice_pick", "site": "cheeks", "depth": "deep"}]}'
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "one.yaml").write_text("scars: [{type: ice_pick, site: cheeks, depth: deep}]\n")
    (folder / "stream.yml").write_text("scars: [{type: rolling}]\n---\nscars: [{type: ice_pick, depth: deep}]\n")
    (folder / "p.json").write_text(scar)
    (folder / "b.jsonl").write_text(f"{scar}\n\n{scar}\n")
    (folder / "b.csv").write_text("patient.age,scars.1.type,scars.1.depth\n30,ice_pick,deep\n")
    (folder / "notes.txt").write_text("not a patient")
    (folder / ".hidden.yaml").write_text("not: read")
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases:\n  - id: c1\n    patient: {scars: [{type: ice_pick, depth: deep}]}\n    expect: {}\n")
    out = tmp_path / "r.json"
    _, data = _impact("--from", "kb", "--to", str(withdrawn), str(folder), str(cases), "--examples", "20",
                      "-o", str(out))  # fmt: skip
    names = [e["patient"] for e in data["changed_examples"]]
    assert names == [
        f"{folder}/b.csv:2",
        f"{folder}/b.jsonl:1",
        f"{folder}/b.jsonl:3",
        f"{folder}/one.yaml",
        f"{folder}/p.json",
        f"{folder}/stream.yml:1",
        f"{folder}/stream.yml:3",
        f"{cases}:2 (c1)",
    ]


def test_a_consultation_store_is_a_cohort_of_its_records(in_repo, withdrawn, run_cli, tmp_path):
    store = tmp_path / "consultations"  # a store is known by its content, whatever its name
    for example in ("examples/pregnant.yaml", "examples/mixed-facial-scars.yaml"):
        assert run_cli("consult", example, "--store", str(store)).code == 0
    out = tmp_path / "r.json"
    _, data = _impact("--from", "kb", "--to", str(withdrawn), str(store), "-o", str(out))
    assert (data["patients"], data["changed"]) == (2, 1)
    assert data["changed_examples"] == [{"patient": f"{store}#2 (examples/mixed-facial-scars.yaml)"}]
    assert data["differ_otherwise"]["examples"][0]["patient"] == f"{store}#1 (examples/pregnant.yaml)"


def test_patients_one_knowledge_base_rejects_are_reported_as_such(in_repo, tmp_path, run_cli):
    strict = tmp_path / "strict"
    shutil.copytree(REPO / "kb", strict)
    templates = strict / "templates.yaml"
    templates.write_text(templates.read_text().replace("        maximum: 120", "        maximum: 100", 1))
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(
        '{"patient": {"age": 110}, "scars": [{"type": "rolling"}]}\nnot json\n{"scars": [{"type": "boxcar"}]}\n'
    )
    out = tmp_path / "r.json"
    code, data = _impact("--from", "kb", "--to", str(strict), str(cohort), "--fail-on", "changed:*", "-o", str(out))
    assert code == 1
    assert (data["patients"], data["changed"], data["unchanged"]) == (3, 1, 1)
    assert data["invalid"]["to"]["examples"] == [
        {
            "patient": f"{cohort}:1",
            "problems": {"from": [], "to": [f"{cohort}:1: patient.age: expected at most 100, got 110"]},
        }
    ]
    assert data["invalid"]["both"]["patients"] == 1 and data["invalid"]["from"]["patients"] == 0
    run = run_cli("kb", "impact", "--from", "kb", "--to", str(strict), str(cohort), "--width", "200")
    assert "1 of 2 plans changed (1 of them planned under one knowledge base only); 1 unchanged." in run.out
    assert f"      --to:   {cohort}:1: patient.age: expected at most 100, got 110\n" in run.out
    assert f"      both:   {cohort}:2:1: not valid JSON" in run.out


def test_a_csv_column_one_knowledge_base_lacks_fails_every_row_under_that_one(make_kb, tmp_path):
    rule = "- id: r\n  title: r\n  when: [{scar: {type: ice_pick}}]\n  then: [{recommend: alpha, explain: ok}]\n"
    rule += "  sources: [src.txt]\n"
    old = make_kb(rule, name="old")
    new = make_kb(
        rule, name="new", templates=TEMPLATES.replace("      tolerance: {type: number, minimum: 0, default: 7}\n", "")
    )
    cohort = tmp_path / "c.csv"
    cohort.write_text("patient.tolerance,scars.1.type\n5,ice_pick\n3,boxcar\n")
    out = tmp_path / "r.json"
    _, data = _impact("--from", str(old), "--to", str(new), str(cohort), "-o", str(out))
    assert (data["patients"], data["invalid"]["to"]["patients"]) == (2, 2)
    problem = data["invalid"]["to"]["examples"][0]["problems"]["to"][0]
    assert problem.startswith(f"{cohort}:1: column 'patient.tolerance' is not a patient-file field")
    assert [e["patient"] for e in data["invalid"]["to"]["examples"]] == [f"{cohort}:2", f"{cohort}:3"]
    _, back = _impact("--from", str(new), "--to", str(old), str(cohort), "-o", str(out))
    assert (back["invalid"]["from"]["patients"], back["invalid"]["to"]["patients"]) == (2, 0)
    cohort.write_text("scars.1.type\nice_pick\n")  # a header both read: compared as usual
    _, same = _impact("--from", str(old), "--to", str(new), str(cohort), "-o", str(out))
    assert (same["patients"], same["changed"], same["unchanged"]) == (1, 0, 1)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "removed:tca_cros", *MIXED],
         "--fail-on: 'removed:tca_cros': treatment id 'tca_cros' is known to neither knowledge base; "
         "did you mean 'tca_cross'?"),
        (["--fail-on", "removd:tca_cross", *MIXED], "unknown kind 'removd'; did you mean 'removed'?"),
        (["--fail-on", "tca_cross", *MIXED], "'tca_cross': expected KIND:ID"),
        (["--fail-on", "alert-lost:nope", *MIXED], "(alerts: isotretinoin-breastfeeding,"),
        (["nothing.yaml"], "nothing.yaml: no such file or folder"),
        (["README.md"], "README.md: not a cohort file: expected a patient file"),
        (["docs"], "docs: no patient or batch files"),
        (["-"], "-: a cohort is read from files"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_located_message(in_repo, run_cli, args, message):
    run = run_cli("kb", "impact", "--from", "kb", *args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err and run.out == ""


def test_every_bad_cohort_path_and_condition_at_once(in_repo, run_cli):
    run = run_cli("kb", "impact", "--from", "kb", "nothing.yaml", "README.md")
    assert run.code == 2 and "cicatrix: 2 problems" in run.err


def test_bad_knowledge_bases_and_an_empty_cohort_exit_2(in_repo, run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("CICATRIX_KB", raising=False)
    assert "no such knowledge-base folder" in run_cli("kb", "impact", "--from", "nope", *MIXED).err
    assert "examples/kb.yaml: missing" in run_cli("kb", "impact", "--from", "examples", *MIXED).err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    run = run_cli("kb", "impact", "--from", "kb", str(empty))
    assert run.code == 2 and "the cohort holds no patients" in run.err
    run = run_cli("kb", "impact", *MIXED)
    assert run.code == 2 and "nothing to compare: give --from OLD_KB" in run.err


# --- completion --------------------------------------------------------------------------------


def test_fail_on_completes_kinds_then_ids():
    assert complete("kb", "impact", "--fail-on", "rem") == ["removed:"]
    assert complete("kb", "impact", "--fail-on", "removed:tca") == ["removed:tca_cross"]
    assert "alert-lost:isotretinoin-pregnancy" in complete("kb", "impact", "--fail-on", "alert-lost:")
