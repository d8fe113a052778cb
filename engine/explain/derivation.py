"""The firings behind a plan as a graph: input facts -> firings -> derived facts -> conclusions.

``trace how`` answers for one conclusion as a tree, and a tree repeats what two
conclusions share. A graph draws each fact and each firing once, so a person can
see at a glance which input facts the whole plan rests on and where derivations
meet. The walk is the one ``how`` makes: from each conclusion of the plan
(a recommendation, an avoided or left-out entry, an alert) back through the
firings that concluded it and the facts each matched, down to the input. Firings
that concluded nothing that stands (a recommendation struck out later, a note)
are not drawn. This module builds the data; the drawing's text is made outside
the engine. It never runs the engine again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from ..common.errors import CicatrixError
from ..common.graph import GraphEdge, GraphNode
from ..resolve.support import supported_firings
from ..session.records import ActionRecord, Firing
from . import plan
from .tracefile import Trace, treatment_ids, unknown_id


@dataclass(frozen=True)
class Derivation:
    """Nodes by key and edges, sorted, and the conclusion asked about (if one was)."""

    nodes: dict[str, GraphNode]
    edges: tuple[GraphEdge, ...]
    focus: frozenset[str] = field(default_factory=frozenset)


class _Conclusion(NamedTuple):
    key: str
    kind: str
    label: str
    title: str
    verb: str  # the edge label from a firing that concluded it
    firings: list[Firing]
    components: tuple[str, ...] = ()


def _firings_with(
    trace: Trace, kind: str, match: Callable[[ActionRecord], bool], stood: set[int] | None
) -> list[Firing]:
    """The firings with an action of ``kind`` that ``match`` accepts (only the standing ones, given ``stood``)."""
    return [
        f
        for f in trace.firings
        if (stood is None or f.seq in stood) and any(a.kind == kind and match(a) for a in f.actions)
    ]


def _conclusions(trace: Trace) -> dict[str, _Conclusion]:
    """Every conclusion of the plan by id, with the firings that concluded it (as ``how`` finds them)."""
    stood = supported_firings(trace.consultation())
    out: dict[str, _Conclusion] = {}
    for rec in trace.result["recommendations"]:
        rid = rec["id"]
        combined = rec.get("kind") == "combination"
        kind = "combine" if combined else "recommend"

        def concluded(a: ActionRecord, rid: str = rid, combined: bool = combined) -> bool:
            return ("+".join(a.components) if combined else a.treatment) == rid

        rank = f", rank {rec['rank']}" if "rank" in rec else ""
        out[rid] = _Conclusion(
            f"conclusion:{rid}",
            "recommended",
            f"{rid}\nrecommended{rank}",
            rec.get("title", ""),
            kind,
            _firings_with(trace, kind, concluded, stood),
            tuple(rec.get("components", ())) if combined else (),
        )
    for key, kind, verb, words in (
        ("avoid", "avoided", "avoid", "avoided"),
        ("left_out", "left_out", "leave_out", "left out"),
    ):
        for entry in trace.result.get(key, []):
            eid = entry["id"]
            out[eid] = _Conclusion(
                f"conclusion:{eid}",
                kind,
                f"{eid}\n{words}",
                entry.get("reason", ""),
                verb.replace("_", " "),
                _firings_with(trace, verb, lambda a, eid=eid: a.treatment == eid, None),
            )
    for alert in trace.result.get("alerts", []):
        aid = alert["id"]
        severity = f"{alert['severity']} " if alert.get("severity") else ""
        out[aid] = _Conclusion(
            f"alert:{aid}",
            "alert",
            f"{aid}\n{severity}alert",
            alert.get("text", ""),
            "alert",
            _firings_with(trace, "alert", lambda a, aid=aid: a.alert == aid, stood),
        )
    return out


class _Walk:
    """Adds firings and the facts they matched, each once, following derived facts back to their firings."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.by_seq = {f.seq: f for f in trace.firings}
        self.nodes: dict[str, GraphNode] = {}
        self.edges: set[GraphEdge] = set()

    def fact(self, fact_id: str) -> str:
        key = f"fact:{fact_id}"
        if key in self.nodes:
            return key
        fact = self.trace.facts[fact_id]
        if fact.origin == "catalogue":
            self.nodes[key] = GraphNode(key, "catalogue", fact_id, self.trace.describe_fact(fact_id))
            return key
        head, _, rest = self.trace.describe_fact(fact_id).partition(": ")
        kind = "input" if fact.origin == "input" else "fact"
        self.nodes[key] = GraphNode(key, kind, f"{head}\n{rest}" if rest else head)
        if fact.origin == "rule" and fact.firing in self.by_seq:
            self.edges.add(GraphEdge(self.firing(self.by_seq[fact.firing]), key, "asserts"))
        return key

    def firing(self, firing: Firing) -> str:
        key = f"firing:{firing.seq}"
        if key in self.nodes:
            return key
        rule = self.trace.rules.get(firing.rule)
        self.nodes[key] = GraphNode(key, "firing", f"{firing.rule}\nfiring #{firing.seq}", rule.title if rule else "")
        for fact_id in firing.matched:
            self.edges.add(GraphEdge(self.fact(fact_id), key, "matched"))
        return key

    def conclusion(self, c: _Conclusion) -> str:
        self.nodes[c.key] = GraphNode(c.key, c.kind, c.label, c.title)
        for f in c.firings:
            self.edges.add(GraphEdge(self.firing(f), c.key, c.verb))
        return c.key


def derivation(trace: Trace, wanted: str | None = None) -> Derivation:
    """The derivation of every conclusion of the plan, or only of ``wanted`` (a conclusion or a fact id).

    An id the trace does not know, or one it knows but did not conclude, is a
    :class:`CicatrixError` worded as ``trace how`` words it.
    """
    found = _conclusions(trace)
    walk = _Walk(trace)
    if wanted is None:
        for c in found.values():
            walk.conclusion(c)
        for c in found.values():
            for part in c.components:
                if part in found:
                    walk.edges.add(GraphEdge(found[part].key, c.key, "part of"))
        focus: frozenset[str] = frozenset()
    elif wanted in found:
        c = found[wanted]
        focus = frozenset({walk.conclusion(c)})
        for part in c.components:
            if part in found:  # the components stand on their own derivations: named, not drawn again
                p = found[part]
                walk.nodes[p.key] = GraphNode(p.key, p.kind, p.label, p.title)
                walk.edges.add(GraphEdge(p.key, c.key, "part of"))
    elif wanted in trace.facts:
        focus = frozenset({walk.fact(wanted)})
    else:
        raise _not_drawable(trace, wanted)
    return Derivation(
        nodes=dict(sorted(walk.nodes.items())),
        edges=tuple(sorted(walk.edges)),
        focus=focus,
    )


def _not_drawable(trace: Trace, wanted: str) -> CicatrixError:
    problem = plan.find(trace, wanted)
    if problem is not None:
        options = [o for o in (problem.get("choice"), *problem.get("alternatives", [])) if o]
        hint = f"draw one of its options instead: {', '.join(options)}" if options else "it has no option to draw"
        return CicatrixError.about(trace.file, f"{wanted!r} is a problem of the plan, not a conclusion; {hint}")
    if wanted in treatment_ids(trace):
        return CicatrixError.about(
            trace.file,
            f"{wanted!r} was neither recommended, avoided nor left out in this trace; "
            f"ask why not: cicatrix trace why-not {trace.file} {wanted}",
        )
    return unknown_id(trace, wanted, "a recommendation, an avoided or left-out treatment, an alert or a fact")
