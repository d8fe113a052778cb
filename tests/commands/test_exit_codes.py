"""Exit statuses, decided in one place: commands return a status, cli.py exits with it.

Each command path that ends in a non-zero status is run in-process (``run_cli``,
through ``cli.main``) and, where click's standalone mode could lose a returned
status, through ``CliRunner`` too. ``kb list --where`` is here as well: its
filtering, and its bad input exiting 2 with a message naming ``--where``.
"""

from __future__ import annotations

import ast
import io
import json
import shutil
import sys

import pytest
from click.testing import CliRunner

from cicatrix.cli import cli

from ..conftest import EXAMPLES, MANIFEST, REPO

MIXED = str(EXAMPLES / "mixed-facial-scars.yaml")


# --- no command exits by itself ------------------------------------------------------


def _exits(path) -> list[str]:
    """Calls of sys.exit / exit / raise SystemExit, and raising an empty CicatrixError."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("sys.exit", "exit", "quit", "os._exit"):
                found.append(f"{path.name}:{node.lineno}: {name}()")
            if name == "CicatrixError" and node.args and ast.unparse(node.args[0]) in ("[]", "()", "''"):
                found.append(f"{path.name}:{node.lineno}: empty CicatrixError")
        elif isinstance(node, ast.Raise) and node.exc is not None and "SystemExit" in ast.unparse(node.exc):
            found.append(f"{path.name}:{node.lineno}: raise SystemExit")
    return found


def test_commands_return_their_status_and_never_exit_themselves():
    found = [hit for path in sorted((REPO / "commands").rglob("*.py")) for hit in _exits(path)]
    assert found == [], "only cli.py turns outcomes into exit statuses"


# --- consult -------------------------------------------------------------------------


def test_consult_ok_exits_0(run_cli, tmp_path):
    run = run_cli("consult", MIXED, "-o", str(tmp_path / "plan.txt"))
    assert run.code == 0 and (tmp_path / "plan.txt").is_file()


@pytest.mark.parametrize("answers", ["quit\n", "rolling\nquit\n", "rolling\n"], ids=["quit", "quit-later", "eof"])
def test_consult_stopped_by_the_person_exits_1(run_cli, monkeypatch, tmp_path, answers):
    save, out = tmp_path / "me.yaml", tmp_path / "plan.txt"
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    run = run_cli("consult", "-i", "--save", str(save), "-o", str(out))
    assert run.code == 1
    assert run.err.endswith("\nStopped; nothing was saved.\n")
    assert not save.exists() and not out.exists()


def test_consult_quit_exits_1_in_clicks_standalone_mode_too(tmp_path):
    # CliRunner runs the group standalone, where click ignores a returned value.
    result = CliRunner().invoke(cli, ["consult", "-i", "-o", str(tmp_path / "p")], input="quit\n")
    assert result.exit_code == 1 and "Stopped; nothing was saved." in result.output


@pytest.mark.parametrize("flag", ["-o", "--trace"])
def test_consult_into_a_missing_folder_exits_2(run_cli, tmp_path, flag):
    target = tmp_path / "nowhere" / "f"
    run = run_cli("consult", MIXED, flag, str(target))
    assert run.code == 2
    assert f"the folder {str(tmp_path / 'nowhere')!r} does not exist" in run.err
    assert not (tmp_path / "nowhere").exists()


# --- batch ---------------------------------------------------------------------------


def _jsonl(tmp_path, *records: str):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(records) + "\n")
    return path


GOOD = '{"scars": [{"type": "rolling"}]}'
BAD = '{"scars": [{"type": "icepick"}]}'


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_with_a_failed_record_exits_2_and_still_writes_every_line(run_cli, tmp_path, jobs):
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(_jsonl(tmp_path, GOOD, BAD)), "--jobs", jobs, "-o", str(out))
    assert run.code == 2
    assert run.err.endswith("2 record(s), 1 failed\n")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["line"] for line in lines] == [1, 2] and "error" in lines[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_batch_all_good_exits_0(run_cli, tmp_path):
    run = run_cli("batch", str(_jsonl(tmp_path, GOOD, GOOD)), "--jobs", "1")
    assert run.code == 0 and len(run.out.splitlines()) == 2
    assert run.err.endswith("2 record(s), 0 failed\n")


def test_batch_into_a_missing_folder_exits_2(run_cli, tmp_path):
    run = run_cli("batch", str(_jsonl(tmp_path, GOOD)), "--jobs", "1", "-o", str(tmp_path / "no" / "out.jsonl"))
    assert run.code == 2 and "the folder" in run.err and "does not exist" in run.err


# --- trace replay --------------------------------------------------------------------


def test_trace_replay_exits_0_when_same_and_1_when_the_plan_differs(run_cli, tmp_path):
    trace = tmp_path / "t.json"
    assert run_cli("consult", MIXED, "--trace", str(trace), "-o", str(tmp_path / "p")).code == 0
    run = run_cli("trace", "replay", str(trace))
    assert run.code == 0 and run.out.startswith("ok: ")
    data = json.loads(trace.read_text())
    data["result"]["notes"] = ["changed", *data["result"]["notes"]]
    trace.write_text(json.dumps(data))
    run = run_cli("trace", "replay", str(trace))
    assert run.code == 1
    assert run.err.startswith("The replayed plan differs from the recorded one:\n  notes")
    assert "cicatrix:" not in run.err  # a finding, not an error: no error messages


# --- kb test and kb lint (a nested group: the status comes up through `kb`) ----------


@pytest.fixture
def bundled_copy(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    return copy


def test_kb_test_exits_1_on_a_failing_case_and_on_low_coverage(run_cli, bundled_copy):
    assert run_cli("kb", "test", "--kb", str(bundled_copy), "-k", "V01*").code == 0
    run = run_cli("kb", "test", "--kb", str(bundled_copy), "-k", "V01*", "--min-coverage", "100")
    assert run.code == 1 and "is below 100.0%" in run.err
    cases = bundled_copy / "tests" / "vignettes.yaml"
    text = cases.read_text()
    assert "      not_recommend: [subcision]\n" in text
    broken = text.replace("      not_recommend: [subcision]\n", "      not_recommend: [subcision, tca_cross]\n", 1)
    cases.write_text(broken)
    run = run_cli("kb", "test", "--kb", str(bundled_copy), "-k", "V01*")
    assert run.code == 1 and "FAIL V01" in run.out and run.out.endswith("0 passed, 1 failed\n")


def test_kb_test_failure_exits_1_in_clicks_standalone_mode_too(bundled_copy):
    result = CliRunner().invoke(cli, ["kb", "test", "--kb", str(bundled_copy), "-k", "V01*", "--min-coverage", "100"])
    assert result.exit_code == 1


LINT_ERROR = """\
- id: never
  title: never fires
  when: [{patient: {level: {gt: 5, lt: 3}}}]
  then: [{recommend: alpha, explain: x}]
  sources: [src.txt]
"""


def test_kb_lint_exits_2_on_an_error_with_its_report_only(run_cli, make_kb):
    run = run_cli("kb", "lint", "--kb", str(make_kb(LINT_ERROR)))
    assert run.code == 2
    assert "error: " in run.out and "1 error(s)" in run.out
    assert run.err == ""  # the report is the message: no empty error block, no count line


def test_kb_lint_warnings_fail_only_with_strict(run_cli, make_kb):
    root = make_kb(WHERE_RULES)  # treatments no rule recommends: warnings, no errors
    run = run_cli("kb", "lint", "--kb", str(root))
    assert run.code == 0 and "0 error(s)" in run.out and " 0 warning(s)" not in run.out
    assert run_cli("kb", "lint", "--kb", str(root), "--strict").code == 2
    result = CliRunner().invoke(cli, ["kb", "lint", "--kb", str(root), "--strict"])
    assert result.exit_code == 2


# --- kb list --where -----------------------------------------------------------------

WHERE_RULES = """\
- id: eq-ice-pick
  title: eq
  when: [{scar: {type: ice_pick}}]
  then: [{recommend: alpha, explain: x}]
  sources: [src.txt]
- id: any-boxcar-rolling
  title: any
  when: [{scar: {type: [boxcar, rolling]}}]
  then: [{recommend: beta, explain: x}]
  sources: [src.txt]
- id: in-level
  title: in
  when: [{patient: {level: {in: [3, 4]}}}]
  then: [{note: x}]
  sources: [src.txt]
- id: gt-level
  title: a comparison is not a test for a value
  when: [{patient: {level: {gt: 3}}}]
  then: [{note: x}]
  sources: [src.txt]
- id: not-ice-pick
  title: not is not a test for a value
  when: [{scar: {type: {not: ice_pick}}}]
  then: [{note: x}]
  sources: [src.txt]
- id: contains-rosacea
  title: contains
  when: [{patient: {conditions: {contains: rosacea}}}]
  then: [{avoid: alpha, reason: x}]
  sources: [src.txt]
- id: unless-pregnant
  title: unless
  when: [{scar: {depth: deep}}]
  unless: [{patient: {pregnant: true}}]
  then: [{recommend: alpha, explain: x, targets: [rolling]}]
  sources: [src.txt]
"""

TARGETS = "targets: {template: scar, field: type}\n"


def _listed(run) -> list[str]:
    return [line.split()[0] for line in run.out.splitlines()[:-1]]


@pytest.mark.parametrize(
    ("wheres", "expected"),
    [
        (["scar.type=ice_pick"], ["eq-ice-pick"]),
        (["scar.type=rolling"], ["any-boxcar-rolling", "unless-pregnant"]),  # unless-pregnant: by its targets
        (["patient.level=3"], ["in-level"]),
        (["patient.level=3.0"], ["in-level"]),
        (["patient.conditions=rosacea"], ["contains-rosacea"]),
        (["patient.pregnant=true"], ["unless-pregnant"]),
        (["patient.pregnant=yes"], ["unless-pregnant"]),
        (["scar.type=rolling", "patient.pregnant=true"], ["unless-pregnant"]),  # repeated: all must hold
    ],
)
def test_where_lists_rules_testing_or_targeting_the_value(run_cli, make_kb, wheres, expected):
    root = make_kb(WHERE_RULES, manifest=MANIFEST + TARGETS)
    args = [arg for where in wheres for arg in ("--where", where)]
    run = run_cli("kb", "list", "--kb", str(root), *args)
    assert run.code == 0 and run.err == ""
    assert _listed(run) == expected
    assert run.out.endswith(f"{len(expected)} of 7 rules\n")


def test_where_matches_targets_only_on_the_declared_targets_field(run_cli, make_kb):
    root = make_kb(WHERE_RULES)  # no `targets:` in kb.yaml
    run = run_cli("kb", "list", "--kb", str(root), "--where", "scar.type=rolling")
    assert _listed(run) == ["any-boxcar-rolling"]


def test_where_with_no_match_says_so_in_generic_words(run_cli, make_kb):
    root = make_kb(WHERE_RULES, manifest=MANIFEST + TARGETS)
    run = run_cli("kb", "list", "--kb", str(root), "--where", "scar.site=forehead")
    assert run.code == 0 and run.out == "0 of 7 rules\n"
    assert run.err == "(no rule tests or targets scar.site=forehead)\n"
    run = run_cli("kb", "list", "--kb", str(root), "--where", "scar.type=ice_pick", "--where", "patient.level=4")
    assert run.err == "(no rule tests or targets all of scar.type=ice_pick, patient.level=4)\n"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("scr.type=ice_pick", "--where: unknown template 'scr'; did you mean 'scar'?"),
        ("scar.typ=ice_pick", "--where: template 'scar' has no field 'typ'; did you mean 'type'?"),
        (
            "scar.type=icepick",
            "--where: 'icepick' is not a value of scar.type: expected one of ice_pick, boxcar, rolling; "
            "did you mean 'ice_pick'?",
        ),
        ("patient.conditions=rosacia", "is not a value of patient.conditions"),
        ("patient.pregnant=maybe", "--where: 'maybe' is not a value of patient.pregnant: expected a boolean"),
        ("patient.level=9", "expected an integer from 1 to 6"),
        ("patient.level=x", "expected an integer from 1 to 6"),
        ("scar.type", "--where: expected FIELD=VALUE with FIELD as template.field"),
        ("type=ice_pick", "--where: expected FIELD=VALUE with FIELD as template.field"),
    ],
)
def test_where_bad_input_exits_2_naming_where(run_cli, make_kb, where, message):
    root = make_kb(WHERE_RULES, manifest=MANIFEST + TARGETS)
    run = run_cli("kb", "list", "--kb", str(root), "--where", where)
    assert run.code == 2 and run.out == ""
    assert message in run.err and "Traceback" not in run.err


def test_where_on_the_bundled_kb_and_the_domain_option_is_gone(run_cli):
    run = run_cli("kb", "list", "--where", "scar.type=keloid")
    assert run.code == 0 and "profile/raised-keloid" in run.out
    run = run_cli("kb", "list", "--scar-type", "keloid")
    assert run.code == 2 and "No such option '--scar-type'" in run.err
