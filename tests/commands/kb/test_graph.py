"""kb graph: the rule graph as Graphviz DOT, Mermaid or SVG, whole or around a treatment or a rule."""

from __future__ import annotations

import re
import shutil

import pytest

from cicatrix.render.graph import node_ids

NODE = re.compile(r'^  (n_\w+)\S*?"([^"]*)"')
EDGE = re.compile(r'^  (n_\w+) -(?:->|\.->)\|"([^"]*)"\| (n_\w+)$')


def mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    """(id -> label, {(source label, edge label, target label)}) of a Mermaid flowchart."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels = {m.group(1): m.group(2) for line in lines if (m := NODE.match(line)) and not EDGE.match(line)}
    edges = {(labels[m.group(1)], m.group(2), labels[m.group(3)]) for line in lines if (m := EDGE.match(line))}
    return labels, edges


def test_whole_graph_as_dot_and_mermaid(run_cli):
    run = run_cli("kb", "graph")
    assert run.code == 0 and run.out.startswith('digraph "') and run.out.rstrip().endswith("}")
    ids = node_ids(["rule:profile/isolated-deep-ice-pick", "fact:finding:isolated_deep_scars"])
    assert f"{ids['rule:profile/isolated-deep-ice-pick']} -> {ids['fact:finding:isolated_deep_scars']}" in run.out
    run = run_cli("kb", "graph", "--format", "mermaid")
    assert run.code == 0 and run.out.startswith("flowchart LR")
    assert "Mermaid draws at most 500" in run.err  # the whole graph is too large for a default viewer
    _, edges = mermaid(run.out)
    assert ("ice-pick/tca-cross", "recommend", "tca_cross") in edges
    assert run_cli("kb", "graph", "--format", "mermaid").out == run.out  # deterministic


def test_a_tag_based_avoid_has_an_edge_to_each_tagged_treatment_and_no_variable(run_cli, kb):
    labels, edges = mermaid(run_cli("kb", "graph", "--format", "mermaid").out)
    assert not [label for label in labels.values() if "$" in label]
    tagged = {t.id for t in kb.treatments.values() if "defer_in_pregnancy" in t.tags}
    avoided = {target for source, label, target in edges if source == "pregnancy/defer-procedures" and label == "avoid"}
    assert avoided == tagged and len(tagged) > 5


def test_a_treatment_view_has_every_rule_that_strikes_it_out(run_cli, kb):
    from cicatrix.engine.authoring.dependencies import targets

    run = run_cli("kb", "graph", "--treatment", "microneedling", "--depth", "1", "--format", "mermaid")
    assert run.code == 0 and run.err == ""
    _, edges = mermaid(run.out)
    into = {(source, label) for source, label, target in edges if target == "microneedling"}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind in ("avoid", "leave_out", "caution") and "microneedling" in targets(kb, rule, action):
                assert (rule.id, action.kind.replace("_", " ")) in into, rule.id
    assert ("pregnancy/defer-procedures", "avoid") in into  # by tag
    assert ("downtime/beyond-tolerance", "leave out") in into  # by kind and downtime


def test_depth_keeps_the_drawing_small_and_holds_the_focus(run_cli):
    whole, _ = mermaid(run_cli("kb", "graph", "--format", "mermaid").out)
    one, _ = mermaid(run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--depth", "1", "--format", "mermaid").out)
    default, _ = mermaid(run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--format", "mermaid").out)
    three, _ = mermaid(
        run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--depth", "3", "--format", "mermaid").out
    )
    assert "ice-pick/tca-cross" in one.values()
    assert set(one.values()) == {"ice-pick/tca-cross", "finding:deep_narrow_scars", "tca_cross"}
    assert len(one) < len(default) < len(three) < len(whole)
    focus = run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--depth", "1", "--format", "mermaid").out
    assert focus.splitlines()[-1] == "  class n_rule_ice_pick_tca_cross focus"


def test_treatment_and_rule_together(run_cli):
    both, _ = mermaid(
        run_cli(
            "kb",
            "graph",
            "--treatment",
            "retinoid",
            "--rule",
            "ice-pick/tca-cross",
            "--depth",
            "1",
            "--format",
            "mermaid",
        ).out
    )
    assert {"retinoid", "ice-pick/tca-cross"} <= set(both.values())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--treatment", "tca_cros"), "--treatment: unknown treatment id 'tca_cros'; did you mean 'tca_cross'?"),
        (
            ("--rule", "ice-pick/tca-cros"),
            "--rule: unknown rule id 'ice-pick/tca-cros'; did you mean 'ice-pick/tca-cross'?",
        ),
        (("--depth", "2"), "--depth: needs a focus: give --treatment ID or --rule RULE"),
        (("--rule", "x", "--depth", "0"), "0 is not in the range x>=1"),
        (("--format", "png"), "'png' is not one of 'dot', 'mermaid', 'svg'"),
    ],
)
def test_bad_options_exit_2(run_cli, args, expected):
    run = run_cli("kb", "graph", *args)
    assert run.code == 2 and expected in run.err and "Traceback" not in run.err
    assert run.out == ""


def test_output_file_is_written_atomically(run_cli, tmp_path):
    out = tmp_path / "g.mmd"
    run = run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--format", "mermaid", "-o", str(out))
    assert run.code == 0 and run.out == ""
    assert out.read_text() == run_cli("kb", "graph", "--rule", "ice-pick/tca-cross", "--format", "mermaid").out
    run = run_cli("kb", "graph", "-o", str(tmp_path / "missing" / "g.dot"))
    assert run.code == 2 and "missing' does not exist" in run.err and "Traceback" not in run.err


def test_svg_without_graphviz_exits_2_with_what_to_do(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    out = tmp_path / "g.svg"
    run = run_cli("kb", "graph", "--treatment", "tca_cross", "--format", "svg", "-o", str(out))
    assert run.code == 2 and "Traceback" not in run.err
    assert (
        "Graphviz's dot was not found on PATH; install graphviz (e.g. apt install graphviz / brew install graphviz) "
        "or use --format dot" in run.err
    )
    assert not out.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_with_graphviz(run_cli, tmp_path):
    out = tmp_path / "g.svg"
    run = run_cli("kb", "graph", "--treatment", "tca_cross", "--format", "svg", "-o", str(out))
    assert run.code == 0, run.err
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "pregnancy/defer&#45;procedures" in svg
