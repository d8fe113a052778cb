"""One consultation: declare the patient's facts, run the agenda, record every firing.

A :class:`Session` owns one compiled engine and resets it between patients, so
the Rete network is built once per process however many patients are consulted.
Actions are carried out here, not in the generated rules, which keeps the
record of what each firing did complete and in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..compile.compiler import FACT_ID_KEY, VAR_PREFIX, CompiledKB, compile_kb, fact_names, new_fact
from ..knowledge.model import Action, KnowledgeBase, Rule, Var, catalogue_fact
from ..knowledge.wording import fill, placeholders
from ..match.matcher import IncrementalReteMatcher, TooManyMatches
from ..match.select import engine_class
from ..match.snapshot import Snapshot, logical_ids
from ..patient.reader import PatientInput
from .records import ActionRecord, Consultation, FactRecord, Firing


def _key(template: str, values: Mapping[str, Any]) -> tuple[str, str]:
    return template, repr(sorted(values.items()))


def _thaw(value: Any) -> Any:
    """experta freezes lists into tuples; records keep plain lists."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# A rule text -> its {$var} names, in order: texts are few and fill thousands of records.
_PLACEHOLDERS: dict[str, tuple[str, ...]] = {}


def _context_names(rule: Rule, context: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The context names of a rule's matched facts (in pattern order) and of its
    ``$variables`` (sorted, each with the variable's name).

    Every match of a compiled rule binds the same names (its patterns are one
    conjunction), so they are read once per rule rather than at every firing.
    """
    facts = fact_names(rule)
    variables = tuple((k, k[len(VAR_PREFIX) :]) for k in sorted(context) if k.startswith(VAR_PREFIX))
    return facts, variables


class Session:
    def __init__(self, compiled: CompiledKB | KnowledgeBase, matcher: str | None = None):
        if isinstance(compiled, KnowledgeBase):
            compiled = compile_kb(compiled)
        self.compiled = compiled
        self.kb = compiled.kb
        self._engine_class = engine_class(compiled.engine_class, matcher)
        self.engine = self._engine_class()
        self.engine.listener = self
        self._facts: list[FactRecord] = []
        self._firings: list[Firing] = []
        self._ids: dict[int, str] = {}
        self._counters: dict[str, int] = {}
        self._known: dict[tuple[str, str], str] = {}  # (template, values) -> fact id, to name duplicates
        self._snapshot: Snapshot | None = None  # the state after the catalogue, once matched
        self._catalogue: list[tuple[Any, FactRecord]] = []
        self._names: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}  # see _context_names

    # -- running ----------------------------------------------------------

    def consult(self, patient: PatientInput) -> Consultation:
        """Declare the input and the catalogue, run the agenda, and return what happened.

        A knowledge base whose rule joins the same facts too many ways for this
        input runs out of the matcher's budget: that is bad input for this
        knowledge base (exit status 2, naming the rule), not a hang.
        """
        try:
            return self._consult(patient)
        except TooManyMatches as exc:
            from ..common.errors import CicatrixError

            # The interrupted propagation left the network half-updated: start a new one.
            self.engine = self._engine_class()
            self.engine.listener = self
            self._snapshot = None

            rules = self.kb.rules
            rule = next((r for r in rules if r.index == exc.index), None)
            if rule is None:
                raise CicatrixError(f"{exc}: a rule joins the same kind of fact too many ways") from None
            raise CicatrixError.about(
                rule.where.file,
                f"{exc}: this rule joins the same kind of fact too many ways for this input "
                f"({patient.source}); join fewer patterns of one template",
                line=rule.where.line,
                column=rule.where.column,
                path=rule.id,
            ) from None

    def _consult(self, patient: PatientInput) -> Consultation:
        self._facts, self._firings, self._ids, self._counters, self._known = [], [], {}, {}, {}
        if self._snapshot is not None:
            self._snapshot.restore(self.engine)
            return self._consult_from_snapshot(patient)
        if self._snapshots():  # the engine is as the snapshot left it: nothing to restore
            return self._consult_from_snapshot(patient)
        self.engine.reset()
        self._declare_input(patient)
        for declared, record in self._declare_catalogue():
            self._register(declared, record)
        self.engine.run()
        return Consultation(facts=tuple(self._facts), firings=tuple(self._firings))

    def _declare_input(self, patient: PatientInput) -> None:
        classes = self.compiled.fact_classes
        for fact in patient.facts:
            declared = self.engine.declare(new_fact(classes[fact.template], {**fact.values, FACT_ID_KEY: fact.id}))
            self._register(declared, FactRecord(fact.id, fact.template, dict(fact.values), "input"))

    def _declare_catalogue(self) -> list[tuple[Any, FactRecord]]:
        """Declare the catalogue's facts (none when no rule reads them), with their records."""
        if not self.compiled.uses_catalogue:
            return []
        made = self.compiled.fact_classes["treatment"]
        out = []
        for t in self.kb.treatments.values():
            values = catalogue_fact(t)
            record = FactRecord(f"treatment/{t.id}", "treatment", values, "catalogue")
            out.append((self.engine.declare(new_fact(made, values)), record))
        return out

    # -- the catalogue, matched once ----------------------------------------

    def _snapshots(self) -> bool:
        """Match the catalogue once and keep the state it leaves, where that can be done.

        The catalogue is the same for every consultation, so its facts are
        declared once, ahead of any input, and the network's state after them is
        restored for each patient (see :mod:`..match.snapshot`): the same firings
        in the same order, for about a third less work per consultation.
        """
        if not self.compiled.uses_catalogue or not isinstance(self.engine.matcher, IncrementalReteMatcher):
            return False
        self.engine.reset()
        self._catalogue = self._declare_catalogue()
        self._snapshot = Snapshot(self.engine)
        return True

    def _consult_from_snapshot(self, patient: PatientInput) -> Consultation:
        assert self._snapshot is not None
        engine = self.engine
        catalogue = self._catalogue
        first = catalogue[0][0]["__factid__"] if catalogue else 1
        engine.strategy.order = logical_ids(len(catalogue), first, len(patient.facts))
        engine.strategy.rekey(engine.agenda)
        self._declare_input(patient)
        for declared, record in catalogue:  # recorded after the input, where they were declared before
            self._register(declared, record)
        engine.run()
        return Consultation(facts=tuple(self._facts), firings=tuple(self._firings))

    def _register(self, declared: Any, record: FactRecord) -> None:
        self._ids[declared["__factid__"]] = record.id
        self._facts.append(record)
        if record.origin == "rule":
            self._known[_key(record.template, record.values)] = record.id

    # -- firing -----------------------------------------------------------

    def on_fire(self, rule: Rule, context: Mapping[str, Any]) -> None:
        seq = len(self._firings) + 1
        names = self._names.get(rule.id)
        if names is None:
            names = self._names[rule.id] = _context_names(rule, context)
        facts, variables = names
        ids = self._ids
        matched = tuple([ids[context[name]["__factid__"]] for name in facts])
        bindings = {var: _thaw(context[key]) for key, var in variables}
        actions = tuple([self._act(rule, action, bindings, seq) for action in rule.then])
        self._firings.append(Firing(seq, rule.id, rule.salience, matched, bindings, actions))

    def _value(self, value: Any, bindings: Mapping[str, Any]) -> Any:
        return bindings[value.name] if isinstance(value, Var) else value

    def _labels(self, rule: Rule, text: str, bindings: Mapping[str, Any]) -> dict[str, str]:
        names = _PLACEHOLDERS.get(text)
        if names is None:
            names = _PLACEHOLDERS[text] = tuple(placeholders(text))
        if not names:
            return {}
        fields = self.compiled.var_fields[rule.id]
        return {name: fields[name].label(bindings[name]) for name in names}

    def _text(self, rule: Rule, text: str, bindings: Mapping[str, Any]) -> str:
        return fill(text, self._labels(rule, text, bindings))

    def _declare(self, rule: Rule, template: str, values: dict[str, Any], seq: int) -> dict[str, str | None]:
        """Assert a derived fact: ``{"fact": new id}``, or ``{"same_as": id}`` when it already existed.

        An identical fact is kept once, as CLIPS does; naming it lets resolution see
        that this firing supports it too (a finding drawn from several inputs).
        """
        declared = self.engine.declare(new_fact(self.compiled.fact_classes[template], values))
        if declared is None:
            return {"same_as": self._known.get(_key(template, values))}
        n = self._counters[template] = self._counters.get(template, 0) + 1
        record = FactRecord(f"{template}-{n}", template, dict(values), "rule", rule.id, seq)
        self._register(declared, record)
        return {"fact": record.id}

    def _act(self, rule: Rule, action: Action, bindings: Mapping[str, Any], seq: int) -> ActionRecord:
        if action.kind == "assert":  # no text: the fact is the record
            values = {k: _thaw(self._value(v, bindings)) for k, v in action.values.items()}
            return ActionRecord("assert", **self._declare(rule, action.template, values, seq))
        labels = self._labels(rule, action.text, bindings)
        text = fill(action.text, labels)
        words = {"template": action.text, "labels": labels}
        targets = tuple([str(self._value(t, bindings)) for t in action.targets]) if action.targets else ()
        scope = {k: _thaw(self._value(v, bindings)) for k, v in action.scope.items()} if action.scope else {}
        if action.kind == "leave_out":
            treatment = str(self._value(action.target, bindings))
            return ActionRecord("leave_out", treatment, text, constraint=action.constraint, scope=scope, **words)
        if action.kind in ("recommend", "avoid", "caution"):
            treatment = str(self._value(action.target, bindings))
            fact: dict[str, str | None] = {}
            if action.kind == "recommend":
                fact = self._declare(rule, "recommend", {"treatment": treatment, "tier": action.tier}, seq)
            elif action.kind == "avoid" and not action.scope:
                # A scoped avoid rules the treatment out for some input items only, so it
                # asserts no avoid fact: rules matching `avoid` mean "avoided outright".
                fact = self._declare(rule, "avoid", {"treatment": treatment}, seq)
            tier = action.tier if action.kind == "recommend" else ""
            extra = {"scope": scope} if action.scope else {"risk": True} if action.risk else {}
            return ActionRecord(action.kind, treatment, text, tier, targets, **fact, **extra, **words)
        if action.kind == "combine":
            sequence = self._text(rule, action.sequence, bindings)
            return ActionRecord(
                "combine",
                text=text,
                tier=action.tier,
                targets=targets,
                components=action.components,
                sequence=sequence,
                **words,  # so a combination's text merges across firings like any other
            )
        if action.kind == "alert":
            return ActionRecord("alert", text=text, alert=str(action.target), severity=action.severity, **words)
        return ActionRecord("note", text=text, **words)
