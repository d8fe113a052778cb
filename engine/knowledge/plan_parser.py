"""``plan.yaml`` -> :class:`~.model.PlanSpec`, every reference resolved.

The plan data names fields of the target template, treatment and combination
ids, tags, phases and sources. A name that does not exist would silently make a
priority never apply or an ordering rule never bind, so each is an error with a
suggestion, located in the file, as for rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..common.errors import Problem, did_you_mean
from ..documents import yamlio
from . import schemas
from .model import (
    CourseSpec,
    FieldConstraint,
    OrderRule,
    Phase,
    PlanSpec,
    Priority,
    Region,
    Selector,
    SourceDoc,
    Template,
    Treatment,
    Where,
)
from .rule_parser import RuleParser, check_sources, is_var

FIELD_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class PlanParser(RuleParser):
    """Reads plan.yaml with the rule parser's means: located errors, literals checked against fields."""

    def __init__(
        self,
        doc: yamlio.Document,
        templates: Mapping[str, Template],
        treatments: Mapping[str, Treatment],
        sources: Mapping[str, SourceDoc],
        targets: tuple[str, str] | None,
        problems: list[Problem],
    ):
        super().__init__(doc, templates, treatments, sources, problems, targets)
        self.target = templates[targets[0]] if targets and targets[0] in templates else None

    def target_field(self, name: str, path: tuple[Any, ...], *, key: bool = False) -> bool:
        """Whether ``name`` is a field of the target template (``key``: the name is a mapping key)."""
        if self.target is None:
            self.error(path, "problems need 'targets' in kb.yaml (the input template and field they group by)", key=key)
            return False
        if name not in self.target.fields:
            self.error(
                path,
                f"template {self.target.name!r} has no field {name!r}" + did_you_mean(name, self.target.fields),
                key=key,
            )
            return False
        return True

    def treatment(self, tid: str, path: tuple[Any, ...], *, key: bool = False) -> bool:
        if tid in self.treatments:
            return True
        self.error(path, f"unknown treatment id {tid!r}" + did_you_mean(tid, self.treatments), key=key)
        return False

    # -- problems ---------------------------------------------------------

    def parse(self) -> PlanSpec:
        """The spec, each part checked in file order so problems are reported in that order."""
        data = self.doc.data
        raw = data.get("problems", {})
        title = " ".join(raw.get("title", "").split())
        for name in FIELD_PLACEHOLDER.findall(title):
            self.target_field(name, ("problems", "title"))
        field_name, regions = self.regions(raw.get("region"))
        burden = raw.get("burden", {})
        counted = "count" in burden and self.burden_count(burden["count"])
        weights = self.weights(burden)
        grade = self.grade(raw.get("grade"))
        priorities = tuple(self.priority(p, ("priorities", i)) for i, p in enumerate(data.get("priorities", [])))
        adjuncts = self.adjuncts(data.get("adjuncts", {}))
        course = data.get("course", {})
        phases = self.phases(course.get("phases", []))
        order = tuple(self.order_rule(o, ("course", "order", i)) for i, o in enumerate(course.get("order", [])))
        return PlanSpec(
            title=title,
            region_field=field_name,
            regions=regions,
            burden_count=burden["count"] if counted else "",
            burden_field=burden.get("field", "") if weights is not None else "",
            burden_weights=weights or {},
            burden_default=float(burden.get("default", schemas.BURDEN_DEFAULTS["default"])),
            grade=grade,
            priorities=priorities,
            adjuncts=adjuncts,
            phases=phases,
            order=order,
            gradual_weeks=int(course.get("gradual_weeks", schemas.COURSE_PLAN_DEFAULTS["gradual_weeks"])),
            where=Where(self.doc.file, 1, 1),
        )

    def regions(self, raw: dict[str, Any] | None) -> tuple[str, tuple[Region, ...]]:
        if raw is None:
            return "", ()
        path = ("problems", "region")
        if not self.target_field(raw["field"], (*path, "field")):
            return "", ()
        spec = self.target.fields[raw["field"]]  # type: ignore[union-attr]
        seen: dict[Any, str] = {}
        regions = []
        for i, group in enumerate(raw["groups"]):
            for j, value in enumerate(group["values"]):
                vpath = (*path, "groups", i, "values", j)
                if value is None and not spec.nullable:
                    self.error(vpath, f"{raw['field']!r} is never null (not given)")
                elif value is not None and not spec.accepts(value):
                    self.error(
                        vpath,
                        f"{yamlio.as_written(value)} is not a value of {raw['field']!r}, which is "
                        f"{spec.describe_allowed()}{' or null' if spec.nullable else ''}"
                        + (did_you_mean(value, spec.allowed) if spec.allowed else ""),
                    )
                elif value in seen:
                    self.error(vpath, f"{yamlio.as_written(value)} is already in region {seen[value]!r}")
                else:
                    seen[value] = group["id"]
            regions.append(Region(group["id"], " ".join(group["title"].split()), tuple(group["values"])))
        return raw["field"], tuple(regions)

    def burden_count(self, name: str) -> bool:
        path = ("problems", "burden", "count")
        if not self.target_field(name, path):
            return False
        if self.target.fields[name].type != "integer":  # type: ignore[union-attr]
            self.error(path, f"{name!r} is not an integer field, so it cannot count items")
            return False
        return True

    def weights(self, burden: dict[str, Any]) -> dict[Any, float] | None:
        if "field" not in burden:
            return None
        path = ("problems", "burden")
        if not self.target_field(burden["field"], (*path, "field")):
            return None
        spec = self.target.fields[burden["field"]]  # type: ignore[union-attr]
        out: dict[Any, float] = {}
        for value, weight in burden.get("weights", {}).items():
            if not spec.accepts(value):
                self.error(
                    (*path, "weights", value),
                    f"{yamlio.as_written(value)} is not a value of {burden['field']!r}"
                    + (did_you_mean(value, spec.allowed) if spec.allowed else ""),
                    key=True,
                )
            out[value] = float(weight)
        return out

    def grade(self, raw: dict[str, Any] | None) -> tuple[str, str] | None:
        if raw is None:
            return None
        path = ("problems", "grade")
        template = self.templates.get(raw["template"])
        if template is None:
            self.error(
                (*path, "template"),
                f"unknown template {raw['template']!r}" + did_you_mean(raw["template"], self.templates),
            )
            return None
        spec = template.fields.get(raw["field"])
        numeric = [name for name, f in template.fields.items() if f.type in ("integer", "number")]
        if spec is None or spec.type not in ("integer", "number"):
            # a field that exists but holds no number needs the numeric fields, not a spelling hint
            hint = (
                did_you_mean(raw["field"], template.fields)
                if spec is None
                else f"; expected a number field ({', '.join(numeric) or 'it has none'})"
            )
            why = "has no such field" if spec is None else "holds no number"
            self.error((*path, "field"), f"{raw['template']}.{raw['field']} {why}{hint}")
            return None
        return raw["template"], raw["field"]

    # -- priorities and adjuncts ------------------------------------------------

    def priority(self, raw: dict[str, Any], path: tuple[Any, ...]) -> Priority:
        constraints = []
        for fname, value in raw["when"].items():
            fpath = (*path, "when", fname)
            if not self.target_field(fname, fpath, key=True):
                continue
            if is_var(value):
                self.error(fpath, "a priority matches values, not variables")
                continue
            spec = self.target.fields[fname]  # type: ignore[union-attr]
            tests = self.tests(value, spec, f"{self.target.name}.{fname}", fpath)  # type: ignore[union-attr]
            if tests:
                constraints.append(FieldConstraint(fname, tests))
        for i, option in enumerate(raw["order"]):
            for part in option.split("+"):
                self.treatment(part, (*path, "order", i))
        self.problems.extend(check_sources(raw["sources"], self.sources, self.doc, (*path, "sources")))
        return Priority(
            when=tuple(constraints),
            order=tuple(raw["order"]),
            why=" ".join(raw["why"].split()),
            sources=tuple(raw["sources"]),
            where=self.where(path),
        )

    def adjuncts(self, raw: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        out = {}
        for adjunct, parents in raw.items():
            ok = self.treatment(adjunct, ("adjuncts", adjunct), key=True)
            for i, parent in enumerate(parents):
                ok = self.treatment(parent, ("adjuncts", adjunct, i)) and ok
            if ok:
                out[adjunct] = tuple(parents)
        return out

    # -- the course --------------------------------------------------------------

    def phases(self, raw: list[dict[str, Any]]) -> tuple[Phase, ...]:
        out: list[Phase] = []
        for i, p in enumerate(raw):
            path = ("course", "phases", i)
            if any(q.id == p["id"] for q in out):
                self.error((*path, "id"), f"duplicate phase id {p['id']!r}")
                continue
            out.append(
                Phase(
                    id=p["id"],
                    title=" ".join(p["title"].split()),
                    alongside=bool(p.get("alongside", schemas.PHASE_DEFAULTS["alongside"])),
                    gap_weeks=int(p.get("gap_weeks", schemas.PHASE_DEFAULTS["gap_weeks"])),
                    reassess_after_weeks=p.get("reassess_after_weeks"),
                    where=self.where(path),
                )
            )
        return tuple(out)

    def selector(self, raw: dict[str, Any], path: tuple[Any, ...]) -> Selector:
        tags = {tag for t in self.treatments.values() for tag in t.tags}
        for i, tid in enumerate(raw.get("ids", [])):
            self.treatment(tid, (*path, "ids", i))
        for i, tag in enumerate(raw.get("tags", [])):
            if tag not in tags:
                self.error((*path, "tags", i), f"no treatment has the tag {tag!r}" + did_you_mean(tag, tags))
        return Selector(tuple(raw.get("ids", [])), tuple(raw.get("kinds", [])), tuple(raw.get("tags", [])))

    def order_rule(self, raw: dict[str, Any], path: tuple[Any, ...]) -> OrderRule:
        self.problems.extend(check_sources(raw["sources"], self.sources, self.doc, (*path, "sources")))
        return OrderRule(
            first=self.selector(raw["first"], (*path, "first")),
            then=self.selector(raw["then"], (*path, "then")),
            gap_weeks=int(raw.get("gap_weeks", schemas.ORDER_DEFAULTS["gap_weeks"])),
            why=" ".join(raw["why"].split()),
            sources=tuple(raw["sources"]),
            where=self.where(path),
        )


def parse_plan(
    doc: yamlio.Document | None,
    templates: Mapping[str, Template],
    treatments: Mapping[str, Treatment],
    sources: Mapping[str, SourceDoc],
    targets: tuple[str, str] | None,
    problems: list[Problem],
) -> PlanSpec:
    """The plan spec of ``plan.yaml`` (an empty one when the knowledge base has none)."""
    if doc is None:
        return PlanSpec()
    return PlanParser(doc, templates, treatments, sources, targets, problems).parse()


def course_spec(raw: dict[str, Any]) -> CourseSpec:
    """A catalogue entry's ``course`` block; its phase is checked once the plan is known."""
    return CourseSpec(
        phase=raw["phase"],
        sessions=raw.get("sessions"),
        interval_weeks=raw.get("interval_weeks"),
        weeks=raw.get("weeks"),
        gradual=bool(raw.get("gradual", schemas.COURSE_DEFAULTS["gradual"])),
        only_with=tuple(raw.get("only_with", [])),
    )


def check_courses(
    doc: yamlio.Document,
    treatments: Mapping[str, Treatment],
    plan: PlanSpec,
    problems: list[Problem],
) -> None:
    """Every catalogue ``course`` names a declared phase and known treatments."""
    phases = [p.id for p in plan.phases]
    for tid, t in treatments.items():
        if t.course is None:
            continue
        path = ("treatments", tid, "course")
        if t.course.phase not in phases:
            where = "declare phases under course.phases in plan.yaml" if not phases else "known: " + ", ".join(phases)
            problems.append(
                doc.problem(
                    (*path, "phase"),
                    f"unknown phase {t.course.phase!r}; {where}" + did_you_mean(t.course.phase, phases),
                )
            )
        for i, other in enumerate(t.course.only_with):
            if other not in treatments:
                problems.append(
                    doc.problem(
                        (*path, "only_with", i), f"unknown treatment id {other!r}" + did_you_mean(other, treatments)
                    )
                )
        if t.course.sessions is not None and t.course.sessions > 1 and t.course.interval_weeks is None:
            problems.append(doc.problem((*path, "sessions"), "several sessions need 'interval_weeks'"))
