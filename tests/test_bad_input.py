"""Bad input exits 2 with a message naming the file, the place and what was expected."""

from __future__ import annotations

import pytest

from .conftest import EXAMPLES


def write(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "scars:\n  - type: icepick\n",
            ["p.yaml:2:11", "scars[0].type", "'icepick'", "did you mean 'ice_pick'"],
        ),
        (
            "patient:\n  fitzpatrick: 9\nscars:\n  - type: boxcar\n",
            ["p.yaml:2:16", "patient.fitzpatrick", "at most 6"],
        ),
        (
            "patient:\n  pregnant: [yes\nscars: []\n",
            ["p.yaml:3", "not valid YAML"],
        ),
        (
            "patient:\n  age: twenty\nscars:\n  - type: boxcar\n",
            ["p.yaml:2:8", "patient.age", "expected a whole number or null", "'twenty'"],
        ),
        (
            "patient:\n  pregnat: true\nscars:\n  - type: boxcar\n",
            ["p.yaml:2:3", "unknown key 'pregnat'", "did you mean 'pregnant'"],
        ),
        ("patient:\n  age: 30\n", ["p.yaml:1:1", "missing required key 'scars'"]),
        ("scars: []\n", ["p.yaml:1:8", "scars", "at least 1 item"]),
        ("", ["p.yaml", "empty"]),
        ("- just\n- a list\n", ["p.yaml:1:1", "expected a mapping"]),
        (
            "scars:\n  - type: boxcar\n    site: cheek\n",
            ["p.yaml:3:11", "did you mean 'cheeks'"],
        ),
        (
            "patient:\n  conditions: [eczma]\nscars:\n  - type: boxcar\n",
            ["p.yaml:2:16", "patient.conditions[0]", "did you mean 'eczema'"],
        ),
        (
            "patient: !!python/name:os.system 1\nscars: []\n",
            ["p.yaml:1:10", "not valid YAML", "constructor"],
        ),
        (
            "patient: {age: 1}\npatient: {age: 2}\nscars:\n  - type: boxcar\n",
            ["p.yaml:2:1", "duplicate key 'patient'"],
        ),
        (
            "scars:\n  - type: boxcar\n    count: !!python/object/apply:os.system ['echo hi']\n",
            ["p.yaml:3", "not valid YAML", "is not allowed"],
        ),
    ],
)
def test_bad_patient_file_exits_2_with_location(tmp_path, run_cli, text, expected):
    path = write(tmp_path, text)
    run = run_cli("consult", str(path))
    assert run.code == 2, run.err
    for part in expected:
        assert part in run.err, run.err
    assert "Traceback" not in run.err
    assert run.out == ""


def test_several_problems_are_reported_together(tmp_path, run_cli):
    path = write(tmp_path, "patient:\n  fitzpatrick: 0\n  budget: cheap\nscars:\n  - type: x\n")
    run = run_cli("consult", str(path))
    assert run.code == 2
    assert "p.yaml:2:16" in run.err and "p.yaml:3:11" in run.err and "p.yaml:5:11" in run.err
    assert "3 problems" in run.err


def test_missing_file(tmp_path, run_cli):
    run = run_cli("consult", str(tmp_path / "nope.yaml"))
    assert run.code == 2
    assert "nope.yaml: no such file" in run.err


def test_json_patient_file_errors_are_located(tmp_path, run_cli):
    path = write(tmp_path, '{"scars": [{"type": "boxcar", "depth": "medium"}]}', "p.json")
    run = run_cli("consult", str(path))
    assert run.code == 2
    assert "p.json:1:40: scars[0].depth" in run.err
    assert "expected one of: shallow, moderate, deep, null" in run.err


def test_bad_arguments_exit_2(run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "xml")
    assert run.code == 2
    assert "'xml' is not one of 'text', 'json'" in run.err
    assert run_cli("consult").code == 2
    assert run_cli("no-such-command").code == 2


def test_output_is_not_written_on_bad_input(tmp_path, run_cli):
    bad = write(tmp_path, "scars:\n  - type: nope\n")
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
