"""Every option considered, ranked, with its full explanation: ``consult --all``.

The plan shows one choice per problem and a few alternatives; this is the list
underneath it, for the clinician who wants to see what else was weighed.
"""

from __future__ import annotations

from ..engine.resolve.result import Recommendation, Result
from .words import cite, days
from .writer import Writer

_SECTIONS = (
    ("prerequisite", "First"),
    ("procedure", "Procedures and combinations"),
    ("home_care", "Home care"),
    ("lifestyle", "Lifestyle"),
)
_TIER_WORDS = {"first_line": "first line", "second_line": "second line", "adjunct": "adjunct"}


def all_options(w: Writer, result: Result, show_rules: bool = False) -> None:
    w.heading("All options considered, ranked")
    by_section: dict[str, list[Recommendation]] = {}
    for r in result.recommendations:
        key = "procedure" if r.kind == "combination" else r.kind
        by_section.setdefault(key, []).append(r)
    for key, title in _SECTIONS:
        recs = by_section.get(key)
        if not recs:
            continue
        w.lines.append(f"  {title}")
        for r in recs:
            _recommendation(w, result, r, key, show_rules)


def _recommendation(w: Writer, result: Result, r: Recommendation, section: str, show_rules: bool) -> None:
    kind = "combination" if r.kind == "combination" else r.kind.replace("_", " ")
    extra = f"; for {', '.join(t.replace('_', ' ') for t in r.targets)}" if r.targets else ""
    head = f"{r.rank}. {r.title}  [{kind}, {_TIER_WORDS[r.tier]}{extra}]"
    if r.tier == "adjunct" and section == "procedure":
        # Add-ons: one paragraph each, so the list stays readable.
        parts = [r.explanation, *(f"Caution: {c}" for c in r.cautions)]
        refs = cite(result, r.citations, w.cited)
        if refs:
            parts.append(f"Sources: {refs}.")
        if show_rules:
            parts.append(f"Rules: {', '.join(r.rules)}.")
        w.para(f"{head}: " + " ".join(parts), 2, hang=5)
        return
    w.para(head, 2, hang=5)
    w.para(r.explanation, 5, "Why: ")
    if r.sequence:
        w.para(r.sequence, 5, "Order: ")
    if r.sessions and section == "procedure":
        w.para(r.sessions, 5, "Sessions: ")
    shown = days(r.downtime_days)
    if shown and r.kind in ("procedure", "combination"):
        w.para(shown, 5, "Downtime: ")
    if r.expected_results:
        w.para(r.expected_results, 5, "Expect: ")
    for caution in r.cautions:
        w.para(caution, 5, "Caution: ")
    evidence = f" (evidence: {r.evidence})" if r.evidence else ""
    w.para(cite(result, r.citations, w.cited) + evidence, 5, "Sources: ")
    if show_rules:
        w.para(", ".join(r.rules), 5, "Rules: ")
