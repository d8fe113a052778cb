"""The trace command: show, how, why-not and replay on a saved trace, and bad trace files."""

from __future__ import annotations

import json
import re
import shutil

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
    run = run_cli("trace", "how", str(trace_file), "problem-2", "--width", "100")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0] == "problem-2: moderate rolling scars on the cheeks (region face, grade 3, burden 12)"
    assert "├─ choice: subcision (Subcision ± PRP)" in lines
    assert "├─ alternative: microneedling (Microneedling ± PRP): ranked after Subcision by the sources" in lines
    run = run_cli("trace", "why-not", str(trace_file), "microneedling", "--width", "100")
    assert run.code == 0
    assert run.out.splitlines()[1] == (
        "├─ an alternative for problem-2 (moderate rolling scars on the cheeks), after the choice subcision"
    )
    run = run_cli("trace", "why-not", str(trace_file), "dermal_filler", "--width", "100")
    assert run.code == 0
    assert run.out.splitlines()[1] == (
        "└─ considered for problem-2 (moderate rolling scars on the cheeks), but ranked after the choice"
    )
    run = run_cli("trace", "how", str(trace_file), "problem-9", "--width", "100")
    assert run.code == 2 and "did you mean 'problem-" in run.err and "Traceback" not in run.err


def _version_1(trace_file, tmp_path):
    """The trace as version 1 wrote it: no plan, and no duplicate, scope or risk records."""
    from ..corpus.traces import as_version_1

    data = json.loads(trace_file.read_text())
    as_version_1(data)
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
    run = run_cli("trace", "how", str(old), "tca_cross", "--width", "100")
    assert run.code == 0, run.err
    new = run_cli("trace", "how", str(trace_file), "tca_cross", "--width", "100").out
    assert "├─ chosen for problem-1 (deep ice pick scars on the cheeks)\n" in new
    assert run.out == new.replace("├─ chosen for problem-1 (deep ice pick scars on the cheeks)\n", "")
    run = run_cli("trace", "why-not", str(old), "tca_cross", "--width", "100")
    assert run.code == 0
    assert run.out.startswith("tca_cross (TCA CROSS) was recommended, rank 1; ask `cicatrix trace how` how.\n")
    assert "this trace is format version 1, written before plans had problems: it records no plan" in run.out


def test_version_1_traces_have_no_problems_to_explain(run_cli, trace_file, tmp_path):
    old = _version_1(trace_file, tmp_path)
    run = run_cli("trace", "how", str(old), "problem-1", "--width", "100")
    assert run.code == 2 and "Traceback" not in run.err
    assert f"{old}: this trace is format version 1, written before plans had problems" in run.err
    assert "so it cannot say what problem-1 is" in run.err


def test_replay_refuses_a_version_1_trace(run_cli, trace_file, tmp_path):
    run = run_cli("trace", "replay", str(_version_1(trace_file, tmp_path)))
    assert run.code == 2 and "Traceback" not in run.err
    assert "this trace is format version 1, written before plans had problems and a course" in run.err


# --- damaged traces through the command line (issue 13) ------------------------------------


def _broken(trace_file, tmp_path, change):
    data = json.loads(trace_file.read_text())
    change(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def _first_with(data, key):
    return next(a for f in data["firings"] for a in f["actions"] if key in a)


DAMAGED = {  # what the issue found crashing, and the place each is reported at
    "fact values as a list": (
        lambda d: d["facts"][1].update(values=["ice_pick"]),
        "damaged trace at facts[1].values: expected a mapping, got a list ['ice_pick']",
    ),
    "a firing matches a fact that does not exist": (
        lambda d: d["firings"][0]["matched"].__setitem__(0, "finding-99"),
        "damaged trace at firings[0].matched[0]: firing #1 matched fact 'finding-99', which the trace does not have",
    ),
    "a sequence number as text": (
        lambda d: d["firings"][1].update(seq="2"),
        "damaged trace at firings[1].seq: expected a whole number, got text '2'",
    ),
    "a sequence number twice": (
        lambda d: d["firings"][2].update(seq=2),
        "damaged trace at firings[2].seq: sequence number 2 is used twice",
    ),
    "an unknown rule id": (
        lambda d: d["firings"][0].update(rule="ice-pick/tca-cros"),
        "firing #1 names rule 'ice-pick/tca-cros', which is not among the trace's rules; "
        "did you mean 'ice-pick/tca-cross'?",
    ),
    "a recommendation without an id": (
        lambda d: d["result"]["recommendations"][0].pop("id"),
        "damaged trace at result.recommendations[0]: missing required key 'id'",
    ),
    "bindings as a list": (
        lambda d: next(f for f in d["firings"] if f["bindings"]).update(bindings=["site"]),
        "bindings: expected a mapping, got a list ['site']",
    ),
    "same_as naming nothing": (
        lambda d: _first_with(d, "same_as").update(same_as="recommend-99"),
        "same_as: firing #",
    ),
}


@pytest.mark.parametrize(
    "command", [("show",), ("how", "tca_cross"), ("why-not", "punch_excision"), ("replay",), ("graph",)]
)
@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_damaged_traces_are_located_refusals(run_cli, trace_file, tmp_path, command, damage):
    change, expected = DAMAGED[damage]
    path = _broken(trace_file, tmp_path, change)
    run = run_cli("trace", command[0], str(path), *command[1:])
    assert run.code == 2, run.err
    assert "Traceback" not in run.err and "internal error" not in run.err
    assert expected in run.err
    line, column = run.err.split(f"{path}:", 1)[1].split(":")[:2]
    assert line.isdigit() and column.isdigit(), run.err


@pytest.mark.parametrize(
    "command", [("show",), ("how", "problem-1"), ("why-not", "tca_cross"), ("replay",), ("graph", "tca_cross")]
)
def test_damaged_bytes_are_located_refusals(run_cli, trace_file, tmp_path, command):
    text = trace_file.read_bytes()
    for name, content, expected in (
        ("cut.json", text[: len(text) // 3], "not a JSON trace"),
        ("junk.json", text[:100] + b"\xff" + text[100:], "not UTF-8 text (byte 100: 0xff)"),
        ("deep.json", b'{"format": "cicatrix-trace", "x": ' + b"[" * 100 + b"]" * 100 + b"}", "nested deeper than"),
        ("huge.json", text.replace(b'"seq": 1,', b'"seq": 1' + b"0" * 100 + b",", 1), "a number longer than"),
        ("empty.json", b"", "the file is empty"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        run = run_cli("trace", command[0], str(path), *command[1:])
        assert run.code == 2 and expected in run.err, (name, run.err)
        assert "Traceback" not in run.err and "internal error" not in run.err
        assert run.err.startswith(f"{path}:1:") or run.err.split(f"{path}:", 1)[1][:1].isdigit(), run.err


def test_a_version_1_trace_without_a_plan_still_reads_and_a_damaged_one_is_refused(run_cli, trace_file, tmp_path):
    old = _version_1(trace_file, tmp_path)
    assert run_cli("trace", "show", str(old)).code == 0
    data = json.loads(old.read_text())
    data["firings"][0]["bindings"] = ["site"]
    old.write_text(json.dumps(data, indent=1))
    for command in (("show",), ("how", "tca_cross"), ("why-not", "punch_excision"), ("replay",)):
        run = run_cli("trace", command[0], str(old), *command[1:])
        assert run.code == 2 and "damaged trace at firings[0].bindings: expected a mapping" in run.err
        assert f"{old}:" in run.err and "Traceback" not in run.err


@pytest.mark.parametrize("example", ["pregnant.yaml", "sensitive-low-downtime.json"])
@pytest.mark.parametrize("command", ["show", "replay"])
def test_a_patient_file_given_as_a_trace_is_named_for_what_it_is(run_cli, example, command):
    from ..conftest import EXAMPLES

    path = str(EXAMPLES / example)
    run = run_cli("trace", command, path)
    assert run.code == 2 and "Traceback" not in run.err
    assert f"{path}: this looks like a patient file, not a trace: consult it with `cicatrix consult {path}`" in run.err


# --- trace graph: the firings behind the plan, drawn --------------------------------------------

GRAPH_NODE = re.compile(r'^  (n_\w+)\S*?"([^"]*)"')
GRAPH_EDGE = re.compile(r'^  (n_\w+) -(?:->|\.->)\|"([^"]*)"\| (n_\w+)$')


def _mermaid(text):
    """(id -> label, {(source label, edge label, target label)}) of a Mermaid flowchart."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels = {m.group(1): m.group(2) for line in lines if (m := GRAPH_NODE.match(line)) and not GRAPH_EDGE.match(line)}
    edges = {(labels[m.group(1)], m.group(2), labels[m.group(3)]) for line in lines if (m := GRAPH_EDGE.match(line))}
    return labels, edges


def test_cli_graph_of_the_whole_plan(run_cli, trace_file):
    run = run_cli("trace", "graph", str(trace_file))
    assert run.code == 0 and run.err == ""
    labels, edges = _mermaid(run.out)
    plan = json.loads(trace_file.read_text())["result"]
    for rec in plan["recommendations"]:
        assert f"{rec['id']}<br/>recommended, rank {rec['rank']}" in labels.values()
    assert any(label.startswith("scar-1<br/>type ice pick, site cheeks") for label in labels.values())
    assert (
        "profile/deep-narrow<br/>firing #35;16",
        "asserts",
        "finding-6<br/>kind deep, narrow scars, site cheeks",
    ) in edges
    assert run_cli("trace", "graph", str(trace_file)).out == run.out  # deterministic


def test_cli_graph_of_one_conclusion(run_cli, trace_file):
    run = run_cli("trace", "graph", str(trace_file), "tca_cross")
    assert run.code == 0
    labels, edges = _mermaid(run.out)
    assert sorted(labels.values()) == [
        "finding-6<br/>kind deep, narrow scars, site cheeks",
        "ice-pick/tca-cross<br/>firing #35;37",
        "profile/deep-narrow<br/>firing #35;16",
        "scar-1<br/>type ice pick, site cheeks, count 8, depth deep,<br/>width 1.5 mm",  # wrapped
        "tca_cross<br/>recommended, rank 1",
    ]
    assert ("ice-pick/tca-cross<br/>firing #35;37", "recommend", "tca_cross<br/>recommended, rank 1") in edges
    assert len(labels) < len(_mermaid(run_cli("trace", "graph", str(trace_file)).out)[0])
    run = run_cli("trace", "graph", str(trace_file), "tca_cross", "--format", "dot")
    assert run.code == 0 and run.out.startswith('digraph "t.json" {')
    assert '[label="tca_cross\\nrecommended, rank 1", shape=doubleoctagon, tooltip="TCA CROSS", penwidth=3];' in run.out


def test_cli_graph_refuses_what_it_cannot_draw(run_cli, trace_file):
    run = run_cli("trace", "graph", str(trace_file), "tca_cros")
    assert run.code == 2 and "did you mean 'tca_cross'" in run.err and "Traceback" not in run.err
    run = run_cli("trace", "graph", str(trace_file), "problem-1")
    assert (
        run.code == 2 and "'problem-1' is a problem of the plan, not a conclusion; draw one of its options" in run.err
    )
    run = run_cli("trace", "graph", str(trace_file.with_name("missing.json")))
    assert run.code == 2 and "missing.json" in run.err
    run = run_cli("trace", "graph", str(trace_file), "--format", "png")
    assert run.code == 2 and "'png' is not one of 'mermaid', 'dot', 'svg'" in run.err


def test_cli_graph_of_a_version_1_trace(run_cli, trace_file, tmp_path):
    old = _version_1(trace_file, tmp_path)
    run = run_cli("trace", "graph", str(old), "tca_cross")
    assert run.code == 0, run.err
    assert run.out == run_cli("trace", "graph", str(trace_file), "tca_cross").out


def test_cli_graph_to_a_file_and_as_svg(run_cli, trace_file, tmp_path, monkeypatch):
    out = tmp_path / "g.dot"
    run = run_cli("trace", "graph", str(trace_file), "tca_cross", "--format", "dot", "-o", str(out))
    assert run.code == 0 and run.out == "" and out.read_text().startswith("digraph")
    if shutil.which("dot") is not None:
        svg = tmp_path / "g.svg"
        run = run_cli("trace", "graph", str(trace_file), "tca_cross", "--format", "svg", "-o", str(svg))
        assert run.code == 0, run.err
        assert "<svg" in svg.read_text() and "ice&#45;pick/tca&#45;cross" in svg.read_text()
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    run = run_cli("trace", "graph", str(trace_file), "--format", "svg", "-o", str(tmp_path / "none.svg"))
    assert run.code == 2 and "Graphviz's dot was not found on PATH; install graphviz" in run.err
    assert not (tmp_path / "none.svg").exists() and "Traceback" not in run.err
