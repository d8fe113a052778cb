"""The course of care: phases in order, week by week, honouring what must come first.

Everything here is knowledge-base data: the phases and their order, each
treatment's phase, sessions and interval (the catalogue's ``course``), and the
ordering rules ("resurfacing at least 4 weeks after punch techniques"). The
scheduler places each planned item at the earliest week its phase and every
ordering rule allow; it knows nothing of what the items are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..common.memo import derived
from ..knowledge.model import CourseSpec, KnowledgeBase, OrderRule, Phase
from .result import CourseItem, CoursePhase, Problem, Recommendation


@dataclass
class _Entry:
    id: str
    spec: CourseSpec
    problems: list[str] = field(default_factory=list)
    part_of: str | None = None
    adjuncts: list[str] = field(default_factory=list)
    start: int = 0
    end: int = 0


def _entries(
    kb: KnowledgeBase, problems: Iterable[Problem], recommendations: Iterable[Recommendation], also: Iterable[str]
) -> list[_Entry]:
    """What the course holds: each problem's choice (by part), options outside the problems, the supports."""
    entries: dict[str, _Entry] = {}
    for p in problems:
        if p.choice is None:
            continue
        parts = p.choice.split("+")
        for part in parts:
            spec = kb.treatments[part].course
            if spec is None:
                continue
            entry = entries.setdefault(part, _Entry(part, spec, part_of=p.choice if len(parts) > 1 else None))
            entry.problems.append(p.id)
            for add in p.adjuncts.get(p.choice, ()):
                if part in kb.plan.adjuncts.get(add, ()) and add not in entry.adjuncts:
                    entry.adjuncts.append(add)
    for oid in also:
        for part in oid.split("+"):
            spec = kb.treatments[part].course
            if spec is not None and part not in entries:
                entries[part] = _Entry(part, spec, part_of=oid if "+" in oid else None)
    for r in recommendations:  # in rank order, which is the order gradual items are introduced
        spec = kb.treatments[r.id].course if r.kind != "combination" else None
        if spec is None or r.id in entries or kb.treatments[r.id].kind == "procedure":
            continue  # procedures enter the course only as a problem's choice
        entries[r.id] = _Entry(r.id, spec)
    scheduled = set(entries)
    return [e for e in entries.values() if not e.spec.only_with or scheduled & set(e.spec.only_with)]


def _length(spec: CourseSpec) -> int | None:
    if spec.sessions is not None:
        return (spec.sessions - 1) * (spec.interval_weeks or 0)
    return spec.weeks


def _order(kb: KnowledgeBase) -> list[tuple[OrderRule, frozenset[str], frozenset[str]]]:
    """Each ordering rule with the catalogue ids its ``first`` and its ``then`` select.

    The selections depend on the catalogue alone, and every plan asks them for
    every pair of its items, so they are made once per knowledge base.
    """
    return derived(kb, _selections)


def _selections(kb: KnowledgeBase) -> list[tuple[OrderRule, frozenset[str], frozenset[str]]]:
    ts = kb.treatments
    return [
        (
            rule,
            frozenset(tid for tid, t in ts.items() if rule.first.matches(t)),
            frozenset(tid for tid, t in ts.items() if rule.then.matches(t)),
        )
        for rule in kb.plan.order
    ]


def _place(kb: KnowledgeBase, phase: Phase, items: list[_Entry], start: int, placed: list[_Entry]) -> None:
    """Earliest starts for one phase's items: its start, gradual spacing, then every ordering rule."""
    gradual = [e for e in items if e.spec.gradual]
    for e in items:  # gradual items one at a time, the first after the others have settled in
        e.start = start + ((gradual.index(e) + 1) * kb.plan.gradual_weeks if e.spec.gradual else 0)
    for _ in range(len(items) + 1):  # rules only push items later; a few passes settle them
        moved = False
        for e in items:
            earliest = e.start
            for rule, firsts, thens in _order(kb):
                if e.id not in thens:
                    continue
                for before in (*placed, *items):
                    if before is not e and before.id in firsts:
                        earliest = max(earliest, before.end + rule.gap_weeks)
            length = _length(e.spec)
            end = earliest + (length or 0)
            if (earliest, end) != (e.start, e.end):
                e.start, e.end, moved = earliest, end, True
        if not moved:
            break


def _timeline(kb: KnowledgeBase, entries: list[_Entry]) -> list[tuple[Phase, list[_Entry]]]:
    """Each phase with its items placed: sequential phases one after another, alongside ones from week 0.

    An item without a length spans its phase, so its end is settled as soon as its
    phase is placed: a later ordering rule then waits for the whole phase.
    """
    placed: list[_Entry] = []
    spans: list[tuple[Phase, list[_Entry]]] = []
    cursor, started = 0, False
    for phase in kb.plan.phases:
        items = [e for e in entries if e.spec.phase == phase.id]
        if not items:
            continue
        start = 0 if phase.alongside else cursor + (phase.gap_weeks if started else 0)
        _place(kb, phase, items, start, placed)
        if not phase.alongside:
            timed_end = max([e.end for e in items if _length(e.spec) is not None], default=start)
            for e in items:
                if _length(e.spec) is None:
                    e.end = max(timed_end, e.start)
            cursor, started = max(e.end for e in items), True
        placed += items
        spans.append((phase, items))
    finish = max([cursor, *(e.end for e in placed)])
    for phase, items in spans:
        if phase.alongside:
            for e in items:
                if _length(e.spec) is None:  # introduced, then kept up for the whole course
                    e.end = finish
    return spans


def schedule(
    kb: KnowledgeBase,
    problems: Iterable[Problem],
    recommendations: Iterable[Recommendation],
    also: Iterable[str] = (),
) -> tuple[tuple[CoursePhase, ...], tuple[int, ...]]:
    """The course's phases (in order of their start, then the knowledge base's) and re-assessment weeks."""
    if not kb.plan.phases:
        return (), ()
    problems = tuple(problems)
    entries = _entries(kb, problems, recommendations, also)
    order = {p.id: i for i, p in enumerate(problems)}
    position = {e.id: i for i, e in enumerate(entries)}
    entries.sort(key=lambda e: (min((order[p] for p in e.problems), default=len(order)), position[e.id]))
    spans = _timeline(kb, entries)
    reassess = {
        max(e.end for e in items) + phase.reassess_after_weeks
        for phase, items in spans
        if phase.reassess_after_weeks is not None and not phase.alongside
    }
    ordered = sorted(spans, key=lambda s: (min(e.start for e in s[1]), kb.plan.phases.index(s[0])))
    phases = tuple(
        CoursePhase(
            number=n,
            id=phase.id,
            title=phase.title,
            start_week=min(e.start for e in items),
            end_week=max(e.end for e in items),
            items=tuple(_item(kb, e) for e in sorted(items, key=lambda e: (e.start, entries.index(e)))),
        )
        for n, (phase, items) in enumerate(ordered, 1)
    )
    return phases, tuple(sorted(reassess))


def _item(kb: KnowledgeBase, e: _Entry) -> CourseItem:
    return CourseItem(
        id=e.id,
        title=kb.treatments[e.id].title,
        problem=e.problems[0] if e.problems else None,
        problems=tuple(e.problems),
        part_of=e.part_of,
        adjuncts=tuple(e.adjuncts),
        start_week=e.start,
        end_week=e.end,
        sessions=e.spec.sessions,
        interval_weeks=e.spec.interval_weeks,
    )


def order_violations(kb: KnowledgeBase, course: Iterable[CoursePhase]) -> list[str]:
    """Every way a course breaks its phases or an ordering rule (there should be none)."""
    found = []
    items = [(ph, i) for ph in course for i in ph.items]
    for ph, i in items:
        if i.start_week < ph.start_week or i.end_week < i.start_week:
            found.append(f"{i.id} runs weeks {i.start_week}-{i.end_week}, outside its phase {ph.id}")
    for rule, firsts, thens in _order(kb):
        for _, later in items:
            if later.id not in thens:
                continue
            for _, first in items:
                if first is later or first.id not in firsts:
                    continue
                if later.start_week < first.end_week + rule.gap_weeks:
                    found.append(
                        f"{later.id} starts at week {later.start_week}, before {first.id} ends "
                        f"(week {first.end_week}) plus {rule.gap_weeks} weeks"
                    )
    return found
