"""Graphs as text a drawing tool reads: Graphviz DOT, Mermaid, and SVG through Graphviz.

The engine builds the graphs (the rule graph in :mod:`..engine.authoring.rulegraph`,
a plan's derivation in :mod:`..engine.explain.derivation`) from the same plain
nodes and edges (:mod:`..engine.common.graph`); this module only writes them
down. Both formats are strict about what a name or a label may hold, so node keys
become safe identifiers here (unique even when two keys differ only in
punctuation) and labels are escaped for each format: a rule id with a slash, a
label with a quote, a bracket or a line break must never end a label early or
break the drawing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from ..engine.common.errors import CicatrixError
from ..engine.common.graph import GraphEdge, GraphNode

NO_DOT = (
    "Graphviz's dot was not found on PATH; install graphviz "
    "(e.g. apt install graphviz / brew install graphviz) or use --format dot"
)


class Graph(Protocol):
    """What the engine's graphs have in common: nodes by key, edges, and the keys in focus."""

    @property
    def nodes(self) -> Mapping[str, GraphNode]: ...
    @property
    def edges(self) -> Sequence[GraphEdge]: ...
    @property
    def focus(self) -> Collection[str]: ...


# kind -> (Graphviz shape, Mermaid opening and closing brackets); anything else is a box.
SHAPES: dict[str, tuple[str, str, str]] = {
    "rule": ("box", "[", "]"),
    "firing": ("box", "[", "]"),
    "fact": ("ellipse", "([", "])"),
    "input": ("note", "[/", "/]"),
    "catalogue": ("cylinder", "[(", ")]"),
    "treatment": ("hexagon", "{{", "}}"),
    "combination": ("hexagon", "{{", "}}"),
    "recommended": ("doubleoctagon", "{{", "}}"),
    "avoided": ("octagon", "{{", "}}"),
    "left_out": ("octagon", "{{", "}}"),
    "alert": ("house", ">", "]"),
}
# Edge labels that strike something out or hold a rule back are drawn apart.
DOT_EDGE_STYLE = {
    "avoid": 'color="red3", fontcolor="red3"',
    "leave out": 'color="darkorange3", fontcolor="darkorange3"',
    "caution": 'color="goldenrod3", fontcolor="goldenrod3", style=dashed',
    "unless": "style=dashed",
    "unless avoided": "style=dashed",
    "unless recommended": "style=dashed",
}
DOT_NODE_STYLE = {
    "avoided": 'color="red3"',
    "left_out": 'color="darkorange3"',
    "alert": 'color="red3"',
    "input": 'style=filled, fillcolor="lightyellow"',
}


def node_ids(keys: Iterable[str]) -> dict[str, str]:
    """A safe, unique identifier for every key, the same in DOT and Mermaid.

    Letters, digits and ``_`` only, never starting with a digit (nor spelling
    Mermaid's ``end``); keys that differ only in punctuation get ``_2``, ``_3``
    in sorted order, so the ids are deterministic.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(set(keys)):
        base = "n_" + re.sub(r"[^0-9A-Za-z_]", "_", key)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out[key] = name
    return out


LABEL_WIDTH = 48  # a long label (a patient's facts) is wrapped so one node does not span the drawing


def wrapped(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` with each of its lines wrapped at ``width`` (words are never cut)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join("\n".join(textwrap.wrap(line, width, break_long_words=False)) or line for line in lines)


def dot_text(text: str) -> str:
    """``text`` as the inside of a DOT double-quoted string: backslashes, quotes and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "&": "#amp;"}


def mermaid_text(text: str) -> str:
    """``text`` for a quoted Mermaid label: entity codes for what would end or change it, ``<br/>`` for breaks."""
    out = "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)
    lines = out.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br/>".join(lines)


def _ordered(graph: Graph) -> tuple[list[GraphNode], list[GraphEdge]]:
    nodes = sorted(graph.nodes.values(), key=lambda n: n.key)
    edges = sorted(set(graph.edges), key=lambda e: (e.source, e.target, e.label))
    return nodes, edges


def to_dot(graph: Graph, name: str = "graph") -> str:
    """The graph as a Graphviz digraph, left to right; nodes in focus drawn bold."""
    nodes, edges = _ordered(graph)
    ids = node_ids(graph.nodes)
    lines = [f'digraph "{dot_text(name)}" {{', "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    lines.append('  edge [fontname="Helvetica", fontsize=9];')
    for n in nodes:
        attrs = [f'label="{dot_text(wrapped(n.label))}"', f"shape={SHAPES.get(n.kind, SHAPES['rule'])[0]}"]
        if n.title:
            attrs.append(f'tooltip="{dot_text(n.title)}"')
        if n.kind in DOT_NODE_STYLE:
            attrs.append(DOT_NODE_STYLE[n.kind])
        if n.key in graph.focus:
            attrs.append("penwidth=3")
        lines.append(f"  {ids[n.key]} [{', '.join(attrs)}];")
    for e in edges:
        attrs = [f'label="{dot_text(e.label)}"']
        if e.label in DOT_EDGE_STYLE:
            attrs.append(DOT_EDGE_STYLE[e.label])
        lines.append(f"  {ids[e.source]} -> {ids[e.target]} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart, left to right; dotted arrows for ``unless``, a class for the focus."""
    nodes, edges = _ordered(graph)
    ids = node_ids(graph.nodes)
    lines = ["flowchart LR"]
    for n in nodes:
        _, opening, closing = SHAPES.get(n.kind, SHAPES["rule"])
        lines.append(f'  {ids[n.key]}{opening}"{mermaid_text(wrapped(n.label))}"{closing}')
    for e in edges:
        arrow = "-.->" if e.label.startswith("unless") else "-->"
        lines.append(f'  {ids[e.source]} {arrow}|"{mermaid_text(e.label)}"| {ids[e.target]}')
    focus = sorted(ids[k] for k in graph.focus if k in ids)
    if focus:
        lines.append("  classDef focus stroke-width:4px")
        lines.append(f"  class {','.join(focus)} focus")
    return "\n".join(lines) + "\n"


MERMAID_MAX_EDGES = 500  # Mermaid refuses to draw more by default (its maxEdges setting)


def mermaid_warning(graph: Graph, focus: str) -> str | None:
    """Why a Mermaid viewer would refuse this graph, with what to do instead (``focus``: how to
    narrow it); None when it would draw it."""
    count = len(set(graph.edges))
    if count <= MERMAID_MAX_EDGES:
        return None
    return (
        f"this graph has {count} edges, and Mermaid draws at most {MERMAID_MAX_EDGES} unless its maxEdges "
        f"setting is raised; focus the drawing ({focus}), or use --format dot or svg"
    )


def to_svg(dot: str) -> str:
    """DOT text drawn as SVG by Graphviz's ``dot``: bad input (exit 2) when it is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        raise CicatrixError.about("--format svg", NO_DOT)
    try:
        done = subprocess.run([program, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CicatrixError.about("--format svg", f"Graphviz's dot could not draw the graph: {exc}") from None
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise CicatrixError.about("--format svg", f"Graphviz's dot could not draw the graph: {why}")
    return done.stdout


def draw(graph: Graph, fmt: str, name: str = "graph") -> str:
    """The graph in ``fmt``: ``dot``, ``mermaid`` or ``svg`` (which needs Graphviz)."""
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "svg":
        return to_svg(to_dot(graph, name))
    return to_dot(graph, name)
