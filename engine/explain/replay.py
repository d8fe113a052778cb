"""Replaying a trace: resolve its recorded firings again and compare the plans.

This proves a trace is a faithful record: the plan is a function of the firings
alone, so re-resolving them must give the plan the consultation printed.
"""

from __future__ import annotations

from typing import Any

from ..common.errors import CicatrixError
from ..knowledge.model import KnowledgeBase
from ..patient.reader import InputFact, PatientInput
from ..resolve.contract import to_dict
from ..resolve.resolver import resolve
from ..resolve.safety import SafetyInvariantError
from .tracefile import Trace


def replay(trace: Trace, kb: KnowledgeBase) -> list[str]:
    """The differences between the recorded plan and the one its firings resolve to."""
    if trace.version < 2:
        raise CicatrixError.about(
            trace.file,
            f"this trace is format version {trace.version}, written before plans had problems and a course; "
            "it does not record what resolving them needs. "
            "Write it again with `cicatrix consult FILE --trace out.json`",
        )
    ids = {rule.id for rule in kb.rules}
    for firing in trace.firings:
        if firing.rule not in ids:
            raise CicatrixError.about(
                trace.file, f"firing #{firing.seq} names rule {firing.rule!r}, which this knowledge base does not have"
            )
    _check_against(trace, kb)
    facts = tuple(InputFact(f.id, f.template, f.values) for f in trace.facts.values() if f.origin == "input")
    patient = PatientInput(trace.patient_file, trace.result["patient"], facts)
    try:
        replayed = to_dict(resolve(kb, patient, trace.consultation()))
    except SafetyInvariantError as exc:
        # The trace was checked on its own; a plan its firings cannot give safely
        # means they were edited, or come from another knowledge base.
        raise CicatrixError.about(
            trace.file, f"its firings do not resolve to a safe plan with this knowledge base ({exc}); was it edited?"
        ) from None
    # Keys may be added within a trace format version: a trace written before a key
    # existed recorded nothing for it, which is the same as an empty one.
    replayed = {k: v for k, v in replayed.items() if k in trace.result or v not in ([], {}, "")}
    return _diff(trace.result, replayed, "")


def _check_against(trace: Trace, kb: KnowledgeBase) -> None:
    """Every treatment and template the firings name exists in the knowledge base replaying them."""
    problems = []
    for firing in trace.firings:
        for action in firing.actions:
            named = [action.treatment, *action.components] if action.treatment or action.components else []
            if action.kind in ("recommend", "avoid", "caution", "leave_out", "combine"):
                for tid in named:
                    if tid and tid not in kb.treatments:
                        problems.append(f"firing #{firing.seq} names treatment {tid!r}")
    for fact in trace.facts.values():
        if fact.template not in kb.templates:
            problems.append(f"fact {fact.id} is a {fact.template!r} fact")
    if problems:
        raise CicatrixError.about(
            trace.file,
            f"{problems[0]}, which this knowledge base does not have"
            + (f" (and {len(problems) - 1} more such)" if len(problems) > 1 else ""),
        )


def _diff(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=False)) for d in _diff(x, y, f"{path}[{i}]")]
    if isinstance(a, list) and isinstance(b, list):
        return [f"{path}: recorded {_short(_ids(a))}, replayed {_short(_ids(b))}"]
    return [] if a == b else [f"{path}: recorded {_short(a)}, replayed {_short(b)}"]


def _ids(items: list[Any]) -> list[Any]:
    return [x.get("id", "?") if isinstance(x, dict) else x for x in items]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
