"""*Start here*: the plan in a few lines, what to do first and what comes next.

Read off the finished course, so the lines can never disagree with it: the
urgent alerts, then each sequential phase with its weeks and what it holds, the
gradual start of home care, and when to re-assess. Phase, item and problem names
come from the knowledge base; only the connecting words are the engine's.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..knowledge.model import SEVERITIES, KnowledgeBase
from .result import Alert, CourseItem, CoursePhase, Problem
from .texts import joined

MAX_LINES = 6


def _weeks(start: int, end: int) -> str:
    return f"week {start}" if start == end else f"weeks {start}-{end}"


def _item(kb: KnowledgeBase, item: CourseItem, titles: dict[str, str]) -> str:
    name = kb.treatments[item.id].name + "".join(f" ± {kb.treatments[a].name}" for a in item.adjuncts)
    if not item.problems:
        return name
    return f"{name} for {joined([titles[p] for p in item.problems])}"


def summary(
    kb: KnowledgeBase,
    alerts: Iterable[Alert],
    problems: tuple[Problem, ...],
    course: tuple[CoursePhase, ...],
    reassess: tuple[int, ...],
) -> tuple[str, ...]:
    titles = {p.id: p.title for p in problems}
    lines: list[str] = []
    if any(a.severity == SEVERITIES[0] for a in alerts):
        lines.append("Act on the urgent alert above before anything else.")
    sequential = [ph for ph in course if not kb.plan.phase(ph.id).alongside]
    for n, ph in enumerate(sequential):
        word = "First" if n == 0 else "Then"
        things = "; ".join(_item(kb, i, titles) for i in ph.items)
        lines.append(f"{word}, {_weeks(ph.start_week, ph.end_week)}: {ph.title.rstrip('.')}: {things}.")
    waiting = [p for p in problems if p.choice is None]
    if waiting and not any(i.problem for ph in sequential for i in ph.items):
        lines.append(f"Nothing corrective yet for {joined([p.title for p in waiting])}. {waiting[0].why}")
    for ph in course:
        if not kb.plan.phase(ph.id).alongside:
            continue
        now = [kb.treatments[i.id].name for i in ph.items if i.start_week == ph.start_week]
        later = [f"{kb.treatments[i.id].name} (week {i.start_week})" for i in ph.items if i.start_week != ph.start_week]
        text = f"From week {ph.start_week}, {ph.title[0].lower() + ph.title[1:].rstrip('.')}: {joined(now)}"
        lines.append(text + (f"; then one at a time: {joined(later)}." if later else "."))
    if reassess:
        lines.append(f"Re-assess at {'week' if len(reassess) == 1 else 'weeks'} {joined([str(w) for w in reassess])}.")
    if len(lines) > MAX_LINES:  # keep the first steps and the re-assessment, fold the middle
        keep = MAX_LINES - 2
        lines = [*lines[:keep], "Then the later phases of the course below.", lines[-1]]
    return tuple(lines)
