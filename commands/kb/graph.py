"""``cicatrix kb graph``: the rule dependency graph as Graphviz dot or Mermaid."""

from __future__ import annotations

import re
from pathlib import Path

import click

from .. import completion
from ..options import kb_option


def _node(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


@click.command("graph")
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@click.option(
    "--treatment",
    shell_complete=completion.treatments,
    help="Only the part of the graph that leads to this treatment.",
)
@kb_option
def graph(fmt: str, treatment: str | None, kb_dir: Path | None) -> int:
    """Rules -> derived facts -> rules, and rules -> treatments they recommend, avoid or combine.

    \b
    Render with:  cicatrix kb graph | dot -Tsvg > rules.svg
          or:     cicatrix kb graph --format mermaid   (paste into any Mermaid viewer)
    """
    from ...engine.authoring.dependencies import build
    from ...engine.knowledge.loader import load

    kb = load(kb_dir)
    if treatment and treatment not in kb.treatments:
        from ...engine.common.errors import CicatrixError, did_you_mean

        raise CicatrixError.about(
            "", f"--treatment: unknown treatment id {treatment!r}" + did_you_mean(treatment, kb.treatments)
        )
    g = build(kb)
    keep = {r.id for r in kb.rules}
    if treatment:
        keep = {rid for rid, items in g.concludes.items() if any(treatment in t.split("+") for _, t in items)}
        frontier = list(keep)
        while frontier:
            rid = frontier.pop()
            for parent in g.fed_by[rid]:
                if parent not in keep:
                    keep.add(parent)
                    frontier.append(parent)
    edges: list[tuple[str, str, str]] = []
    nodes: dict[str, str] = {}
    for rule in kb.rules:
        if rule.id not in keep:
            continue
        nodes[rule.id] = "rule"
        for fact in g.asserts[rule.id]:
            nodes[fact] = "fact"
            edges.append((rule.id, fact, "asserts"))
            for other in g.feeds[rule.id]:
                if other in keep and any(p.template == fact.split(":")[0] for p in kb.rule(other).when):
                    edges.append((fact, other, "matched by"))
        for kind, target in g.concludes[rule.id]:
            if treatment and treatment not in target.split("+"):
                continue
            nodes[target] = "treatment"
            edges.append((rule.id, target, kind))
    edges = list(dict.fromkeys(edges))
    if fmt == "dot":
        shape = {"rule": "box", "fact": "ellipse", "treatment": "doubleoctagon"}
        lines = ["digraph kb {", "  rankdir=LR;"]
        lines += [f'  {_node(n)} [label="{n}", shape={shape[k]}];' for n, k in nodes.items()]
        lines += [f'  {_node(a)} -> {_node(b)} [label="{label}"];' for a, b, label in edges]
        lines.append("}")
    else:
        shape = {"rule": ('["', '"]'), "fact": ('(["', '"])'), "treatment": ('{{"', '"}}')}
        lines = ["flowchart LR"]
        lines += [f"  {_node(n)}{shape[k][0]}{n}{shape[k][1]}" for n, k in nodes.items()]
        lines += [f"  {_node(a)} -->|{label}| {_node(b)}" for a, b, label in edges]
    click.echo("\n".join(lines))
    return 0


COMMANDS = [graph]
