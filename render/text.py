"""The plan as plain text for a terminal: a plan first, the full list of options on request.

The order is the order a person acts in: alerts, *Start here*, each problem with
its choice and alternatives, the course week by week, home care, what to avoid,
what was left out for preferences, notes, and the disclaimer at both ends. The
full ranked list of options stays one flag away (``--all``).

Plain text rather than a table library: a plan is prose with a little structure,
and plain text reads the same in a terminal, a pipe, an e-mail and a test.
"""

from __future__ import annotations

from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Avoidance, Result, Routine
from .options import all_options
from .words import (
    cite,
    days,
    heading,
    joined,
    name,
    problem_numbers,
    recommendation,
    reference_line,
    ruled_out_here,
    weeks,
    when,
)
from .writer import Writer, input_summary


def render(result: Result, kb: KnowledgeBase, width: int = 88, show_all: bool = False, show_rules: bool = False) -> str:
    """The plan; with ``show_all`` also the input and every option considered.

    Sources print as numbers into the reference list at the end; rule ids only
    with ``show_rules`` (``--explain``), for the reader who traces a conclusion.
    """
    w = Writer(width)
    w.lines.append(f"cicatrix treatment plan  ({kb.name} {kb.version})")
    w.para(result.disclaimer)
    _alerts(w, result)
    _start_here(w, result)
    _problems(w, result, kb)
    _also(w, result, kb)
    _course(w, result, kb)
    _routine(w, result, kb)
    _avoid(w, result, show_rules)
    _left_out(w, result)
    if result.notes:
        w.heading("Notes")
        for note in result.notes:
            w.para(note, 2, "- ", hang=4)
    if show_all:
        w.heading("Input")
        for line in input_summary(result, kb):
            w.para(line, 2, hang=4)
        all_options(w, result, show_rules)
    _references(w, result)
    w.blank()
    w.para(result.disclaimer)
    return "\n".join(w.lines) + "\n"


def _alerts(w: Writer, result: Result) -> None:
    """What must be acted on first comes before anything else."""
    if not result.alerts:
        return
    w.heading("Alerts: act on these first")
    for a in result.alerts:
        w.para(a.text, 2, f"{a.severity.upper()}: ", hang=4)
        refs = cite(result, a.citations, w.cited)
        if refs:
            w.para(refs, 4, "Sources: ")


def _start_here(w: Writer, result: Result) -> None:
    if not result.plan.summary:
        return
    w.heading("Start here")
    for n, line in enumerate(result.plan.summary, 1):
        w.para(line, 2, f"{n}. ", hang=5)


def _problems(w: Writer, result: Result, kb: KnowledgeBase) -> None:
    if not result.plan.problems:
        return
    w.heading("Your scars, most severe first" if len(result.plan.problems) > 1 else "Your scars")
    for n, p in enumerate(result.plan.problems, 1):
        w.para(heading(kb, result, p), 2, f"{n}. ", hang=5)
        if p.choice is None:
            w.para("nothing for now", 5, "Choice: ")
        else:
            w.para(name(kb, p.choice, p.adjuncts), 5, "Choice: ")
        w.para(p.why, 5, "Why: ")
        chosen = recommendation(result, p.choice)
        if chosen is not None:
            shown = days(chosen.downtime_days)
            if shown:
                w.para(shown, 5, "Downtime: ")
            for caution in chosen.cautions:
                w.para(caution, 5, "Caution: ")
        if p.alternatives:
            w.para("; ".join(name(kb, a, p.adjuncts) for a in p.alternatives), 5, "Alternatives: ")
            shown = set(chosen.cautions) if chosen is not None else set()
            for a in p.alternatives:
                other = recommendation(result, a)
                for caution in other.cautions if other is not None else ():
                    if caution not in shown:
                        shown.add(caution)
                        w.para(caution, 5, f"Caution ({name(kb, a)}): ")
        here, everywhere = ruled_out_here(result, p)
        for x in here:
            verb = "avoid here" if x.kind == "avoid" else "left out here"
            w.para(f"{kb.treatments[x.id].name} ({verb}): {x.reason}", 5, "Ruled out: ")
        if everywhere:
            names = joined([kb.treatments[x.id].name for x in everywhere])
            w.para(f"{names} (see Avoid and Left out below)", 5, "Also ruled out: ")
        refs = cite(result, p.citations, w.cited)
        if refs:
            w.para(refs, 5, "Sources: ")


def _also(w: Writer, result: Result, kb: KnowledgeBase) -> None:
    """Options for something outside the scar list (flat marks): part of the plan, not of a problem."""
    if not result.plan.also:
        return
    w.heading("Also recommended")
    for oid in result.plan.also:
        chosen = recommendation(result, oid)
        if chosen is not None:
            refs = cite(result, chosen.citations, w.cited)
            w.para(f"{name(kb, oid)}: {chosen.explanation} {refs}".rstrip(), 2, "- ", hang=4)


def _course(w: Writer, result: Result, kb: KnowledgeBase) -> None:
    course = result.plan.course
    if not course:
        return
    w.heading("Course, week by week")
    events: list[tuple[int, int, str, list[str]]] = []
    for ph in course:
        alongside = kb.plan.phase(ph.id).alongside
        lines: dict[str, list[str]] = {}  # when -> what, so items that start together share a line
        for item in ph.items:
            label = name(kb, item.id, {item.id: item.adjuncts})
            for_what = problem_numbers(result, item)
            label += f" ({for_what})" if for_what else ""
            lines.setdefault(when(item, ph.end_week, alongside), []).append(label)
        start = f"from week {ph.start_week}" if alongside else weeks(ph.start_week, ph.end_week)
        shown = [f"{', '.join(labels)}: {at}" for at, labels in lines.items()]
        events.append(
            (ph.start_week if not alongside else -1, 1, f"{start[:1].upper() + start[1:]}: {ph.title}", shown)
        )
    for week in result.plan.reassess_weeks:
        events.append((week, 0, f"Week {week}: re-assess with your dermatologist", []))
    for _, _, head, lines in sorted(events, key=lambda e: (e[0], e[1])):
        w.para(head, 2, hang=4)
        for line in lines:
            w.para(line, 4, "- ", hang=6)
    _steps_first(w, result, kb)


def _steps_first(w: Writer, result: Result, kb: KnowledgeBase) -> None:
    """Why each step that comes before the procedures is there: it has no problem to explain it."""
    steps = [r for r in result.recommendations if r.kind == "prerequisite" and r.explanation]
    planned = {i.id for ph in result.plan.course for i in ph.items}
    for r in steps:
        if r.id in planned:
            refs = cite(result, r.citations, w.cited)
            w.para(f"{name(kb, r.id)} comes first: {r.explanation} {refs}".rstrip(), 2, hang=4)


_DAYS = {"monday": "Mon", "tuesday": "Tue", "wednesday": "Wed", "thursday": "Thu", "friday": "Fri"}
_DAYS |= {"saturday": "Sat", "sunday": "Sun"}


def _routine(w: Writer, result: Result, kb: KnowledgeBase) -> None:
    routine = result.routine
    daily = [r for r in result.recommendations if r.kind == "lifestyle"]
    if not routine.morning and not any(routine.evening.values()) and not daily:
        return
    w.heading("Home care, day by day")
    if any(r.kind == "home_care" for r in result.recommendations) and result.plan.course:
        w.para("Once every product has started (the course above says when):", 2)
    names = {s.id: kb.treatments[s.id].name for s in routine.steps.values()}
    if routine.morning:
        w.para(" -> ".join(names[i] for i in routine.morning), 2, "Morning: ", hang=4)
    _evenings(w, routine, names)
    if routine.steps:
        w.lines.append("  How to use:")
    for step in routine.steps.values():
        found = recommendation(result, step.id)
        why = f"Why: {found.explanation}" if found and found.explanation else ""
        cautions = " ".join(f"Caution: {c}" for c in (found.cautions if found else ()))
        if step.how or why or cautions:
            where = f", {step.where}" if step.where else ""
            refs = cite(result, found.citations, w.cited) if found else ""
            said = " ".join(x for x in (step.how, why, cautions, refs) if x)
            w.para(f"{names[step.id]}{where}: {said}", 4, "- ", hang=6)
    # Home care the week-by-week routine has no slot for (a one-off, like a patch test):
    # still part of the plan, so still said, with its reason.
    unslotted = [r for r in result.recommendations if r.kind == "home_care" and r.id not in routine.steps]
    if unslotted and not routine.steps:
        w.lines.append("  How to use:")
    for r in unslotted:
        refs = cite(result, r.citations, w.cited)
        w.para(f"{r.title}: {r.explanation} {refs}".rstrip(), 4, "- ", hang=6)
    if daily:
        w.lines.append("  Every day:")
        for r in daily:
            refs = cite(result, r.citations, w.cited)
            w.para(f"{r.title}: {r.explanation} {refs}".rstrip(), 4, "- ", hang=6)


def _evenings(w: Writer, routine: Routine, names: dict[str, str]) -> None:
    """The evening plan, nights with the same steps on one line."""
    nights: dict[tuple[str, ...], list[str]] = {}
    for day, ids in routine.evening.items():
        nights.setdefault(ids, []).append(_DAYS.get(day, day))
    label = "Evening: "
    for ids, on in nights.items():
        if not any(routine.evening.values()):
            break
        days_text = "every evening" if len(on) == 7 else ", ".join(on)
        w.para(f"{days_text}: {', '.join(names[i] for i in ids) or 'nothing'}", 2, label, hang=4)
        label = " " * len(label)
    if routine.unscheduled:
        missing = ", ".join(names[i] for i in routine.unscheduled)
        w.para(
            f"No evening is free for {missing} without clashing with the items above; "
            "ask your dermatologist which to drop or alternate.",
            2,
            "Note: ",
        )


def _left_out(w: Writer, result: Result) -> None:
    """Options a preference rules out, apart from the unsafe ones: they stay choices."""
    if not result.left_out:
        return
    w.heading("Left out for your preferences")
    for x in result.left_out:
        refs = cite(result, x.citations, w.cited)
        w.para(f"{x.title}: {x.reason} {refs}".rstrip(), 2, "- ", hang=4)


def _avoid(w: Writer, result: Result, show_rules: bool) -> None:
    if not result.avoid:
        return
    w.heading("Avoid")
    # One reason often strikes out several treatments: say it once.
    groups: dict[tuple[str, tuple[str, ...]], list[Avoidance]] = {}
    for a in result.avoid:
        groups.setdefault((a.reason, a.rules), []).append(a)
    for (reason, rules), items in groups.items():
        refs = cite(result, [c for a in items for c in a.citations], w.cited)
        w.para(f"{'; '.join(a.title for a in items)}: {reason} {refs}".rstrip(), 2, "x ", hang=4)
        if show_rules:
            w.para(", ".join(rules), 4, "Rules: ")


def _references(w: Writer, result: Result) -> None:
    """The works the text cited, by number: titles a reader can look up, and how far to trust each."""
    shown = [ref for ref in result.references if ref.n in w.cited]
    if not shown:
        return
    w.heading("References")
    for ref in shown:
        label = f"[{ref.n}] "
        w.para(reference_line(ref), 2, label, hang=2 + len(label))
