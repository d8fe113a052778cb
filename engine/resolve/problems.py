"""Grouping input items into problems: one kind (the target field) on one region.

What a group is called, which values make a region, how heavily a group weighs
and which derived facts grade it are knowledge-base data (``plan.yaml``); this
module only follows them. Problems are ordered most severe first (grade, then
burden), so the plan leads with what matters most and one light item cannot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..knowledge.model import KnowledgeBase, PlanSpec, Template
from ..patient.reader import InputFact
from ..session.records import Consultation


@dataclass(frozen=True)
class Group:
    """A problem before an option is chosen for it."""

    id: str
    kind: str
    region: str
    facts: tuple[InputFact, ...]
    items: tuple[int, ...]  # 1-based positions in the input list
    title: str
    grade: float | None
    burden: float

    @property
    def fact_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.facts)


def region_of(plan: PlanSpec, values: Mapping[str, Any]) -> str:
    """The region an input item falls in ('' when the knowledge base declares none for it)."""
    if not plan.region_field:
        return ""
    value = values.get(plan.region_field)
    return next((r.id for r in plan.regions if value in r.values), "")


def groups(
    kb: KnowledgeBase,
    facts: tuple[InputFact, ...],
    consultation: Consultation,
    fact_roots: Mapping[str, frozenset[str]],
) -> tuple[Group, ...]:
    """The problems of one consultation, most severe first, numbered in that order."""
    if kb.targets is None:
        return ()
    template_name, kind_field = kb.targets
    template = kb.templates[template_name]
    plan = kb.plan
    items = [f for f in facts if f.template == template_name]
    keyed: dict[tuple[str, str], list[tuple[int, InputFact]]] = {}
    for position, fact in enumerate(items, 1):
        key = (str(fact.values.get(kind_field)), region_of(plan, fact.values))
        keyed.setdefault(key, []).append((position, fact))
    grades = _grades(kb, consultation, fact_roots)
    drafts = []
    for (kind, region), members in keyed.items():
        ids = {f.id for _, f in members}
        graded = [value for value, under in grades if under & ids]
        drafts.append(
            (
                kind,
                region,
                tuple(f for _, f in members),
                tuple(p for p, _ in members),
                max(graded) if graded else None,
                sum(_burden(plan, f.values) for _, f in members),
            )
        )
    # A problem no grading fact reaches is of unknown severity, not a minor one: it ranks
    # with the most severe graded problem, and burden decides between them.
    top = max((d[4] for d in drafts if d[4] is not None), default=0.0)
    drafts.sort(key=lambda d: (-(top if d[4] is None else d[4]), -d[5], d[3][0]))
    return tuple(
        Group(f"problem-{n}", kind, region, members, positions, title(plan, template, members), grade, burden)
        for n, (kind, region, members, positions, grade, burden) in enumerate(drafts, 1)
    )


def _burden(plan: PlanSpec, values: Mapping[str, Any]) -> float:
    count = values.get(plan.burden_count, 1) if plan.burden_count else 1
    weight = plan.burden_weights.get(values.get(plan.burden_field), plan.burden_default) if plan.burden_field else 1
    return float(count or 1) * float(weight)


def _grades(
    kb: KnowledgeBase, consultation: Consultation, fact_roots: Mapping[str, frozenset[str]]
) -> list[tuple[float, frozenset[str]]]:
    """(grade, the input items beneath it) for every grading fact the consultation derived."""
    if kb.plan.grade is None:
        return []
    template, field_name = kb.plan.grade
    return [
        (float(f.values[field_name]), fact_roots.get(f.id, frozenset()))
        for f in consultation.facts
        if f.template == template and isinstance(f.values.get(field_name), (int, float))
    ]


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def title(plan: PlanSpec, template: Template, members: tuple[InputFact, ...]) -> str:
    """The knowledge base's title for a problem, each {field} worded from its items' values.

    Values the items share are named once; different values are joined ("a and
    b"); a field no item gives takes the field's words for "unknown",
    or drops out.
    """
    pattern = plan.title or "{" + next(iter(template.fields)) + "}"

    def words(match: re.Match[str]) -> str:
        spec = template.fields[match[1]]
        values = list(dict.fromkeys(f.values.get(match[1]) for f in members))
        known = [v for v in values if v is not None]
        if not known:
            return spec.unknown
        labels = [spec.label(v) for v in known]
        return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]

    return " ".join(_PLACEHOLDER.sub(words, pattern).split())
