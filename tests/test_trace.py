"""Traces: written whole, replayed to the same plan, and questioned with how / why-not."""

from __future__ import annotations

import json
import os

import pytest

from cicatrix.engine.explain.how import how
from cicatrix.engine.explain.replay import replay
from cicatrix.engine.explain.tracefile import read
from cicatrix.engine.explain.tree import leaves
from cicatrix.engine.explain.why_not import why_not

from .conftest import EXAMPLES
from .test_consult import ALL_EXAMPLES

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """A trace of every example, written through the command line."""
    from cicatrix.cli import main

    folder = tmp_path_factory.mktemp("traces")
    out = {}
    for path in ALL_EXAMPLES:
        target = folder / (path.stem + ".json")
        with pytest.raises(SystemExit) as info:
            main(["consult", str(path), "--format", "json", "--trace", str(target), "-o", str(folder / "plan.json")])
        assert info.value.code == 0
        out[path.name] = (read(target), json.loads((folder / "plan.json").read_text()))
    return out


def test_trace_format_header(traces):
    trace, plan = traces["mixed-facial-scars.yaml"]
    assert trace.kb == plan["kb"]
    assert trace.result == plan
    assert [f.seq for f in trace.firings] == list(range(1, len(trace.firings) + 1))
    inputs = [f.id for f in trace.facts.values() if f.origin == "input"]
    assert inputs == ["patient", "scar-1", "scar-2", "scar-3"]


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_replay_gives_the_recorded_plan(traces, kb, name):
    trace, _ = traces[name]
    assert replay(trace, kb) == []


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_how_reaches_only_input_facts(traces, name):
    trace, plan = traces[name]
    for rec in plan["recommendations"]:
        tree = how(trace, rec["id"])
        assert tree.children, rec["id"]
        for leaf in leaves(tree):
            text = leaf.text
            ok = (
                text.endswith(("(patient input)", "(treatment catalogue)", "(derived above)"))
                or text.startswith("says: ")
                or text == "no conditions: applies to everyone"
                or ": rank " in text  # a combination's recommended components
            )
            assert ok, f"{rec['id']}: leaf {text!r}"


def test_replay_detects_a_tampered_trace(traces, kb):
    trace, _ = traces["pregnant.yaml"]
    tampered = type(trace)(**{**trace.__dict__, "result": {**trace.result, "notes": ["changed"]}})
    assert any(d.startswith("notes") for d in replay(tampered, kb))


# --- why-not on hand-built knowledge bases --------------------------------------

RULES = """
- id: derive-deep
  title: derive deep
  salience: 10
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: alpha-for-ice-pick
  title: alpha for deep ice pick
  when: [{scar: {type: ice_pick, depth: deep}}]
  then: [{recommend: alpha, explain: deep ice pick}]
  sources: [src.txt]
- id: alpha-from-finding
  title: alpha from a deep finding
  when: [{finding: {kind: deep}}]
  then: [{recommend: alpha, explain: finding}]
  sources: [src.txt]
- id: beta-unless-pregnant
  title: beta unless pregnant
  when: [{scar: {type: boxcar}}]
  unless: [{patient: {pregnant: true}}]
  then: [{recommend: beta, explain: boxcar}]
  sources: [src.txt]
- id: gamma-for-boxcar
  title: gamma for boxcar
  when: [{scar: {type: boxcar}}]
  then: [{recommend: gamma, explain: cream}]
  sources: [src.txt]
- id: no-gamma-in-pregnancy
  title: no gamma in pregnancy
  when: [{patient: {pregnant: true}}]
  then: [{avoid: gamma, reason: not in pregnancy}]
  sources: [src.txt]
"""


def trace_of(make_kb, tmp_path, run_cli, patient: str):
    root = make_kb(RULES)
    path = tmp_path / "p.yaml"
    path.write_text(patient)
    out = tmp_path / "t.json"
    run = run_cli("consult", str(path), "--kb", str(root), "--trace", str(out), "--format", "json")
    assert run.code == 0, run.err
    return read(out)


def texts(node) -> list[str]:
    out = [node.text]
    for child in node.children:
        out += texts(child)
    return out


def test_why_not_names_a_value_mismatch(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: shallow, site: cheeks}\n")
    lines = texts(why_not(trace, "alpha"))
    assert "scar #1 depth is shallow; the rule needs deep" in lines


def test_why_not_names_a_missing_fact_and_where_it_would_come_from(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: shallow}\n")
    lines = texts(why_not(trace, "alpha"))
    assert "needs a finding fact with kind deep, and no rule asserted one" in lines
    assert "it would come from rule derive-deep - derive deep" in lines


def test_why_not_names_an_unless_that_matched(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "patient: {pregnant: true}\nscars:\n  - {type: boxcar}\n")
    lines = texts(why_not(trace, "beta"))
    assert any(line.startswith("its 'unless' condition matched: patient: ") for line in lines), lines


def test_why_not_names_the_avoid_that_won(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "patient: {pregnant: true}\nscars:\n  - {type: boxcar}\n")
    lines = texts(why_not(trace, "gamma"))
    assert lines[1] == "proposed by gamma-for-boxcar, but struck out by no-gamma-in-pregnancy: not in pregnancy"
    assert any(
        line.startswith("rule gamma-for-boxcar fired (#") and line.endswith("but the avoid above wins")
        for line in lines
    )


def test_why_not_when_no_rule_can(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: boxcar}\n")
    assert texts(why_not(trace, "delta"))[-1] == "no rule in this knowledge base can recommend delta"


def test_how_of_a_fact(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: deep, site: cheeks}\n")
    lines = texts(how(trace, "finding-1"))
    assert lines[0] == "finding-1: kind deep, site cheeks"
    assert lines[1].startswith("rule derive-deep (firing #1)")
    assert lines[2] == "scar-1: type ice pick, site cheeks, depth deep  (patient input)"


# --- the command line -------------------------------------------------------------


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


def test_consult_explain_and_markdown(run_cli):
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--explain", "--width", "88")
    assert run.code == 0
    assert "HOW EACH RECOMMENDATION WAS CONCLUDED" in run.out
    assert "(patient input)" in run.out
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "markdown", "--explain")
    assert run.code == 0
    md = run.out
    assert md.startswith("# Acne-scar treatment plan")
    assert "## Avoid" in md and "| Monday |" in md and "<details>" in md
    assert md.count("dermatologist") >= 2


def test_golden_text_plan(run_cli):
    """The text rendering of one example, byte for byte (regenerate with CICATRIX_GOLDEN=update)."""
    run = run_cli("consult", str(EXAMPLES / "isolated-deep-ice-pick.yaml"), "--width", "88")
    path = os.path.join(GOLDEN, "isolated-deep-ice-pick.txt")
    if os.environ.get("CICATRIX_GOLDEN") == "update":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(run.out)
    with open(path, encoding="utf-8") as handle:
        assert run.out == handle.read()


def test_golden_how_tree(traces):
    trace, _ = traces["isolated-deep-ice-pick.yaml"]
    from cicatrix.render.tree import render

    text = render(how(trace, "tca_cross"), 100)
    path = os.path.join(GOLDEN, "how-tca-cross.txt")
    if os.environ.get("CICATRIX_GOLDEN") == "update":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(path, encoding="utf-8") as handle:
        assert text == handle.read()
