"""The order of a plan's recommendations: section, place in the plan, tier, then the tie-breakers.

The plan decides first: each problem's choice (most severe problem first), then
the alternatives, then every other option considered. Within those, tier; a
caution only moves an option down when it names a risk for this person.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ..knowledge.model import TIERS, KnowledgeBase
from .result import Problem, Recommendation

_SECTION = {"prerequisite": 0, "procedure": 1, "combination": 1, "home_care": 2, "lifestyle": 3}


def ranked(
    recommendations: Iterable[Recommendation],
    kb: KnowledgeBase,
    problems: Iterable[Problem] = (),
    risky: Collection[str] = (),
) -> tuple[Recommendation, ...]:
    """Sorted and numbered from 1; the id is the last key, so the order is total."""
    place: dict[str, tuple[int, int, int]] = {}
    problems = tuple(problems)
    for i, p in enumerate(problems):
        if p.choice is not None:
            place.setdefault(p.choice, (0, i, 0))
    for i, p in enumerate(problems):
        for j, alternative in enumerate(p.alternatives):
            place.setdefault(alternative, (1, i, j))

    def order(r: Recommendation) -> tuple[object, ...]:
        parts = r.components or (r.id,)
        catalogue_order = min(kb.treatments[c].order for c in parts)
        return (
            _SECTION[r.kind],
            place.get(r.id, (2, 0, 0)),
            TIERS.index(r.tier),
            any(c in risky for c in parts),  # a risk for this person ranks it after safer options of its tier
            r.kind != "combination",
            -len(r.rules),
            catalogue_order,
            r.id,
        )

    return tuple(r._replace(rank=i) for i, r in enumerate(sorted(recommendations, key=order), 1))
