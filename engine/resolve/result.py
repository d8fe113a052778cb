"""The resolved plan of one consultation, as renderers receive it.

Renderers (text, Markdown) read these objects, and :mod:`.contract` turns them
into the JSON contract, whose field names they follow; the engine never imports a
renderer.

The parts are NamedTuples, the whole a frozen dataclass: as immutable either way,
but a NamedTuple class costs a fraction of a dataclass to create, and every cold
consultation creates these classes before it can print a line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from ..session.records import Consultation


class Recommendation(NamedTuple):
    """An option the plan allows, with every rule and source behind it."""

    id: str
    title: str
    kind: str
    targets: tuple[str, ...]
    rank: int
    tier: str
    explanation: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]  # cited documents
    citations: tuple[str, ...]  # the same, with the section anchors the rules give
    cautions: tuple[str, ...]
    components: tuple[str, ...] = ()  # combinations only
    sequence: str = ""  # combinations only: order and intervals
    downtime_days: tuple[float, float] | None = None
    expected_results: str = ""  # what to expect and when, from the catalogue
    sessions: str = ""  # how many sessions and how far apart, from the catalogue
    evidence: str = ""  # high / medium / low: the catalogue's confidence in the entry


class Avoidance(NamedTuple):
    """An option that is unsafe or never to be done for this person, and why."""

    id: str
    title: str
    reason: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    proposed_by: tuple[str, ...]  # rules that recommended it before the avoid won
    citations: tuple[str, ...] = ()  # the sources with the section anchors the rules give


class Alert(NamedTuple):
    """What must be acted on before anything else in the plan."""

    id: str
    severity: str  # urgent or warning
    text: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    citations: tuple[str, ...] = ()


class LeftOut(NamedTuple):
    """An option ruled out by a preference (not by safety), with what it would take."""

    id: str
    title: str
    constraints: tuple[str, ...]  # the preferences that rule it out
    reason: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    downtime_days: tuple[float, float]
    citations: tuple[str, ...] = ()


class DroppedCombination(NamedTuple):
    """A combination some rule proposed that resolution left out, and why (for why-not)."""

    id: str
    rules: tuple[str, ...]
    reason: str


class RoutineStep(NamedTuple):
    """How to use one home-care item, and where it goes."""

    id: str
    title: str
    how: str
    where: str = ""  # which area it goes on, when the plan covers more than one


class Routine(NamedTuple):
    """The week of home care: the morning order and each evening's steps."""

    morning: tuple[str, ...]
    evening: dict[str, tuple[str, ...]]
    steps: dict[str, RoutineStep]  # how to use each item named in the routine
    unscheduled: tuple[str, ...] = ()  # evening items no free night could take


class RuledOut(NamedTuple):
    """An option proposed for one problem that the plan cannot use there, and why."""

    id: str
    title: str
    kind: str  # "avoid" (unsafe or never to be done) or "left_out" (a preference)
    reason: str
    rules: tuple[str, ...]


class Problem(NamedTuple):
    """A group of input items of one kind on one region, with the option chosen for it."""

    id: str
    items: tuple[int, ...]  # 1-based positions in the input list
    kind: str  # the value of the target field the items share
    region: str
    title: str
    grade: float | None
    burden: float
    choice: str | None
    alternatives: tuple[str, ...]
    adjuncts: dict[str, tuple[str, ...]]  # option id -> add-ons shown as "± add-on"
    why: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    ruled_out: tuple[RuledOut, ...] = ()
    citations: tuple[str, ...] = ()


class CourseItem(NamedTuple):
    """One option in the course, with its weeks and sessions."""

    id: str
    title: str
    problem: str | None
    problems: tuple[str, ...]  # every problem it serves (the first is ``problem``)
    part_of: str | None  # the combination it comes from, when it does
    adjuncts: tuple[str, ...]
    start_week: int
    end_week: int
    sessions: int | None
    interval_weeks: int | None


class CoursePhase(NamedTuple):
    """A stretch of the course whose items share a purpose and a start."""

    number: int
    id: str
    title: str
    start_week: int
    end_week: int
    items: tuple[CourseItem, ...]


class Plan(NamedTuple):
    """What a person acts on: where to start, the problems, the course and when to re-assess."""

    summary: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    course: tuple[CoursePhase, ...] = ()
    reassess_weeks: tuple[int, ...] = ()
    items_key: str = "items"  # the input list problems index into (the target template's key)
    also: tuple[str, ...] = ()  # recommended options that serve no problem (nothing in the input list)


class Reference(NamedTuple):
    """One entry of a plan's numbered reference list (see :mod:`.references`)."""

    n: int
    id: str  # a publication id or a source's name
    title: str
    confidence: str
    kind: str  # what sort of work it is, when known
    url: str
    cited_as: tuple[str, ...]  # the citations (document#anchor) it stands for


class KbInfo(NamedTuple):
    """Which knowledge base made a plan, so a plan can be traced to the exact rules."""

    name: str
    version: str
    digest: str


@dataclass(frozen=True)
class Result:
    """The whole resolved consultation, as every renderer and the JSON contract receive it."""

    kb: KbInfo
    patient: dict[str, Any]
    recommendations: tuple[Recommendation, ...]
    avoid: tuple[Avoidance, ...]
    routine: Routine
    notes: tuple[str, ...]
    disclaimer: str
    dropped: tuple[DroppedCombination, ...] = ()
    alerts: tuple[Alert, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    plan: Plan = field(default_factory=Plan)
    consultation: Consultation | None = field(default=None, compare=False, repr=False)
    references: tuple[Reference, ...] = ()

    def numbers(self, citations: Iterable[str]) -> tuple[int, ...]:
        """The reference numbers that stand for these citations, in order."""
        index = self._reference_index
        return tuple(sorted({n for c in citations for n in index.get(c, ())}))

    @cached_property
    def _reference_index(self) -> dict[str, tuple[int, ...]]:
        index: dict[str, list[int]] = {}
        for ref in self.references:
            for c in ref.cited_as:
                index.setdefault(c, []).append(ref.n)
        return {c: tuple(ns) for c, ns in index.items()}
