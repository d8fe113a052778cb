"""The validated knowledge base as frozen objects.

Everything downstream (compiler, session, renderers) works on these objects and
never on raw YAML, so a value that got here has already been checked against its
template and every reference (template, field, treatment id, variable) resolved.
The vocabulary is CLIPS': templates describe facts, rules have patterns on the
left and actions on the right.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from ..common.numbers import number_text

# The default of a mapping field, shared by every entry that leaves it out: nothing
# writes to these mappings once loaded (a read-only proxy would not pickle into the cache).
_EMPTY: Mapping[Any, Any] = {}


class Where(NamedTuple):
    """Where an object was defined, for messages and for ``kb show``."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


# --- templates ------------------------------------------------------------

FIELD_TYPES = ("integer", "number", "boolean", "string", "list")


class FieldSpec(NamedTuple):
    """One slot of a template, with its CLIPS-like constraints."""

    name: str
    type: str
    description: str = ""
    allowed: tuple[Any, ...] | None = None  # for strings, and for the items of lists
    labels: Mapping[Any, str] = _EMPTY
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    required: bool = False
    default: Any = None
    has_default: bool = False
    unit: str = ""
    unknown: str = ""  # the words for a missing (null) value, e.g. "affected area"

    def describe(self, value: Any) -> str:
        """``name value unit`` for a summary, e.g. 'width 1.2 mm' for width_mm."""
        suffix = "_" + self.unit.replace(" ", "_")
        name = self.name[: -len(suffix)] if self.unit and self.name.endswith(suffix) else self.name
        return f"{name.replace('_', ' ')} {self.label(value)}"

    def label(self, value: Any) -> str:
        """The words for a value, as an explanation should show it to a person."""
        if isinstance(value, (list, tuple)):
            return ", ".join(self.label(v) for v in value) or "none"
        if value in self.labels:
            return self.labels[value]
        if value is None:
            return self.unknown or "not given"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, (int, float)):
            number = number_text(value)
            if not self.unit:
                return number
            first, _, rest = self.unit.partition(" ")
            if value == 1 and first.endswith("s"):  # 1 day, 1 month ago
                first = first[:-1]
            return f"{number} {first}{' ' + rest if rest else ''}"
        return str(value).replace("_", " ")

    def accepts(self, value: Any) -> bool:
        """Whether a literal in a rule could ever equal a value of this field."""
        if value is None:
            return self.nullable
        if self.type == "list":
            return self.allowed is None or _among(value, self.allowed)
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                return False
            if value in (float("inf"), float("-inf")):
                return False
            if self.type == "integer" and not float(value).is_integer():
                return False
            if self.minimum is not None and value < self.minimum:
                return False
            return not (self.maximum is not None and value > self.maximum)
        if not isinstance(value, str):
            return False
        return self.allowed is None or _among(value, self.allowed)

    def describe_allowed(self) -> str:
        if self.allowed is not None:
            shown = ", ".join(map(str, self.allowed[:10]))
            more = f", ... ({len(self.allowed)} in all)" if len(self.allowed) > 10 else ""
            return f"one of {shown}{more}"
        if self.type in ("integer", "number"):
            lo = "" if self.minimum is None else f" from {number_text(self.minimum)}"
            hi = "" if self.maximum is None else f" to {number_text(self.maximum)}"
            return f"{'an' if self.type == 'integer' else 'a'} {self.type}{lo}{hi}"
        return f"a {self.type}"


def _among(value: Any, allowed: tuple[Any, ...]) -> bool:
    """Membership that does not take true for 1, as Python's ``in`` does."""
    return any(a == value and isinstance(a, bool) == isinstance(value, bool) for a in allowed)


class InputSpec(NamedTuple):
    """How a template's facts come from the patient file: one mapping or a list."""

    key: str
    many: bool
    min_items: int = 0
    max_items: int | None = None  # the most entries a patient file may give


class Template(NamedTuple):
    """A fact template, like CLIPS ``deftemplate``: the fields a fact of this kind may carry."""

    name: str
    description: str
    fields: Mapping[str, FieldSpec]
    input: InputSpec | None
    where: Where
    builtin: bool = False


# --- the catalogue --------------------------------------------------------

RECOMMENDATION_KINDS = ("procedure", "combination", "home_care", "prerequisite", "lifestyle")
CATALOGUE_KINDS = ("procedure", "home_care", "prerequisite", "lifestyle", "unsafe")
TIERS = ("first_line", "second_line", "adjunct")  # best first; a recommendation's default is the first
COSTS = ("none", "low", "medium", "high")  # the catalogue's cost scale, cheapest first
CONFIDENCE = ("high", "medium", "low")  # of a source, or of a catalogue entry's evidence
# A publication's weight, graded as finely as the documents that name it grade it.
GRADES = ("high", "medium-high", "medium", "low-medium", "low")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class RoutineSpec(NamedTuple):
    """Where a home-care item goes in the daily routine."""

    morning: bool
    evening: bool
    order: int
    nights_per_week: int  # evening nights in the starting schedule (7 = nightly)
    not_same_night_as: tuple[str, ...]
    how: str


class CourseSpec(NamedTuple):
    """Where a treatment sits in a course of care, and how long it runs.

    ``sessions`` and ``interval_weeks`` describe a series; ``weeks`` the length of
    something that is not counted in sessions (a preparation); with neither, the
    item spans its phase. ``gradual`` items (home care) are introduced one at a
    time; ``only_with`` names the treatments an item prepares for, so it is
    scheduled only when one of them is.
    """

    phase: str
    sessions: int | None = None
    interval_weeks: int | None = None
    weeks: int | None = None
    gradual: bool = False
    only_with: tuple[str, ...] = ()


class Treatment(NamedTuple):
    """One catalogue entry: what the plan says about an option, and the values rules match on."""

    id: str
    title: str
    kind: str
    summary: str
    best_for: tuple[str, ...]
    poor_fit: tuple[str, ...]
    how_it_works: str
    sessions: str
    interval: str
    downtime_min: float
    downtime_max: float
    results: str
    effectiveness: str
    cost: str
    evidence: str
    cautions: tuple[str, ...]
    risks: tuple[str, ...]
    sources: tuple[str, ...]
    source_confidence: Mapping[str, str]  # ref -> high/medium/low, where the entry says
    tags: tuple[str, ...]
    routine: RoutineSpec | None
    where: Where
    order: int  # position in the catalogue, the last tie-breaker of ranking
    course: CourseSpec | None = None
    short: str = ""  # a short name for tight places ("± add-on"); the title when not given
    names: tuple[str, ...] = ()  # other words that name it in a text (the drugs of a class)

    @property
    def name(self) -> str:
        return self.short or self.title

    @property
    def mentions(self) -> tuple[str, ...]:
        """Every way a text may name it: its short name (or title) and its other names."""
        return (self.name, *(n for n in self.names if n.lower() != self.name.lower()))


# --- rules ----------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """A ``$name`` in a rule: bound by the first pattern that mentions it."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


class Test(NamedTuple):
    """One constraint on one field. ``op`` is eq, any, lt, lte, gt, gte, in, not, contains, bind."""

    op: str
    value: Any  # a literal, a tuple of literals, or a Var


class FieldConstraint(NamedTuple):
    """The tests one pattern puts on one field, kept together so lint and the compiler read them alike."""

    field: str
    tests: tuple[Test, ...]


class Pattern(NamedTuple):
    """One condition of a rule: a template and the constraints on its fields."""

    template: str
    constraints: tuple[FieldConstraint, ...]
    negated: bool
    where: Where

    def binds(self) -> tuple[str, ...]:
        return tuple(
            t.value.name
            for c in self.constraints
            for t in c.tests
            if t.op in ("eq", "bind") and isinstance(t.value, Var)
        )


ACTION_KINDS = ("recommend", "avoid", "combine", "assert", "caution", "note", "alert", "leave_out")
SEVERITIES = ("urgent", "warning")  # of an alert, most pressing first


class Action(NamedTuple):
    """One thing a rule does when it fires; the resolver, not the rule, decides what it means for the plan."""

    kind: str
    target: str | Var | None = None  # treatment id for recommend/avoid/caution
    text: str = ""  # explain / reason / rationale / caution text / note text
    tier: str = TIERS[0]
    targets: tuple[str | Var, ...] = ()
    components: tuple[str, ...] = ()
    sequence: str = ""
    template: str = ""  # for assert
    values: Mapping[str, Any] = _EMPTY  # for assert: literal or Var
    where: Where = Where("")
    severity: str = ""  # for alert: urgent or warning (the alert's id is ``target``)
    constraint: str = ""  # for leave_out: the preference that rules the treatment out
    scope: Mapping[str, Any] = _EMPTY  # avoid/leave_out: only where input items match
    risk: bool = False  # caution: names a risk for this person, so it may demote the option


class Rule(NamedTuple):
    """A rule as written, validated: the compiler turns it into an engine rule, lint and explanations read it."""

    id: str
    title: str
    salience: int
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    then: tuple[Action, ...]
    sources: tuple[str, ...]
    where: Where
    index: int  # load order: the last, deterministic tie-breaker of the agenda

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        return self.when + self.unless


class SourceDoc(NamedTuple):
    """A document rules may cite, declared once in ``kb.yaml`` so a citation cannot rot."""

    id: str
    title: str
    confidence: str
    description: str = ""
    # anchor -> what this document names as its own sources for that section, when
    # the document is a digest readers do not have: a plan cites those instead.
    sections: Mapping[str, tuple[str, ...]] = _EMPTY


class Publication(NamedTuple):
    """A work a digest document names, so a plan can cite it in place of the digest."""

    id: str
    title: str
    confidence: str
    kind: str = ""
    url: str = ""


# --- the plan: problems, priorities, the course ----------------------------
# These are NamedTuples rather than frozen dataclasses: they are as immutable, and
# creating a NamedTuple class costs a tenth of a dataclass at import, which every
# cold consultation pays.


class Region(NamedTuple):
    """Values of one input field that count as one area (for example, one body region)."""

    id: str
    title: str
    values: tuple[Any, ...]


class Priority(NamedTuple):
    """The order in which the sources rank options for the input items this entry matches."""

    when: tuple[FieldConstraint, ...]  # on the target template's fields
    order: tuple[str, ...]  # treatment or combination ids, best first
    why: str
    sources: tuple[str, ...]
    where: Where


class Selector(NamedTuple):
    """A set of catalogue entries named by id, kind or tag (any of them)."""

    ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def matches(self, treatment: Treatment) -> bool:
        return (
            treatment.id in self.ids or treatment.kind in self.kinds or any(tag in treatment.tags for tag in self.tags)
        )

    def __str__(self) -> str:
        parts = [*self.ids, *(f"kind {k}" for k in self.kinds), *(f"tag {t}" for t in self.tags)]
        return ", ".join(parts)


class Phase(NamedTuple):
    id: str
    title: str
    alongside: bool  # runs from week 0 beside the others instead of after them
    gap_weeks: int  # weeks after the previous phase's last session before this one starts
    reassess_after_weeks: int | None  # a re-assessment this many weeks after its last session
    where: Where


class OrderRule(NamedTuple):
    """What must come first: every ``then`` item starts ``gap_weeks`` after every ``first`` item ends."""

    first: Selector
    then: Selector
    gap_weeks: int
    why: str
    sources: tuple[str, ...]
    where: Where


class PlanSpec(NamedTuple):
    """How a consultation becomes a plan: problems, priorities, adjuncts, the course.

    All of it is knowledge-base data (``plan.yaml``); the resolver only follows it.
    An empty spec still groups input items by the target field, ranks by tier and
    schedules nothing.
    """

    title: str = ""  # a problem's title, with {field} placeholders of the target template
    region_field: str = ""
    regions: tuple[Region, ...] = ()
    burden_count: str = ""  # the field that counts the items of one input entry
    burden_field: str = ""  # the field whose value weighs each item
    burden_weights: Mapping[Any, float] = _EMPTY
    burden_default: float = 1.0
    grade: tuple[str, str] | None = None  # (template, field) of derived facts grading a problem
    priorities: tuple[Priority, ...] = ()
    adjuncts: Mapping[str, tuple[str, ...]] = _EMPTY  # add-on -> what it joins
    phases: tuple[Phase, ...] = ()
    order: tuple[OrderRule, ...] = ()
    gradual_weeks: int = 2  # weeks between introducing two gradual items
    where: Where = Where("")

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything loaded from one knowledge-base folder; immutable, so one load serves many consultations."""

    name: str
    version: str
    description: str
    disclaimer: str
    root: str
    digest: str
    templates: Mapping[str, Template]
    treatments: Mapping[str, Treatment]
    rules: tuple[Rule, ...]
    sources: Mapping[str, SourceDoc]
    targets: tuple[str, str] | None = None  # (template, field) that targets name
    title: str = ""  # what a printed plan is called, e.g. in a report's heading
    plan: PlanSpec = field(default_factory=PlanSpec)
    publications: Mapping[str, Publication] = field(default_factory=dict)

    def input_templates(self) -> tuple[Template, ...]:
        return tuple(t for t in self.templates.values() if t.input is not None)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (``KeyError`` if none); resolution asks once per firing."""
        return self._rules_by_id[rule_id]

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}


def catalogue_fact(t: Treatment) -> dict[str, Any]:
    """The values of the ``treatment`` fact a session declares for a catalogue entry.

    One definition: the session declares these facts and lint reasons about which
    rules could match them, so the two must agree field for field.
    """
    return {
        "id": t.id,
        "kind": t.kind,
        "downtime_min": t.downtime_min,
        "downtime_max": t.downtime_max,
        "cost": t.cost,
        "tags": list(t.tags),
    }


def bound_fields(when: Iterable[Pattern], templates: Mapping[str, Template]) -> dict[str, FieldSpec]:
    """The field each variable is first bound from: it decides how the value is worded."""
    bound: dict[str, FieldSpec] = {}
    for pattern in when:
        template = templates[pattern.template]
        for c in pattern.constraints:
            for t in c.tests:
                if t.op in ("eq", "bind") and isinstance(t.value, Var):
                    bound.setdefault(t.value.name, template.fields[c.field])
    return bound
