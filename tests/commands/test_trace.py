"""The trace command: show, how, why-not and replay on a saved trace, and bad trace files."""

from __future__ import annotations

import json

import pytest

from ..conftest import EXAMPLES


@pytest.fixture
def trace_file(tmp_path, run_cli):
    out = tmp_path / "t.json"
    run = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--trace", str(out), "-o", str(tmp_path / "p"))
    assert run.code == 0
    return out


def test_cli_show_filters(run_cli, trace_file):
    run = run_cli("trace", "show", str(trace_file), "--rule", "ice-pick/*")
    assert run.code == 0
    rows = run.out.splitlines()[2:]
    assert rows and all("ice-pick/" in r for r in rows)
    run = run_cli("trace", "show", str(trace_file), "--fact", "scar-1", "--format", "json")
    firings = json.loads(run.out)["firings"]
    assert firings and all("scar-1" in f["matched"] + f["asserted"] for f in firings)


def test_cli_how_and_why_not(run_cli, trace_file):
    run = run_cli("trace", "how", str(trace_file), "tca_cross")
    assert run.code == 0 and "(patient input)" in run.out and "ice-pick/tca-cross" in run.out
    run = run_cli("trace", "why-not", str(trace_file), "punch_excision")
    assert run.code == 0 and "scar #1 count is 8; the rule needs at most 5" in run.out
    run = run_cli("trace", "replay", str(trace_file))
    assert run.code == 0 and run.out.startswith("ok: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "not a JSON trace"),
        ('{"format": "cicatrix-trace", "version": 99}', "trace format version 99 is not supported"),
        ('{"format": "something-else"}', "not a cicatrix trace"),
        ('{"format": "cicatrix-trace", "version": 1, "kb": {}}', "damaged trace"),
    ],
)
def test_bad_trace_files_exit_2(tmp_path, run_cli, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    run = run_cli("trace", "show", str(path))
    assert run.code == 2
    assert expected in run.err and "Traceback" not in run.err


def test_truncated_trace_exits_2(tmp_path, run_cli, trace_file):
    text = trace_file.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    run = run_cli("trace", "how", str(cut), "tca_cross")
    assert run.code == 2
    assert "looks truncated" in run.err


def test_unknown_ids_suggest_close_ones(run_cli, trace_file):
    run = run_cli("trace", "how", str(trace_file), "tca_cros")
    assert run.code == 2 and "did you mean 'tca_cross'" in run.err
    run = run_cli("trace", "why-not", str(trace_file), "punch_excison")
    assert run.code == 2 and "did you mean 'punch_excision'" in run.err
    run = run_cli("trace", "show", str(trace_file), "--fact", "scar-9")
    assert run.code == 2 and "no fact 'scar-9'" in run.err
    assert run_cli("trace", "show", str(trace_file.with_name("missing.json"))).code == 2


def test_cli_how_a_problem_and_why_not_an_alternative(run_cli, trace_file):
    run = run_cli("trace", "how", str(trace_file), "problem-2")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0] == "problem-2: moderate rolling scars on the cheeks (region face, grade 3, burden 12)"
    assert "├─ choice: subcision (Subcision ± PRP)" in lines
    assert "├─ alternative: microneedling (Microneedling ± PRP): ranked after Subcision by the sources" in lines
    run = run_cli("trace", "why-not", str(trace_file), "microneedling")
    assert run.code == 0
    assert run.out.splitlines()[1] == (
        "├─ an alternative for problem-2 (moderate rolling scars on the cheeks), after the choice subcision"
    )
    run = run_cli("trace", "why-not", str(trace_file), "dermal_filler")
    assert run.code == 0
    assert run.out.splitlines()[1] == (
        "└─ considered for problem-2 (moderate rolling scars on the cheeks), but ranked after the choice"
    )
    run = run_cli("trace", "how", str(trace_file), "problem-9")
    assert run.code == 2 and "did you mean 'problem-" in run.err and "Traceback" not in run.err


def _version_1(trace_file, tmp_path):
    """The trace as version 1 wrote it: no plan, and no duplicate, scope or risk records."""
    data = json.loads(trace_file.read_text())
    data["version"] = 1
    data["result"].pop("plan")
    data.pop("names")
    data.pop("targets")
    for firing in data["firings"]:
        for action in firing["actions"]:
            for key in ("same_as", "scope", "risk"):
                action.pop(key, None)
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(data))
    return path


def test_version_1_traces_still_answer_show_how_and_why_not(run_cli, trace_file, tmp_path):
    old = _version_1(trace_file, tmp_path)
    for args in (("show",), ("why-not", "punch_excision")):
        run = run_cli("trace", args[0], str(old), *args[1:])
        assert run.code == 0, run.err
        assert run.out == run_cli("trace", args[0], str(trace_file), *args[1:]).out
    # how is the same, less where the plan uses it, which a version-1 trace does not record
    run = run_cli("trace", "how", str(old), "tca_cross")
    assert run.code == 0, run.err
    new = run_cli("trace", "how", str(trace_file), "tca_cross").out
    assert "├─ chosen for problem-1 (deep ice pick scars on the cheeks)\n" in new
    assert run.out == new.replace("├─ chosen for problem-1 (deep ice pick scars on the cheeks)\n", "")
    run = run_cli("trace", "why-not", str(old), "tca_cross")
    assert run.code == 0
    assert run.out.startswith("tca_cross (TCA CROSS) was recommended, rank 1; ask `cicatrix trace how` how.\n")
    assert "this trace is format version 1, written before plans had problems: it records no plan" in run.out


def test_version_1_traces_have_no_problems_to_explain(run_cli, trace_file, tmp_path):
    old = _version_1(trace_file, tmp_path)
    run = run_cli("trace", "how", str(old), "problem-1")
    assert run.code == 2 and "Traceback" not in run.err
    assert f"{old}: this trace is format version 1, written before plans had problems" in run.err
    assert "so it cannot say what problem-1 is" in run.err


def test_replay_refuses_a_version_1_trace(run_cli, trace_file, tmp_path):
    run = run_cli("trace", "replay", str(_version_1(trace_file, tmp_path)))
    assert run.code == 2 and "Traceback" not in run.err
    assert "this trace is format version 1, written before plans had problems and a course" in run.err
