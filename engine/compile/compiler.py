"""Rule objects -> experta rules on a generated ``KnowledgeEngine`` subclass.

Conditions stay data all the way down: each test becomes a small closure over a
literal (no ``eval``), each ``$variable`` an experta ``MATCH`` binding (which the
Rete network joins across patterns), comparisons between variables a ``TEST``,
and ``unless`` patterns ``NOT`` s. The right-hand side of every compiled rule is
the same function: it hands the rule id and the matched context to whoever is
listening (a :class:`~..session.session.Session`), so the compiled engine itself
holds no consultation state and can be reset and reused for many patients.
"""

from __future__ import annotations

import inspect
import re
from bisect import bisect_left, insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..common.memory import collector_paused
from ..knowledge.constraints import compare_values, predicate
from ..knowledge.model import FieldSpec, KnowledgeBase, Test, Var, bound_fields
from ..knowledge.model import Rule as KbRule
from .compat import AS, MATCH, NOT, TEST, Fact, FactList, KnowledgeEngine, P, Rule, Strategy, freeze

VAR_PREFIX = "v_"  # experta context names of $variables
FACT_PREFIX = "f_"  # experta context names of the facts matched by `when` patterns
COMPARED_PREFIX = "c_"  # experta context names of fields compared with a variable
FACT_ID_KEY = "_fid"  # keeps two identical input facts (two equal items of a list) apart


def fact_names(rule: KbRule) -> tuple[str, ...]:
    """The context names of the facts a rule's ``when`` patterns match, in the author's order."""
    return tuple(f"{FACT_PREFIX}{i}" for i in range(len(rule.when)))


class FiringListener(Protocol):
    def on_fire(self, rule: KbRule, context: Mapping[str, Any]) -> None: ...


_PREDICATES: dict[tuple[str, Any], Any] = {}
_ACTION_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter("engine", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("context", inspect.Parameter.VAR_KEYWORD),
    ]
)


def _shared_predicate(test: Test) -> Any:
    """One experta predicate per distinct test, so rules testing the same thing share
    an alpha node (experta keys its checks by the predicate function's identity)."""
    key = (
        test.op,
        tuple((type(v).__name__, v) for v in test.value)
        if isinstance(test.value, tuple)
        else (type(test.value).__name__, test.value),
    )
    found = _PREDICATES.get(key)
    if found is None:
        found = _PREDICATES[key] = P(predicate(test))
    return found


def _field_expr(tests: tuple[Test, ...], compared_as: str, checks: list[Any]) -> Any:
    """The experta constraint for one field; comparisons with variables go to ``checks``."""
    if len(tests) == 1 and tests[0].op == "eq" and isinstance(tests[0].value, str):
        # A plain string literal stays a literal, so the incremental matcher can
        # index it (strings never compare equal to booleans or numbers).
        return tests[0].value
    parts = []
    for test in tests:
        if not isinstance(test.value, Var):
            parts.append(_shared_predicate(test))
        elif test.op in ("eq", "bind"):
            parts.append(getattr(MATCH, VAR_PREFIX + test.value.name))
        else:
            if all(c[1] != compared_as for c in checks):
                parts.append(getattr(MATCH, compared_as))
            checks.append((test.op, compared_as, VAR_PREFIX + test.value.name))
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr


def _keyword_function(names: list[str], body: Callable[..., bool]) -> Callable[..., bool]:
    """A function experta's TEST will call with exactly these context names."""

    def test(**context: Any) -> bool:
        return body(**context)

    test.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names]
    )
    return test


def _compare_vars(op: str, left: str, right: str) -> Callable[..., bool]:
    def body(**context: Any) -> bool:
        return compare_values(op, context.get(left), context.get(right))

    return _keyword_function([left, right], body)


class DeterministicDepthStrategy(Strategy):
    """CLIPS' depth strategy with a total order.

    experta orders the agenda by salience and then by the ids of the matched
    facts; activations that tie on both are ordered by how the Rete network
    happened to be built, which follows Python's per-process hash seed. Adding
    the rule's position in the knowledge base as the last key makes the order of
    firings, and so every trace, identical from run to run.
    """

    # Fact id -> the id the order is decided by; set by a session that declares its
    # constant facts ahead of the input (see match.snapshot.logical_ids), else None.
    order: Callable[[int], int] | None = None

    def get_key(self, activation: Any) -> tuple[Any, ...]:
        rule = activation.rule
        context = activation.context
        order = self.order
        # The same rule can match the same facts in two ways (two patterns of one
        # template swapping facts); the facts in pattern order settle that too.
        if order is None:
            facts = [f["__factid__"] for f in activation.facts]
            in_order = tuple([context[name]["__factid__"] for name in rule.cx_fact_names])
        else:
            facts = [order(f["__factid__"]) for f in activation.facts]
            in_order = tuple([order(context[name]["__factid__"]) for name in rule.cx_fact_names])
        facts.sort(reverse=True)
        return (rule.salience, facts, -rule.cx_index, in_order)

    def rekey(self, agenda: Any) -> None:
        """Order the agenda afresh, as when the order of fact ids has changed under it."""
        for act in agenda.activations:
            act.key = self.get_key(act)
        agenda.activations.sort()

    def _update_agenda(self, agenda: Any, added: Any, removed: Any) -> None:
        """Each activation's key is computed once (it is a good part of a firing's cost)."""
        activations = agenda.activations
        get_key = self.get_key
        for act in removed:
            act.key = get_key(act)
            idx = bisect_left(activations, act)
            for offset in (0, 1, -1):
                j = idx + offset
                if 0 <= j < len(activations) and activations[j] == act:
                    del activations[j]
                    break
        if added:
            for act in added:
                act.key = get_key(act)
            for act in sorted(added, key=_key_of):
                insort(activations, act)


def _key_of(activation: Any) -> Any:
    return activation.key


# Values experta would store as they are; anything else goes through its freeze().
_PLAIN = frozenset({str, int, float, bool, type(None)})


def new_fact(cls: type, values: Mapping[str, Any]) -> Any:
    """``cls(**values)`` for a compiled template class, without experta's per-field cost.

    experta's ``Fact()`` stores each field through ``__setitem__``, which looks up
    the fact id and dispatches ``freeze`` on the value's type: about a tenth of a
    consultation. The fact made here holds the same frozen values (scalars as they
    are, lists as experta's frozen lists) and the same private state.
    """
    fact = dict.__new__(cls)
    dict.update(fact, {k: v if type(v) in _PLAIN else freeze(v) for k, v in values.items()})
    fact._Fact__defaults = {}
    return fact


class CompiledFactList(FactList):
    """experta's fact list, declaring the facts :func:`new_fact` makes without re-checking them.

    experta checks that a declared fact is a ``Fact``, validates its fields (a
    compiled template declares none: the loader validated the values) and builds
    its identity while skipping private keys (a new fact has none); each a Python
    call per declaration. The identity, the ids and the duplicate rule are experta's.
    """

    def declare(self, fact: Any) -> Any:
        if fact.__fields__:
            fact.validate()
        fact_id = frozenset([fact.__class__, *fact.items()])
        if self.duplication or fact_id not in self.reference_counter:
            idx = self.last_index
            dict.__setitem__(fact, "__factid__", idx)
            self[idx] = fact
            self.last_index = idx + 1
            self.added.append(fact)
            self.reference_counter[fact_id] += 1
            return fact
        return None


class CompiledEngine(KnowledgeEngine):
    """Base of every generated engine: forwards firings to the current listener."""

    __strategy__ = DeterministicDepthStrategy
    cx_rules: Mapping[str, KbRule] = {}
    cx_fact_classes: Mapping[str, type] = {}

    def __init__(self) -> None:
        super().__init__()
        self.listener: FiringListener | None = None
        self._deffacts = super().get_deffacts()

    def get_deffacts(self) -> list[Any]:
        """experta finds deffacts by inspecting every attribute of the engine on each
        reset, which with thousands of rules costs more than the consultation; they
        never change, so look once."""
        return self._deffacts

    def reset(self, **kwargs: Any) -> None:
        """experta's reset, onto a :class:`CompiledFactList`."""
        super().reset(**kwargs)
        stock, facts = self.facts, CompiledFactList()
        facts.update(stock)
        facts.last_index, facts.reference_counter, facts.duplication = (
            stock.last_index,
            stock.reference_counter,
            stock.duplication,
        )
        self.facts = facts

    def declare(self, *facts: Any) -> Any:
        """experta's ``declare`` for facts made by :func:`new_fact`.

        experta first checks that no value is a pattern element and no key holds
        ``__``; here values are data read from files, never pattern elements, and
        the schema refuses field names with ``__``, so the checks (a tenth of a
        declaration) are left out.
        """
        last = None
        for fact in facts:
            last = self.facts.declare(fact)
        if not self.running:
            added, removed = self.matcher.changes(*self.facts.changes)
            self.strategy._update_agenda(self.agenda, added, removed)
        return last

    def run(self, steps: float = float("inf")) -> None:
        """experta's run loop, firing through the listener.

        experta formats a log line for every firing whether or not anyone
        listens, copies each match's context without its private keys, and
        reaches the rule's action through two calls; the listener reads the names
        it needs from the context as it is. The order of firings is the
        strategy's, as before.
        """
        assert self.listener is not None, "a compiled engine runs inside a Session"
        on_fire = self.listener.on_fire
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.matcher.changes(*self.facts.changes)
            activations = self.agenda.activations
            if added or removed:
                self.strategy._update_agenda(self.agenda, added, removed)
            if not activations:
                break
            steps -= 1
            activation = activations.pop()
            on_fire(activation.rule.cx_rule, activation.context)
        self.running = False

    def cx_fire(self, rule_name: str, context: Mapping[str, Any]) -> None:
        assert self.listener is not None, "a compiled engine runs inside a Session"
        self.listener.on_fire(self.cx_rules[rule_name], context)


@dataclass(frozen=True)
class CompiledKB:
    """A knowledge base ready to run: build once per process, reset per patient."""

    kb: KnowledgeBase
    engine_class: type[CompiledEngine]
    fact_classes: Mapping[str, type]
    uses_catalogue: bool
    var_fields: Mapping[str, Mapping[str, FieldSpec]]  # rule id -> $var -> the field binding it


def _python_name(rule: KbRule) -> str:
    return f"r{rule.index:04d}_" + re.sub(r"[^0-9a-zA-Z_]", "_", rule.id)


def _selectivity(pattern: Any, input_templates: frozenset[str]) -> int:
    """How few facts a pattern is likely to match: literal tests narrow it, and facts of
    derived templates are rarer than input facts."""
    score = 0 if pattern.template in input_templates else 3
    for c in pattern.constraints:
        for t in c.tests:
            if isinstance(t.value, Var):
                continue
            score += 4 if t.op == "eq" and isinstance(t.value, str) else 2
    return score


def _join_order(rule: KbRule, input_templates: frozenset[str]) -> list[tuple[int, Any]]:
    """The `when` patterns in the order the Rete joins them: most selective first.

    Which facts a rule matches does not depend on the order of its patterns, but
    the work does: a join whose left side is empty ignores right tokens cheaply
    (see matcher.py), so putting the narrowest pattern on the left keeps broad
    patterns (the one person, every item of a list) from reaching hundreds of joins. Each pattern
    keeps its binding name ``f_<its position in the rule>``, so traces still list
    matched facts in the author's order.
    """
    indexed = list(enumerate(rule.when))
    return sorted(indexed, key=lambda item: -_selectivity(item[1], input_templates))


def _compile_rule(rule: KbRule, classes: Mapping[str, type], input_templates: frozenset[str]) -> tuple[str, Rule]:
    lhs: list[Any] = []
    checks: list[tuple[str, str, str]] = []
    for i, pattern in _join_order(rule, input_templates):
        fields = {c.field: _field_expr(c.tests, f"{COMPARED_PREFIX}{i}_{c.field}", checks) for c in pattern.constraints}
        lhs.append(getattr(AS, fact_names(rule)[i]) << classes[pattern.template](**fields))
    # Comparisons between variables run once every pattern has bound its values.
    lhs.extend(TEST(_compare_vars(op, left, right)) for op, left, right in checks)
    for pattern in rule.unless:
        fields = {c.field: _field_expr(c.tests, "", []) for c in pattern.constraints}
        lhs.append(NOT(classes[pattern.template](**fields)))
    name = _python_name(rule)

    def action(engine: CompiledEngine, **context: Any) -> None:
        engine.cx_fire(name, context)

    action.__name__ = action.__qualname__ = name
    action.cx_index = rule.index  # type: ignore[attr-defined]
    # experta copies these onto the rule it makes of the action (functools.update_wrapper):
    # the run loop fires through cx_rule, the strategy orders by cx_fact_names.
    action.cx_rule = rule  # type: ignore[attr-defined]
    action.cx_fact_names = fact_names(rule)  # type: ignore[attr-defined]
    # experta inspects the action's signature each time it copies a rule (about
    # ten times per rule while building); a ready signature saves most of a cold start.
    action.__signature__ = _ACTION_SIGNATURE  # type: ignore[attr-defined]
    return name, Rule(*lhs, salience=rule.salience)(action)


def compile_kb(kb: KnowledgeBase) -> CompiledKB:
    """Build the engine class once per process; the matcher is chosen per session
    (:mod:`..match`), which comes after compilation in the pipeline.

    Everything made here lives as long as the knowledge base, so the cyclic
    collector is paused meanwhile (see :mod:`..common.memory`)."""
    with collector_paused():
        return _compile_kb(kb)


def _compile_kb(kb: KnowledgeBase) -> CompiledKB:
    classes = {name: type(f"T_{name}", (Fact,), {}) for name in kb.templates}
    inputs = frozenset(t.name for t in kb.input_templates())
    namespace: dict[str, Any] = {}
    rules_by_name: dict[str, KbRule] = {}
    for rule in kb.rules:
        name, compiled = _compile_rule(rule, classes, inputs)
        namespace[name] = compiled
        rules_by_name[name] = rule
    namespace["cx_rules"] = rules_by_name
    namespace["cx_fact_classes"] = classes
    engine_class = type(f"Engine_{re.sub(r'[^0-9a-zA-Z_]', '_', kb.name)}", (CompiledEngine,), namespace)
    uses_catalogue = any(p.template == "treatment" for r in kb.rules for p in r.patterns)
    var_fields = {rule.id: bound_fields(rule.when, kb.templates) for rule in kb.rules}
    return CompiledKB(
        kb=kb,
        engine_class=engine_class,
        fact_classes=classes,
        uses_catalogue=uses_catalogue,
        var_fields=var_fields,
    )
