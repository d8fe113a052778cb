"""Explanation trees: plain nodes, and their leaves in reading order."""

from __future__ import annotations

from cicatrix.engine.explain.tree import Node, leaves


def test_a_node_starts_without_children_of_its_own():
    a, b = Node("a"), Node("b")
    assert a.children == [] and a.children is not b.children
    a.children.append(Node("c"))
    assert b.children == []


def test_a_lone_node_is_its_own_leaf():
    node = Node("only")
    assert list(leaves(node)) == [node]


def test_leaves_in_reading_order_and_only_leaves():
    tree = Node(
        "root",
        [
            Node("a", [Node("a1"), Node("a2", [Node("a2x")])]),
            Node("b"),
            Node("c", [Node("c1")]),
        ],
    )
    assert [n.text for n in leaves(tree)] == ["a1", "a2x", "b", "c1"]


def test_leaves_are_the_nodes_themselves():
    leaf = Node("x")
    tree = Node("root", [Node("mid", [leaf])])
    (found,) = leaves(tree)
    assert found is leaf


def test_nodes_compare_by_text_and_children():
    assert Node("a", [Node("b")]) == Node("a", [Node("b")])
    assert Node("a", [Node("b")]) != Node("a", [Node("c")])
