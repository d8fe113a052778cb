"""How a conclusion was reached, answered from a trace alone.

``how`` walks back from a conclusion through the firings that produced it, and
through the facts each firing matched, down to the patient's own input facts.
It never runs the engine again.
"""

from __future__ import annotations

from typing import Any

from ..common.errors import CicatrixError
from ..resolve.support import supported_firings
from .tracefile import Trace, treatment_ids, unknown_id
from .tree import Node


def _rule_line(trace: Trace, rule_id: str, seq: int) -> str:
    rule = trace.rules.get(rule_id)
    title = f" - {rule.title}" if rule else ""
    sources = f" [{', '.join(rule.sources)}]" if rule and rule.sources else ""
    return f"rule {rule_id} (firing #{seq}){title}{sources}"


def _fact_node(trace: Trace, fact_id: str, seen: set[str]) -> Node:
    fact = trace.facts[fact_id]
    if fact.origin == "input":
        return Node(f"{trace.describe_fact(fact_id)}  (patient input)")
    if fact.origin == "catalogue":
        return Node(f"{trace.describe_fact(fact_id)}  (treatment catalogue)")
    node = Node(trace.describe_fact(fact_id))
    if fact_id in seen:
        node.text += "  (derived above)"
        return node
    seen.add(fact_id)
    firing = next(f for f in trace.firings if f.seq == fact.firing)
    node.children.append(_firing_node(trace, firing, seen, explanation=""))
    return node


def _firing_node(trace: Trace, firing: Any, seen: set[str], explanation: str) -> Node:
    node = Node(_rule_line(trace, firing.rule, firing.seq))
    if explanation:
        node.children.append(Node(f"says: {explanation}"))
    for fact_id in firing.matched:
        node.children.append(_fact_node(trace, fact_id, seen))
    if not firing.matched:
        node.children.append(Node("no conditions: applies to everyone"))
    return node


def how(trace: Trace, wanted: str) -> Node:
    recs = {r["id"]: r for r in trace.result["recommendations"]}
    avoided = {a["id"]: a for a in trace.result["avoid"]}
    seen: set[str] = set()
    if wanted in recs:
        stood = supported_firings(trace.consultation())
        rec = recs[wanted]
        root = Node(
            f"{wanted} ({rec['title']}) is recommended, rank {rec['rank']}, {rec.get('tier', '').replace('_', ' ')}"
        )
        kind = "combine" if rec["kind"] == "combination" else "recommend"
        for firing in trace.firings:
            if firing.seq not in stood:
                continue  # it reacted to a recommendation that was struck out
            for action in firing.actions:
                if (kind == "recommend" and action.kind == "recommend" and action.treatment == wanted) or (
                    kind == "combine" and action.kind == "combine" and "+".join(action.components) == wanted
                ):
                    root.children.append(_firing_node(trace, firing, seen, action.text))
        if kind == "combine":
            parts = Node("every component is itself recommended and none is avoided:")
            parts.children = [Node(f"{c}: rank {recs[c]['rank']}") for c in rec["components"] if c in recs]
            root.children.append(parts)
        return root
    if wanted in avoided:
        a = avoided[wanted]
        root = Node(f"{wanted} ({a['title']}) is avoided: {a['reason']}")
        for firing in trace.firings:
            for action in firing.actions:
                if action.kind == "avoid" and action.treatment == wanted:
                    root.children.append(_firing_node(trace, firing, seen, action.text))
        return root
    alerts = {a["id"]: a for a in trace.result.get("alerts", [])}
    if wanted in alerts:
        return _alert(trace, alerts[wanted], seen)
    if wanted in trace.facts:
        return _fact_node(trace, wanted, seen)
    if wanted in treatment_ids(trace):
        raise CicatrixError.about(
            trace.file,
            f"{wanted!r} was neither recommended nor avoided in this trace; "
            f"ask why not: cicatrix trace why-not {trace.file} {wanted}",
        )
    raise unknown_id(trace, wanted, "a recommendation, an avoided treatment, an alert or a fact")


def _alert(trace: Trace, alert: dict[str, Any], seen: set[str]) -> Node:
    article = "an" if alert["severity"][:1] in "aeiou" else "a"
    root = Node(f"{alert['id']} is {article} {alert['severity']} alert: {alert['text']}")
    stood = supported_firings(trace.consultation())
    for firing in trace.firings:
        for action in firing.actions:
            if firing.seq in stood and action.kind == "alert" and action.alert == alert["id"]:
                root.children.append(_firing_node(trace, firing, seen, ""))
    return root
