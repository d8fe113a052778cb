"""What each problem could be treated with, and what is ruled out for it only.

An option (a treatment or a combination) reaches a problem when the action that
proposed it names the problem's kind among its targets and its firing rests on
one of the problem's input items (or on none: then it speaks for every problem
of that kind). A scoped ``avoid`` or ``leave_out`` (for example, only on
some sites) rules a treatment out for the problems whose items match its scope;
where that leaves the treatment no problem at all, it is ruled out outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..knowledge.constraints import in_scope
from ..knowledge.model import KnowledgeBase
from ..session.records import ActionRecord, Consultation
from .problems import Group
from .proposals import best_tier

CORRECTIVE = ("procedure",)  # catalogue kinds a problem's options are drawn from, besides combinations


@dataclass
class Option:
    """One option for one problem, with what the rules that proposed it for that problem said."""

    id: str
    components: tuple[str, ...]
    tier: str
    rules: list[str] = field(default_factory=list)
    texts: list[ActionRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Exclusion:
    """A scoped avoid or leave_out: the treatment is ruled out where input items match ``scope``."""

    treatment: str
    kind: str  # avoid or leave_out
    rule: str
    action: ActionRecord

    def covers(self, group: Group) -> bool:
        return any(in_scope(f.values, self.action.scope) for f in group.facts)


def proposed(
    kb: KnowledgeBase,
    consultation: Consultation,
    valid: set[int],
    firing_roots: Mapping[int, frozenset[str]],
    groups: Iterable[Group],
) -> dict[str, dict[str, Option]]:
    """problem id -> option id -> the option as the standing firings proposed it for that problem."""
    groups = tuple(groups)
    out: dict[str, dict[str, Option]] = {g.id: {} for g in groups}
    for firing in consultation.firings:
        if firing.seq not in valid:
            continue
        under = firing_roots.get(firing.seq, frozenset())
        for action in firing.actions:
            if action.kind == "recommend" and kb.treatments[str(action.treatment)].kind in CORRECTIVE:
                oid, components = str(action.treatment), (str(action.treatment),)
            elif action.kind == "combine":
                oid, components = "+".join(action.components), action.components
            else:
                continue
            for g in groups:
                if g.kind in action.targets and (not under or under & g.fact_ids):
                    option = out[g.id].setdefault(oid, Option(oid, components, action.tier))
                    option.tier = best_tier(option.tier, action.tier)
                    option.rules.append(firing.rule)
                    option.texts.append(action)
    return out


def scoped(consultation: Consultation, valid: set[int]) -> list[Exclusion]:
    """Every scoped avoid and leave_out of the standing firings, in firing order."""
    return [
        Exclusion(str(a.treatment), a.kind, f.rule, a)
        for f in consultation.firings
        if f.seq in valid
        for a in f.actions
        if a.kind in ("avoid", "leave_out") and a.scope
    ]


def excluded_for(group: Group, exclusions: Iterable[Exclusion]) -> dict[str, list[Exclusion]]:
    """treatment id -> the scoped exclusions that rule it out for this problem."""
    out: dict[str, list[Exclusion]] = {}
    for e in exclusions:
        if e.covers(group):
            out.setdefault(e.treatment, []).append(e)
    return out


def outright(
    exclusions: list[Exclusion], groups: Iterable[Group], options: Mapping[str, Mapping[str, Option]]
) -> dict[str, list[Exclusion]]:
    """Scoped exclusions that leave a treatment no problem to serve: they rule it out everywhere.

    A treatment that some problem can still use (alone or in a combination) keeps
    its place in the plan for that problem; otherwise the plan lists it as avoided
    (or left out) like any other, with the scoped reasons.
    """
    by_treatment: dict[str, list[Exclusion]] = {}
    for e in exclusions:
        by_treatment.setdefault(e.treatment, []).append(e)
    groups = tuple(groups)
    offered = {g.id: {c for o in options.get(g.id, {}).values() for c in o.components} for g in groups}
    out = {}
    for tid, found in by_treatment.items():
        usable = [g for g in groups if tid in offered[g.id] and not any(e.covers(g) for e in found)]
        if not usable:
            out[tid] = found
    return out
