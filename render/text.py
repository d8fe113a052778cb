"""The plan as plain text for a terminal: ranked, explained, cited, with the disclaimer.

Plain text rather than a table library: a plan is prose with a little structure,
and plain text reads the same in a terminal, a pipe, an e-mail and a test.
"""

from __future__ import annotations

import textwrap
from typing import Any

from ..engine.common.numbers import plain
from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Recommendation, Result, Routine

_SECTIONS = (
    ("prerequisite", "First"),
    ("procedure", "Procedures and combinations"),
    ("home_care", "Home care"),
    ("lifestyle", "Lifestyle"),
)
_TIER_WORDS = {"first_line": "first line", "second_line": "second line", "adjunct": "adjunct"}


def _days(r: Recommendation) -> str:
    if r.downtime_days is None:
        return ""
    lo, hi = (plain(d) for d in r.downtime_days)
    if hi == 0:
        return "none"
    return f"{lo} day{'s' if lo != 1 else ''}" if lo == hi else f"{lo}-{hi} days"


class _Writer:
    def __init__(self, width: int):
        self.width = max(width, 40)
        self.lines: list[str] = []

    def para(self, text: str, indent: int = 0, label: str = "", hang: int | None = None) -> None:
        first = " " * indent + label
        rest = " " * (indent + len(label) if hang is None else hang)
        wrapped = textwrap.wrap(
            text,
            width=self.width,
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
        )
        self.lines.extend(wrapped or [first.rstrip()])

    def heading(self, text: str) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(text.upper())

    def blank(self) -> None:
        self.lines.append("")


def input_summary(result: Result, kb: KnowledgeBase) -> list[str]:
    """One line per input fact: what the plan was made for."""
    out = []
    for template in kb.input_templates():
        assert template.input is not None
        data = result.patient.get(template.input.key)
        items = data if template.input.many else [data]
        for i, item in enumerate(items or [], 1):
            shown = []
            for name, spec in template.fields.items():
                value: Any = item.get(name)
                if template.input.many or spec.required or value != spec.default:
                    if value is None or value == []:
                        continue
                    shown.append(spec.describe(value))
            label = f"{template.name} {i}" if template.input.many else template.name
            out.append(f"{label}: " + (", ".join(shown) if shown else "all defaults"))
    return out


def render(result: Result, kb: KnowledgeBase, width: int = 88) -> str:
    """The whole plan: heading and disclaimer, input, each section, routine, avoid, notes."""
    w = _Writer(width)
    w.lines.append(f"cicatrix treatment plan  ({kb.name} {kb.version})")
    w.para(result.disclaimer)
    _alerts(w, result)
    w.heading("Input")
    for line in input_summary(result, kb):
        w.para(line, 2, hang=4)
    _recommendations(w, result)
    _routine(w, result.routine)
    _avoid(w, result)
    _left_out(w, result)
    if result.notes:
        w.heading("Notes")
        for note in result.notes:
            w.para(note, 2, "- ")
    w.blank()
    w.para(result.disclaimer)
    return "\n".join(w.lines) + "\n"


def _alerts(w: _Writer, result: Result) -> None:
    """What must be acted on first comes before anything else, the input included."""
    if not result.alerts:
        return
    w.heading("Alerts: act on these first")
    for a in result.alerts:
        w.para(a.text, 2, f"{a.severity.upper()}: ", hang=4)
        w.para(", ".join(a.sources), 4, "Sources: ")


def _recommendations(w: _Writer, result: Result) -> None:
    by_section: dict[str, list[Recommendation]] = {}
    for r in result.recommendations:
        key = "procedure" if r.kind == "combination" else r.kind
        by_section.setdefault(key, []).append(r)
    for key, title in _SECTIONS:
        recs = by_section.get(key)
        if not recs and key == "procedure" and result.left_out:
            w.heading(title)
            w.para(NOTHING_FITS, 2)
        if not recs:
            continue
        w.heading(title)
        for r in recs:
            _recommendation(w, r, key)


def _recommendation(w: _Writer, r: Recommendation, section: str) -> None:
    kind = "combination" if r.kind == "combination" else r.kind.replace("_", " ")
    extra = f"; for {', '.join(t.replace('_', ' ') for t in r.targets)}" if r.targets else ""
    head = f"{r.rank}. {r.title}  [{kind}, {_TIER_WORDS[r.tier]}{extra}]"
    if r.tier == "adjunct" and section == "procedure":
        # Add-ons: one paragraph each, so the main plan stays readable.
        parts = [r.explanation, *(f"Caution: {c}" for c in r.cautions)]
        parts.append(f"Sources: {', '.join(r.citations)}.")
        w.para(f"{head}: " + " ".join(parts), 2, hang=5)
        return
    w.para(head, 2, hang=5)
    w.para(r.explanation, 5, "Why: ")
    if r.sequence:
        w.para(r.sequence, 5, "Order: ")
    if r.sessions and section == "procedure":
        w.para(r.sessions, 5, "Sessions: ")
    days = _days(r)
    if days and r.kind in ("procedure", "combination"):
        w.para(days, 5, "Downtime: ")
    if r.expected_results:
        w.para(r.expected_results, 5, "Expect: ")
    for caution in r.cautions:
        w.para(caution, 5, "Caution: ")
    evidence = f" (evidence: {r.evidence})" if r.evidence else ""
    w.para(", ".join(r.citations) + evidence, 5, "Sources: ")
    w.para(", ".join(r.rules), 5, "Rules: ")


def _routine(w: _Writer, routine: Routine) -> None:
    if not routine.morning and not any(routine.evening.values()):
        return
    w.heading("Daily routine")
    titles = {s.id: s.title for s in routine.steps.values()}
    if routine.morning:
        w.para(" -> ".join(titles[i] for i in routine.morning), 2, "Morning: ")
    if any(routine.evening.values()):
        w.lines.append("  Evening:")
        for day, ids in routine.evening.items():
            w.para(", ".join(titles[i] for i in ids) or "(nothing)", 4, f"{day.capitalize():<10}")
    if routine.unscheduled:
        names = ", ".join(titles[i] for i in routine.unscheduled)
        w.para(
            f"No evening is free for {names} without clashing with the items above; "
            "ask your dermatologist which to drop or alternate.",
            2,
            "Note: ",
        )
    w.lines.append("  How to use:")
    for step in routine.steps.values():
        if step.how:
            w.para(f"{step.title}: {step.how}", 4, "- ", hang=6)


NOTHING_FITS = (
    "None of the procedures fits what you accept. Each option left out, and what it would take, "
    "is listed under LEFT OUT FOR YOUR PREFERENCES below."
)


def _left_out(w: _Writer, result: Result) -> None:
    """Options a preference rules out, apart from the unsafe ones: they stay choices."""
    if not result.left_out:
        return
    w.heading("Left out for your preferences")
    for x in result.left_out:
        w.para(f"{x.title}: {x.reason}", 2, "- ", hang=4)


def _avoid(w: _Writer, result: Result) -> None:
    if not result.avoid:
        return
    w.heading("Avoid")
    # One reason often strikes out several treatments: say it once.
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for a in result.avoid:
        groups.setdefault((a.reason, a.rules), []).append(a.title)
    for (reason, rules), titles in groups.items():
        w.para(f"{'; '.join(titles)}: {reason}", 2, "x ", hang=4)
        w.para(", ".join(rules), 4, "Rules: ")
