"""Scheduling home-care items into a morning routine and a weekly evening plan.

The knowledge base says, per item, whether it belongs to the morning or the
evening, its place in the order of application, how many evenings a week to
start with, and which items must not share an evening (the mixing rules). The
scheduler only honours those constraints; it knows nothing about what the items
are, so a new incompatibility is a line of YAML, not a code change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..knowledge.model import WEEKDAYS, Treatment
from .result import Routine, RoutineStep


def _spread(nights: int, offset: int) -> list[int]:
    """Evenly spaced weekday indices, e.g. 3 nights -> Monday, Wednesday, Friday."""
    return sorted({(i * 7 // nights + offset) % 7 for i in range(nights)})


def _conflicts(a: Treatment, b: Treatment) -> bool:
    assert a.routine is not None and b.routine is not None
    return b.id in a.routine.not_same_night_as or a.id in b.routine.not_same_night_as


def schedule(items: Iterable[Treatment], where: Mapping[str, str] | None = None) -> Routine:
    items = [t for t in items if t.routine is not None]
    by_order = sorted(items, key=lambda t: (t.routine.order, t.order))  # type: ignore[union-attr]
    morning = tuple(t.id for t in by_order if t.routine.morning)  # type: ignore[union-attr]
    nights: dict[int, list[Treatment]] = {d: [] for d in range(7)}
    evening_items = [t for t in items if t.routine.evening]  # type: ignore[union-attr]
    # Place the most constrained items first: fewest nights and most conflicts leave
    # the others the widest choice, and catalogue order breaks ties deterministically.
    evening_items.sort(
        key=lambda t: (
            t.routine.nights_per_week == 7,  # type: ignore[union-attr]
            -sum(_conflicts(t, o) for o in evening_items if o is not t),
            t.order,
        )
    )
    for item in evening_items:
        wanted = item.routine.nights_per_week  # type: ignore[union-attr]
        free = [d for d in range(7) if not any(_conflicts(item, o) for o in nights[d])]
        chosen: list[int] = []
        for offset in range(7):
            days = _spread(wanted, offset)
            if all(d in free for d in days):
                chosen = days
                break
        if not chosen:  # no evenly spaced set fits: take the free nights in order
            chosen = free[:wanted]
        for d in chosen:
            nights[d].append(item)
    evening = {
        WEEKDAYS[d]: tuple(
            t.id
            for t in sorted(nights[d], key=lambda t: (t.routine.order, t.order))  # type: ignore[union-attr]
        )
        for d in range(7)
    }
    where = where or {}
    steps = {t.id: RoutineStep(t.id, t.title, t.routine.how, where.get(t.id, "")) for t in by_order}  # type: ignore[union-attr]
    placed = {tid for ids in evening.values() for tid in ids}
    unscheduled = tuple(t.id for t in by_order if t.routine.evening and t.id not in placed)  # type: ignore[union-attr]
    return Routine(morning=morning, evening=evening, steps=steps, unscheduled=unscheduled)


def same_night_violations(routine: Routine, catalogue: Mapping[str, Treatment]) -> list[str]:
    """Pairs scheduled on the same evening although the catalogue forbids it (should be none)."""
    found = []
    for day, ids in routine.evening.items():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if _conflicts(catalogue[a], catalogue[b]):
                    found.append(f"{day}: {a} with {b}")
    return found
