"""The JSON contract of ``cicatrix consult --format json``: a plan as plain data.

It lives in the engine, not among the renderers, because replay and the
explanations compare and read plans in this shape without printing them.

Field names and shapes are fixed by the design's contract; everything added here
is an extension (new keys), never a rename. Output is byte-identical for the
same input and knowledge base: keys keep a fixed order, lists are sorted or in
a deterministic rank order, and nothing time- or machine-dependent is included.
"""

from __future__ import annotations

from typing import Any

from ..common.numbers import plain
from .result import Plan, Recommendation, Result


def _recommendation(r: Recommendation, result: Result) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "title": r.title,
        "kind": r.kind,
        "targets": list(r.targets),
        "rank": r.rank,
        "explanation": r.explanation,
        "rules": list(r.rules),
        "sources": list(r.sources),
        "cautions": list(r.cautions),
        "tier": r.tier,
        "citations": list(r.citations),
        "references": list(result.numbers(r.citations)),
    }
    if r.kind == "combination":
        out["components"] = list(r.components)
        out["sequence"] = r.sequence
    if r.expected_results:
        out["expected_results"] = r.expected_results
    if r.sessions:
        out["sessions"] = r.sessions
    if r.evidence:
        out["evidence"] = r.evidence
    if r.downtime_days is not None:
        out["downtime_days"] = {
            "min": plain(r.downtime_days[0]),
            "max": plain(r.downtime_days[1]),
        }
    return out


def _plan(plan: Plan, result: Result) -> dict[str, Any]:
    return {
        "summary": list(plan.summary),
        "problems": [
            {
                "id": p.id,
                plan.items_key: list(p.items),
                "title": p.title,
                "kind": p.kind,
                "region": p.region,
                "grade": plain(p.grade) if p.grade is not None else None,
                "burden": plain(p.burden),
                "choice": p.choice,
                "alternatives": list(p.alternatives),
                "adjuncts": {k: list(v) for k, v in p.adjuncts.items()},
                "why": p.why,
                "rules": list(p.rules),
                "sources": list(p.sources),
                "citations": list(p.citations),
                "references": list(result.numbers(p.citations)),
                "ruled_out": [
                    {"id": x.id, "title": x.title, "kind": x.kind, "reason": x.reason, "rules": list(x.rules)}
                    for x in p.ruled_out
                ],
            }
            for p in plan.problems
        ],
        "course": [
            {
                "phase": ph.number,
                "id": ph.id,
                "title": ph.title,
                "start_week": ph.start_week,
                "end_week": ph.end_week,
                "items": [
                    {
                        "id": i.id,
                        "title": i.title,
                        "problem": i.problem,
                        "problems": list(i.problems),
                        "part_of": i.part_of,
                        "adjuncts": list(i.adjuncts),
                        "start_week": i.start_week,
                        "end_week": i.end_week,
                        "sessions": i.sessions,
                        "interval_weeks": i.interval_weeks,
                    }
                    for i in ph.items
                ],
            }
            for ph in plan.course
        ],
        "reassess_weeks": list(plan.reassess_weeks),
        "also": list(plan.also),
    }


def to_dict(result: Result) -> dict[str, Any]:
    return {
        "kb": {"name": result.kb.name, "version": result.kb.version, "digest": result.kb.digest},
        "patient": result.patient,
        "recommendations": [_recommendation(r, result) for r in result.recommendations],
        "avoid": [
            {
                "id": a.id,
                "title": a.title,
                "reason": a.reason,
                "rules": list(a.rules),
                "sources": list(a.sources),
                "proposed_by": list(a.proposed_by),
                "citations": list(a.citations),
                "references": list(result.numbers(a.citations)),
            }
            for a in result.avoid
        ],
        "routine": {
            "morning": list(result.routine.morning),
            "evening": {day: list(ids) for day, ids in result.routine.evening.items()},
            "how": {
                step.id: {"title": step.title, "how": step.how, **({"where": step.where} if step.where else {})}
                for step in result.routine.steps.values()
            },
            "unscheduled": list(result.routine.unscheduled),
        },
        "notes": list(result.notes),
        "disclaimer": result.disclaimer,
        "alerts": [
            {
                "id": a.id,
                "severity": a.severity,
                "text": a.text,
                "rules": list(a.rules),
                "sources": list(a.sources),
                "citations": list(a.citations),
                "references": list(result.numbers(a.citations)),
            }
            for a in result.alerts
        ],
        "left_out": [
            {
                "id": x.id,
                "title": x.title,
                "constraint": ", ".join(x.constraints),
                "reason": x.reason,
                "rules": list(x.rules),
                "sources": list(x.sources),
                "downtime_days": {"min": plain(x.downtime_days[0]), "max": plain(x.downtime_days[1])},
                "citations": list(x.citations),
                "references": list(result.numbers(x.citations)),
            }
            for x in result.left_out
        ],
        "plan": _plan(result.plan, result),
        "references": [
            {
                "n": ref.n,
                "id": ref.id,
                "title": ref.title,
                "confidence": ref.confidence,
                **({"kind": ref.kind} if ref.kind else {}),
                **({"url": ref.url} if ref.url else {}),
                "cited_as": list(ref.cited_as),
            }
            for ref in result.references
        ],
    }
