"""kb graph: the rule graph as Graphviz dot or Mermaid."""

from __future__ import annotations


def test_graph(run_cli):
    run = run_cli("kb", "graph", "--treatment", "punch_excision")
    assert (
        run.out.startswith("digraph kb {")
        and "profile_isolated_deep_ice_pick -> finding_isolated_deep_scars" in run.out
    )
    run = run_cli("kb", "graph", "--format", "mermaid")
    assert run.out.startswith("flowchart LR") and "-->|recommend|" in run.out
