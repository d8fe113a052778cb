"""The rule graph as a picture: nodes and labelled edges, ready for a renderer to draw.

:mod:`.dependencies` answers "which rule feeds which"; a person looking at a
drawing wants more: the derived facts between rules, the catalogue entries each
rule concludes (a rule that acts on every entry with some property is drawn with
an edge to each entry it reaches, never to its variable), the rules that react
to an entry being recommended or avoided, and a small neighbourhood around one
rule or entry so the drawing stays readable. This module builds that data; the
text of a drawing (DOT, Mermaid) is made outside the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..common.graph import GraphEdge, GraphNode
from ..knowledge.model import Action, KnowledgeBase, Pattern, Rule, Var
from .dependencies import CONCLUSIONS, candidates, could_match, fact_label, produced, targets

PART_OF = "part of"  # the edge from an entry to a combination that includes it
REACTS = {"recommend": "recommended", "avoid": "avoided"}  # templates the engine asserts for conclusions


@dataclass(frozen=True)
class RuleGraph:
    """Nodes by key and edges, both sorted so that the same knowledge base draws the same text."""

    nodes: dict[str, GraphNode]
    edges: tuple[GraphEdge, ...]
    focus: frozenset[str] = field(default_factory=frozenset)  # keys a drawing should highlight

    def around(self, keys: Iterable[str], depth: int) -> RuleGraph:
        """The nodes at most ``depth`` edges upstream or downstream of ``keys``, and the edges walked to reach them.

        Upstream and downstream are walked separately (never up then down), so a
        focus on one entry shows what leads to it and what it leads to, not every
        other entry that shares a rule with it; and only the edges of those walks
        are kept, so two shown nodes are not joined by an edge that is no step
        away from the focus. The one exception: a combination an entry is part of
        is walked upstream too (one hop away), since the rules that propose the
        combination propose the entry with it.
        """
        start = {k for k in keys if k in self.nodes}
        forward: dict[str, set[str]] = {}
        backward: dict[str, set[str]] = {}
        for e in self.edges:
            forward.setdefault(e.source, set()).add(e.target)
            backward.setdefault(e.target, set()).add(e.source)
        wholes = {e.target for e in self.edges if e.label == PART_OF and e.source in start} - start
        down = _distances(dict.fromkeys(start, 0), forward, depth)
        up = _distances({**dict.fromkeys(wholes, 1), **dict.fromkeys(start, 0)}, backward, depth)
        edges = tuple(
            e
            for e in self.edges
            if (e.source in down and e.target in down and down[e.source] < depth)
            or (e.target in up and e.source in up and up[e.target] < depth)
        )
        keep = set(down) | set(up)
        return RuleGraph(
            nodes={k: n for k, n in self.nodes.items() if k in keep},
            edges=edges,
            focus=frozenset(start),
        )


def _distances(start: dict[str, int], step: dict[str, set[str]], depth: int) -> dict[str, int]:
    """Each node within ``depth`` steps of ``start`` (node -> steps it is already away), breadth first."""
    found = {k: d for k, d in start.items() if d <= depth}
    for hop in range(1, depth + 1):
        frontier = {n for k, d in found.items() if d == hop - 1 for n in step.get(k, ())} - set(found)
        found.update(dict.fromkeys(frontier, hop))
    return found


def rule_key(rule_id: str) -> str:
    return f"rule:{rule_id}"


def treatment_key(treatment_id: str) -> str:
    return f"treatment:{treatment_id}"


def combination_key(option_id: str) -> str:
    return f"combination:{option_id}"


class _Builder:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.nodes: dict[str, GraphNode] = {}
        self.edges: set[GraphEdge] = set()

    def node(self, key: str, kind: str, label: str, title: str = "") -> str:
        self.nodes.setdefault(key, GraphNode(key, kind, label, title))
        return key

    def treatment(self, tid: str) -> str:
        entry = self.kb.treatments.get(tid)
        return self.node(treatment_key(tid), "treatment", tid, entry.title if entry else "")

    def edge(self, source: str, target: str, label: str) -> None:
        self.edges.add(GraphEdge(source, target, label))

    def conclusions(self, rule: Rule, action: Action) -> None:
        me = rule_key(rule.id)
        if action.kind in CONCLUSIONS:
            for tid in targets(self.kb, rule, action):
                self.edge(me, self.treatment(tid), action.kind.replace("_", " "))
        elif action.kind == "combine":
            option = "+".join(action.components)
            combo = self.node(combination_key(option), "combination", " + ".join(action.components))
            self.edge(me, combo, "combine")
            for part in action.components:
                self.edge(self.treatment(part), combo, PART_OF)
        elif action.kind == "alert" and action.target is not None:
            self.edge(me, self.node(f"alert:{action.target}", "alert", str(action.target)), "alert")

    def derived(self, rule: Rule, action: Action) -> None:
        """An asserted fact, and every rule with a pattern it could match (``unless`` patterns too)."""
        values = dict(action.values)
        label = fact_label(action.template, values)
        fact = self.node(f"fact:{label}", "fact", label)
        self.edge(rule_key(rule.id), fact, "asserts")
        for other in self.kb.rules:
            for pattern in other.when:
                if could_match(pattern, action.template, values):
                    self.edge(fact, rule_key(other.id), "matched by")
            for pattern in other.unless:
                if could_match(pattern, action.template, values):
                    self.edge(fact, rule_key(other.id), "unless")

    def reactions(self, rule: Rule) -> None:
        """Edges from each entry whose recommendation or avoidance one of the rule's patterns reads."""
        for negated, patterns in ((False, rule.when), (True, rule.unless)):
            for pattern in patterns:
                if pattern.template not in REACTS:
                    continue
                word = ("unless " if negated else "if ") + REACTS[pattern.template]
                for tid in self._read(rule, pattern):
                    self.edge(self.treatment(tid), rule_key(rule.id), word)

    def _read(self, rule: Rule, pattern: Pattern) -> list[str]:
        ids = [tid for tid in self.kb.treatments if could_match(pattern, *_concluding(pattern.template, tid))]
        for c in pattern.constraints:
            for t in c.tests:
                if isinstance(t.value, Var):
                    narrowed = candidates(self.kb, rule, t.value)
                    if narrowed is not None:
                        ids = [tid for tid in ids if tid in narrowed]
        return ids


def _concluding(kind: str, tid: str) -> tuple[str, dict[str, Any]]:
    """The fact an action of ``kind`` asserts for ``tid`` (one definition: :func:`.dependencies.produced`)."""
    fact = produced(Action(kind, target=tid))
    assert fact is not None, kind
    return fact


def build(kb: KnowledgeBase) -> RuleGraph:
    """Every rule, the facts and conclusions it draws, and the rules those feed."""
    b = _Builder(kb)
    for rule in kb.rules:
        b.node(rule_key(rule.id), "rule", rule.id, rule.title)
    for tid in kb.treatments:  # an entry no rule names is drawn too: alone, it shows it is unused
        b.treatment(tid)
    for rule in kb.rules:
        for action in rule.then:
            if action.kind == "assert":
                b.derived(rule, action)
            else:
                b.conclusions(rule, action)
        b.reactions(rule)
    return RuleGraph(nodes=dict(sorted(b.nodes.items())), edges=tuple(sorted(b.edges)))
