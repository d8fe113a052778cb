"""The firing record of a consultation: what fired, in which order, on which facts.

These records are the single source of every explanation. The evaluator
(:mod:`.session`) only appends to them; explaining, replaying and
rendering read them and never run the engine again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FactRecord:
    """A fact as the consultation saw it. ``origin`` is input, catalogue or rule."""

    id: str
    template: str
    values: dict[str, Any]
    origin: str
    rule: str | None = None  # the rule that asserted it
    firing: int | None = None  # the firing (sequence number) that asserted it


@dataclass(frozen=True)
class ActionRecord:
    """One action a firing took, with its text already filled in."""

    kind: str
    treatment: str | None = None
    text: str = ""
    tier: str = ""
    targets: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    sequence: str = ""
    fact: str | None = None  # the fact this action asserted, if it was new
    template: str = ""  # the text before {$var}s were filled in
    labels: dict[str, str] = field(default_factory=dict)  # the words each {$var} became
    alert: str = ""  # an alert's id
    severity: str = ""  # an alert's severity
    constraint: str = ""  # the preference a leave_out names
    same_as: str | None = None  # for a fact that already existed: that fact's id (CLIPS keeps one)
    scope: dict[str, Any] = field(default_factory=dict)  # avoid/leave_out: the input values it is limited to
    risk: bool = False  # a caution naming a risk for this person


@dataclass(frozen=True)
class Firing:
    """One rule firing as recorded: enough to explain it and to resolve the plan again."""

    seq: int
    rule: str
    salience: int
    matched: tuple[str, ...]  # fact ids, in the order of the rule's `when` patterns
    bindings: dict[str, Any]
    actions: tuple[ActionRecord, ...] = field(default_factory=tuple)

    @property
    def asserted(self) -> tuple[str, ...]:
        return tuple(a.fact for a in self.actions if a.fact is not None)


@dataclass(frozen=True)
class Consultation:
    """Everything the evaluator produced for one patient, before resolution."""

    facts: tuple[FactRecord, ...]
    firings: tuple[Firing, ...]
