"""Where each home-care step goes, when a plan covers more than one area.

A step recommended for particular problems (its rule named their kind among its
targets) goes on them ("on the <problem title>"); one drawn from input items of
some regions goes on those regions (their titles); one that rests on no input
item at all (a step for everyone) goes everywhere and needs no label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..knowledge.model import KnowledgeBase
from ..session.records import Consultation
from .problems import Group
from .texts import joined


def areas(
    kb: KnowledgeBase,
    consultation: Consultation,
    valid: set[int],
    firing_roots: Mapping[int, frozenset[str]],
    groups: tuple[Group, ...],
    ids: Iterable[str],
) -> dict[str, str]:
    """home-care id -> where it goes, for the steps that do not go everywhere."""
    if len({g.region for g in groups}) < 2:
        return {}
    wanted = set(ids)
    reached: dict[str, list[Group]] = {}
    targeted: dict[str, bool] = {}
    everywhere: set[str] = set()
    for firing in consultation.firings:
        if firing.seq not in valid:
            continue
        for action in firing.actions:
            if action.kind != "recommend" or action.treatment not in wanted:
                continue
            tid = str(action.treatment)
            under = firing_roots.get(firing.seq, frozenset())
            hits = [g for g in groups if under & g.fact_ids and (not action.targets or g.kind in action.targets)]
            if not hits:
                everywhere.add(tid)
                continue
            found = reached.setdefault(tid, [])
            found.extend(g for g in hits if g not in found)
            targeted[tid] = targeted.get(tid, True) and bool(action.targets)
    titles = {r.id: r.title for r in kb.plan.regions}
    out = {}
    for tid, found in reached.items():
        if tid in everywhere:
            continue
        if targeted[tid]:
            out[tid] = "on the " + joined([g.title for g in sorted(found, key=lambda g: g.id)])
        else:
            regions = list(dict.fromkeys(g.region for g in sorted(found, key=lambda g: g.id)))
            if len(regions) < len({g.region for g in groups}):
                out[tid] = joined([titles.get(r, r) for r in regions])
    return out
