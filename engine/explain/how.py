"""How a conclusion was reached, answered from a trace alone.

``how`` walks back from a conclusion through the firings that produced it, and
through the facts each firing matched, down to the patient's own input facts.
Asked about a problem of the plan, it names the problem's items, the choice with
its reason and its derivation, each alternative and why it ranks after the
choice, and what is ruled out there and by which rule. It never runs the engine
again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common.errors import CicatrixError
from ..resolve.support import supported_firings
from ..session.records import ActionRecord, Firing
from . import plan
from .tracefile import Trace, treatment_ids, unknown_id
from .tree import Node

Serves = Callable[[Firing, ActionRecord], bool]


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
    """The derivation of a recommendation, an avoided treatment, an alert, a problem or a fact."""
    if plan.find(trace, wanted) is not None:
        return _problem(trace, plan.find(trace, wanted) or {})
    recs = {r["id"]: r for r in trace.result["recommendations"]}
    avoided = {a["id"]: a for a in trace.result["avoid"]}
    seen: set[str] = set()
    if wanted in recs:
        root = _recommended(trace, recs[wanted], seen)
        root.children[:0] = _roles(trace, wanted)
        return root
    if wanted in avoided:
        return _avoided(trace, avoided[wanted], seen)
    alerts = {a["id"]: a for a in trace.result.get("alerts", [])}
    if wanted in alerts:
        return _alert(trace, alerts[wanted], seen)
    if wanted in trace.facts:
        return _fact_node(trace, wanted, seen)
    if plan.looks_like_problem(wanted) and not plan.has_plan(trace):
        raise CicatrixError.about(trace.file, plan.no_plan(trace, f"what {wanted} is"))
    if wanted in treatment_ids(trace):
        raise CicatrixError.about(
            trace.file,
            f"{wanted!r} was neither recommended nor avoided in this trace; "
            f"ask why not: cicatrix trace why-not {trace.file} {wanted}",
        )
    raise unknown_id(trace, wanted, "a recommendation, an avoided treatment, an alert, a problem or a fact")


def _recommended(trace: Trace, rec: dict[str, Any], seen: set[str], serves: Serves | None = None) -> Node:
    """The rules that recommended ``rec`` (only those proposing it for one problem, given ``serves``)."""
    wanted = rec["id"]
    tier = rec.get("tier", "").replace("_", " ")
    root = Node(f"{wanted} ({rec['title']}) is recommended, rank {rec['rank']}, {tier}")
    stood = supported_firings(trace.consultation())
    kind = "combine" if rec["kind"] == "combination" else "recommend"
    for firing in trace.firings:
        if firing.seq not in stood:
            continue  # it reacted to a recommendation that was struck out
        for action in firing.actions:
            if action.kind != kind or _concluded(action) != wanted:
                continue
            if serves is None or serves(firing, action):
                root.children.append(_firing_node(trace, firing, seen, action.text))
    if kind == "combine":
        recs = {r["id"]: r for r in trace.result["recommendations"]}
        parts = Node("every component is itself recommended and none is avoided:")
        parts.children = [Node(f"{c}: rank {recs[c]['rank']}") for c in rec["components"] if c in recs]
        root.children.append(parts)
    return root


def _concluded(action: ActionRecord) -> str | None:
    return "+".join(action.components) if action.kind == "combine" else action.treatment


def _roles(trace: Trace, wanted: str) -> list[Node]:
    """Where the plan uses a recommendation: the problems it is chosen for, an alternative for, ..."""
    out = []
    for p in plan.problems(trace):
        ref = plan.ref(p)
        shown_with = [o for o in (p["choice"], *p["alternatives"]) if o and wanted in p["adjuncts"].get(o, [])]
        entry = plan.ruled_out_here(p, wanted)
        if p["choice"] == wanted:
            out.append(Node(f"chosen for {ref}"))
        elif wanted in p["alternatives"]:
            out.append(Node(f"an alternative for {ref}"))
        elif p["choice"] and wanted in p["choice"].split("+"):
            out.append(Node(f"part of the choice for {ref}: {p['choice']}"))
        elif shown_with:
            out.append(Node(f"an add-on to {', '.join(shown_with)} for {ref}"))
        elif entry is not None and entry["id"] == wanted:
            out.append(Node(f"{plan.ruled_out_for(entry, ref)}: ask why-not why"))
    return out


def _avoided(trace: Trace, avoid: dict[str, Any], seen: set[str]) -> Node:
    root = Node(f"{avoid['id']} ({avoid['title']}) is avoided: {avoid['reason']}")
    for firing in trace.firings:
        for action in firing.actions:
            if action.kind == "avoid" and action.treatment == avoid["id"]:
                root.children.append(_firing_node(trace, firing, seen, action.text))
    return root


def _alert(trace: Trace, alert: dict[str, Any], seen: set[str]) -> Node:
    article = "an" if alert["severity"][:1] in "aeiou" else "a"
    root = Node(f"{alert['id']} is {article} {alert['severity']} alert: {alert['text']}")
    stood = supported_firings(trace.consultation())
    for firing in trace.firings:
        for action in firing.actions:
            if firing.seq in stood and action.kind == "alert" and action.alert == alert["id"]:
                root.children.append(_firing_node(trace, firing, seen, ""))
    return root


# --- a problem of the plan -------------------------------------------------------


def _problem(trace: Trace, problem: dict[str, Any]) -> Node:
    """A problem: its items, its choice and why, each alternative and why it ranks after, what is ruled out."""
    stand = plan.standing(trace)
    root = Node(_heading(problem))
    root.children.append(_items(trace, problem))
    root.children.append(_choice(trace, problem, stand))
    for option in problem["alternatives"]:
        reason = plan.reason_after(trace, problem, option, stand)
        root.children.append(Node(f"alternative: {plan.described(trace, problem, option)}: {reason}"))
    for entry in problem["ruled_out"]:
        lines = plan.ruled_out_lines(trace, problem, entry, stand)
        verb = "ruled out here" if entry["kind"] == "avoid" else "left out here, by your preferences"
        head = f"{verb}: {entry['id']} ({entry['title']})"
        root.children.append(Node(head, [Node(line) for line in lines]))
    return root


def _heading(problem: dict[str, Any]) -> str:
    details = [f"region {problem['region']}"] if problem.get("region") else []
    if problem.get("grade") is not None:
        details.append(f"grade {problem['grade']}")
    if problem.get("burden") is not None:
        details.append(f"burden {problem['burden']}")
    return f"{problem['id']}: {problem['title']}" + (f" ({', '.join(details)})" if details else "")


def _items(trace: Trace, problem: dict[str, Any]) -> Node:
    ids = plan.item_ids(trace, problem)
    node = Node(f"{plan.items_key(problem)}: {', '.join(ids) or 'none recorded'}")
    node.children = [Node(f"{trace.describe_fact(i)}  (patient input)") for i in ids]
    return node


def _choice(trace: Trace, problem: dict[str, Any], stand: plan.Standing) -> Node:
    choice = problem["choice"]
    why = Node(f"why: {problem['why']}")
    if choice is None:
        return Node("choice: none", [why])
    node = Node(f"choice: {plan.described(trace, problem, choice)}", [why])
    rec = next((r for r in trace.result["recommendations"] if r["id"] == choice), None)
    if rec is not None:
        node.children.append(_recommended(trace, rec, set(), plan.serves(trace, problem, stand)))
    return node
