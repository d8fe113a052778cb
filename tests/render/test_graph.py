"""Graphs as DOT, Mermaid and SVG: safe ids, escaped labels, deterministic text, Graphviz or a clear refusal."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.common.graph import GraphEdge as E
from cicatrix.engine.common.graph import GraphNode as N
from cicatrix.render import graph as render
from cicatrix.render.graph import dot_text, draw, mermaid_text, mermaid_warning, node_ids, to_dot, to_mermaid, wrapped


@dataclass
class G:
    nodes: dict
    edges: tuple
    focus: frozenset = field(default_factory=frozenset)


TRICKY = 'say "hi" [now] {or} (later) <b> a|b & #1 \\ end'
GRAPH = G(
    nodes={
        "rule:a/b": N("rule:a/b", "rule", "a/b", 'the "a" rule'),
        "rule:a-b": N("rule:a-b", "rule", "a-b"),
        "fact:x": N("fact:x", "fact", TRICKY + "\nsecond line"),
        "treatment:t": N("treatment:t", "treatment", "t"),
        "alert:end": N("alert:end", "alert", "end"),
    },
    edges=(
        E("rule:a/b", "fact:x", "asserts"),
        E("fact:x", "rule:a-b", "unless"),
        E("rule:a-b", "treatment:t", "avoid"),
        E("rule:a/b", "alert:end", 'say "x"'),
    ),
    focus=frozenset({"treatment:t"}),
)


# --- ids and escaping ----------------------------------------------------------------------------


def test_node_ids_are_safe_unique_and_deterministic():
    ids = node_ids(["rule:a/b", "rule:a-b", "rule:a_b", "end", "9lives"])
    assert len(set(ids.values())) == 5
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", i) for i in ids.values())
    assert ids["rule:a-b"] == "n_rule_a_b" and ids["rule:a/b"] == "n_rule_a_b_2" and ids["rule:a_b"] == "n_rule_a_b_3"
    assert ids["end"] != "end" and ids == node_ids(reversed(list(ids)))


def test_dot_labels_escape_backslashes_quotes_and_breaks():
    assert dot_text('a "b" \\ c\nd\r\ne') == 'a \\"b\\" \\\\ c\\nd\\ne'


def test_mermaid_labels_use_entity_codes_and_line_breaks():
    text = mermaid_text(TRICKY + "\nnext")
    assert '"' not in text and "|" not in text and "<b>" not in text
    assert "#quot;hi#quot;" in text and "#124;" in text and "#lt;b#gt;" in text and "#35;1" in text
    assert text.endswith("<br/>next") and "[now] {or} (later)" in text  # brackets are safe inside quotes


def test_long_labels_are_wrapped_at_words():
    text = wrapped("scar-1\n" + ", ".join(["type ice pick"] * 8), 30)
    assert text.startswith("scar-1\n") and all(len(line) <= 30 for line in text.split("\n"))
    assert wrapped("averyveryverylongword", 5) == "averyveryverylongword"


# --- DOT --------------------------------------------------------------------------------------


def test_dot_has_a_statement_per_node_and_edge():
    text = to_dot(GRAPH, 'my "kb"')
    lines = text.splitlines()
    assert lines[0] == 'digraph "my \\"kb\\"" {' and lines[-1] == "}"
    ids = node_ids(GRAPH.nodes)
    node_lines = [line for line in lines if re.match(r"  n_\w+ \[", line)]
    edge_lines = [line for line in lines if " -> " in line]
    assert len(node_lines) == len(GRAPH.nodes) and len(edge_lines) == len(GRAPH.edges)
    assert f'  {ids["treatment:t"]} [label="t", shape=hexagon, penwidth=3];' in lines  # the focus is bold
    assert f'{ids["rule:a/b"]} [label="a/b", shape=box, tooltip="the \\"a\\" rule"];' in text
    assert f'  {ids["rule:a-b"]} -> {ids["treatment:t"]} [label="avoid", color="red3", fontcolor="red3"];' in lines
    assert '\\"hi\\" [now]' in text and "\\nsecond line" in text
    assert text == to_dot(
        G(dict(reversed(list(GRAPH.nodes.items()))), tuple(reversed(GRAPH.edges)), GRAPH.focus), 'my "kb"'
    )


# --- Mermaid ----------------------------------------------------------------------------------

NODE = re.compile(r'^  (n_\w+)(\[|\(\[|\[/|\[\(|\{\{|>)"([^"]*)"(\]|\]\)|/\]|\)\]|\}\})$')
EDGE = re.compile(r'^  (n_\w+) (-->|-\.->)\|"([^"|]*)"\| (n_\w+)$')


def test_mermaid_parses_as_node_edge_and_class_lines():
    lines = to_mermaid(GRAPH).splitlines()
    assert lines[0] == "flowchart LR"
    nodes = [NODE.match(line) for line in lines[1:] if NODE.match(line)]
    edges = [EDGE.match(line) for line in lines[1:] if EDGE.match(line)]
    rest = [line for line in lines[1:] if not NODE.match(line) and not EDGE.match(line)]
    assert len(nodes) == len(GRAPH.nodes) and len(edges) == len(GRAPH.edges)
    ids = node_ids(GRAPH.nodes)
    assert rest == ["  classDef focus stroke-width:4px", f"  class {ids['treatment:t']} focus"]
    declared = {m.group(1) for m in nodes}
    assert all(m.group(1) in declared and m.group(4) in declared for m in edges)
    shapes = {m.group(1): (m.group(2), m.group(4)) for m in nodes}
    assert shapes[ids["treatment:t"]] == ("{{", "}}") and shapes[ids["fact:x"]] == ("([", "])")
    arrows = {(m.group(1), m.group(4)): m.group(2) for m in edges}
    assert arrows[(ids["fact:x"], ids["rule:a-b"])] == "-.->"  # unless is dotted
    assert arrows[(ids["rule:a-b"], ids["treatment:t"])] == "-->"
    assert any(m.group(3) == "say #quot;x#quot;" for m in edges)


def test_mermaid_warns_past_its_edge_limit():
    small = mermaid_warning(GRAPH, "focus it")
    assert small is None
    big = G({"a": N("a", "rule", "a")}, tuple(E("a", "a", str(i)) for i in range(501)))
    assert "501 edges" in mermaid_warning(big, "--rule RULE") and "(--rule RULE)" in mermaid_warning(big, "--rule RULE")


# --- SVG through Graphviz ---------------------------------------------------------------------------


def test_svg_without_graphviz_is_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(CicatrixError) as info:
        draw(GRAPH, "svg")
    assert render.NO_DOT in str(info.value)
    assert "Graphviz's dot was not found on PATH; install graphviz" in str(info.value)
    assert "or use --format dot" in str(info.value)


def test_a_failing_dot_is_reported_not_raised(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(render.shutil, "which", lambda name: str(fake))
    with pytest.raises(CicatrixError, match="could not draw the graph: Error: syntax error in line 1"):
        draw(GRAPH, "svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_with_graphviz():
    svg = draw(GRAPH, "svg", name="test")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert "&quot;hi&quot;" in svg or "&#34;hi&#34;" in svg  # the tricky label survived as text
