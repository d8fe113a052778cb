"""The nodes and edges both engine graphs are drawn with: one definition, shared by the rule
graph (authoring) and a plan's derivation (explain), which may not import each other."""

from __future__ import annotations

from cicatrix.engine.authoring import rulegraph
from cicatrix.engine.common.graph import GraphEdge, GraphNode
from cicatrix.engine.explain import derivation


def test_both_graphs_use_the_one_node_and_edge_type():
    assert rulegraph.GraphNode is derivation.GraphNode is GraphNode
    assert rulegraph.GraphEdge is derivation.GraphEdge is GraphEdge


def test_a_node_has_an_empty_title_unless_given_one_and_both_sort_by_their_fields():
    assert GraphNode("rule:a", "rule", "a").title == ""
    assert sorted([GraphEdge("b", "a", "x"), GraphEdge("a", "b", "y")])[0] == GraphEdge("a", "b", "y")
