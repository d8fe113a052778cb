"""The nodes and edges of a graph the engine builds for a person to look at.

Two stages build such graphs: the rule graph of a knowledge base (authoring) and
the derivation behind one plan (explain). Being siblings, neither may import the
other, so the small types both draw with live here, and a renderer writes either
graph down through the one shape.
"""

from __future__ import annotations

from typing import NamedTuple


class GraphNode(NamedTuple):
    """One thing drawn: ``key`` is unique in its graph, ``kind`` chooses its shape.

    Each graph has its own kinds (a rule graph: rule, fact, treatment, combination,
    alert; a derivation: input, catalogue, fact, firing, recommended, avoided,
    left_out, alert); a renderer draws a kind it does not know as a plain box.
    """

    key: str
    kind: str
    label: str
    title: str = ""  # a longer description (a tooltip where the format has one)


class GraphEdge(NamedTuple):
    """An arrow from the node keyed ``source`` to the one keyed ``target``, with its words."""

    source: str
    target: str
    label: str
