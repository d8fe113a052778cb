"""The order of a plan's recommendations: section, tier, then the tie-breakers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..knowledge.model import TIERS, KnowledgeBase
from .result import Recommendation

_SECTION = {"prerequisite": 0, "procedure": 1, "combination": 1, "home_care": 2, "lifestyle": 3}


def ranked(recommendations: Iterable[Recommendation], kb: KnowledgeBase) -> tuple[Recommendation, ...]:
    """Sorted and numbered from 1; the id is the last key, so the order is total."""

    def order(r: Recommendation) -> tuple[object, ...]:
        catalogue_order = min(kb.treatments[c].order for c in (r.components or (r.id,)))
        return (
            _SECTION[r.kind],
            TIERS.index(r.tier),
            bool(r.cautions),  # a caution for this patient ranks it after clean options of its tier
            r.kind != "combination",
            -len(r.rules),
            catalogue_order,
            r.id,
        )

    return tuple(replace(r, rank=i) for i, r in enumerate(sorted(recommendations, key=order), 1))
