"""Reading a patient file: bad input exits 2 with a message naming the file, the
place and what was expected."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.patient.reader import from_data, read


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


def test_input_facts_are_named_and_filled_with_defaults(kb):
    data = {"patient": {"age": 30}, "scars": [{"type": "boxcar", "count": 3.0}, {"type": "rolling", "site": "chin"}]}
    patient = from_data(data, kb, source="p.yaml")
    assert patient.source == "p.yaml"
    assert [(f.id, f.template) for f in patient.facts] == [
        ("patient", "patient"),
        ("scar-1", "scar"),
        ("scar-2", "scar"),
    ]
    person, first, second = (f.values for f in patient.facts)
    for name, spec in kb.templates["patient"].fields.items():
        assert person[name] == (30 if name == "age" else spec.default), name
    for name, spec in kb.templates["scar"].fields.items():
        if name not in ("type", "count", "site"):
            assert first[name] == second[name] == spec.default, name
    # a whole number written as 3.0 is read as the integer 3
    assert first["count"] == 3 and type(first["count"]) is int
    assert second["site"] == "chin" and second["count"] == kb.templates["scar"].fields["count"].default
    assert patient.normalised == {"patient": person, "scars": [first, second]}


def test_an_empty_file_is_an_error(tmp_path, kb):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")
    with pytest.raises(CicatrixError, match="the file is empty"):
        read(path, kb)


def test_a_whole_number_reads_the_same_whichever_way_it_was_written(kb):
    from cicatrix.engine.patient.reader import from_data

    one = from_data({"scars": [{"type": "boxcar", "width_mm": 2.0}]}, kb)
    two = from_data({"scars": [{"type": "boxcar", "width_mm": 2}]}, kb)
    assert one.normalised == two.normalised
    assert type(one.normalised["scars"][0]["width_mm"]) is int
