"""Semantic checks a schema cannot make: rules that can never fire, treatments no
rule recommends, a rule that recommends what it also avoids, fields nobody reads,
an ``unless`` that may look before its facts exist, a rule that joins one template
many ways, and plan data (``plan.yaml``)
the rules and the scheduler can never honour.

Each finding is a :class:`~..common.errors.Problem` with severity ``error`` (the
knowledge base is wrong) or ``warning`` (probably unintended); ``kb lint
--strict`` fails on warnings too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..documents import yamlio
from ..knowledge.constraints import holds
from ..knowledge.files import PLAN_FILE
from ..knowledge.model import Action, KnowledgeBase, Pattern, Priority, Rule, Selector, Test, Var
from ..resolve.options import CORRECTIVE
from .dependencies import build, candidates, could_match


def _problem(rule_or_where, message: str, severity: str) -> Problem:
    where = rule_or_where.where
    return Problem(where.file, where.line, where.column, getattr(rule_or_where, "id", ""), message, severity)


def _contradiction(tests: tuple[Test, ...]) -> str:
    """Why no single value can pass all literal tests on one field, or ''."""
    literal = [t for t in tests if not isinstance(t.value, Var)]
    lows = [(t.value, t.op) for t in literal if t.op in ("gt", "gte")]
    highs = [(t.value, t.op) for t in literal if t.op in ("lt", "lte")]
    for lo, lo_op in lows:
        for hi, hi_op in highs:
            if lo > hi or (lo == hi and (lo_op == "gt" or hi_op == "lt")):
                return f"no number is both {lo_op} {lo} and {hi_op} {hi}"
    allowed = None
    for t in literal:
        if t.op == "eq":
            allowed = {t.value} if allowed is None else allowed & {t.value}
        elif t.op == "any":
            allowed = set(t.value) if allowed is None else allowed & set(t.value)
    if allowed is not None:
        for t in literal:
            if t.op == "not":
                allowed -= set(t.value)
        if not allowed:
            return "its constraints exclude every value"
    return ""


def _asserted(kb: KnowledgeBase) -> dict[str, list[tuple[Rule, dict]]]:
    out: dict[str, list[tuple[Rule, dict]]] = {}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind == "assert":
                out.setdefault(action.template, []).append((rule, dict(action.values)))
    return out


def _could_produce(pattern: Pattern, values: dict) -> bool:
    return could_match(pattern, pattern.template, values)


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Every finding of every check, in file order."""
    concluded = _concluded(kb)
    found = [
        *_rules_that_cannot_fire(kb, concluded),
        *_self_contradicting_rules(kb, concluded),
        *_unused_treatments(kb, concluded),
        *_unread_templates(kb),
        *_derivation_cycles(kb),
        *_unless_too_early(kb),
        *_wide_joins(kb),
        *_plan_findings(kb, concluded),
    ]
    return sorted(found, key=lambda p: (p.file, p.line or 0, p.message))


def _concluded(kb: KnowledgeBase) -> dict[str, set[str]]:
    """The treatment ids some rule recommends (alone or combined) or avoids.

    An action on a variable bound from the catalogue ("every entry with this tag")
    concludes each entry the variable can hold, as :func:`_producers` counts it; one
    whose values cannot be told adds none.
    """
    concluded: dict[str, set[str]] = {"recommend": set(), "avoid": set()}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind in concluded and isinstance(action.target, Var):
                concluded[action.kind].update(candidates(kb, rule, action.target, catalogue=True) or ())
            elif action.kind in concluded and action.target is not None:
                concluded[action.kind].add(action.target)
            if action.kind == "combine":
                concluded["recommend"].update(action.components)
    return concluded


def _rules_that_cannot_fire(kb: KnowledgeBase, concluded: dict[str, set[str]]) -> Iterator[Problem]:
    asserted = _asserted(kb)
    for rule in kb.rules:
        for pattern in rule.when:
            for c in pattern.constraints:
                why = _contradiction(c.tests)
                if why:
                    yield _problem(rule, f"can never fire: {pattern.template}.{c.field}: {why}", "error")
            template = kb.templates[pattern.template]
            if template.input is None and not template.builtin:
                producers = [r for r, values in asserted.get(pattern.template, []) if _could_produce(pattern, values)]
                if not producers:
                    yield _problem(
                        rule,
                        f"can never fire: no rule asserts a {pattern.template} fact that matches "
                        f"this pattern (add one, or fix the values)",
                        "error",
                    )
            if pattern.template in ("recommend", "avoid"):
                for c in pattern.constraints:
                    for t in c.tests:
                        if (
                            c.field == "treatment"
                            and t.op == "eq"
                            and not isinstance(t.value, Var)
                            and t.value not in concluded[pattern.template]
                        ):
                            yield _problem(
                                rule,
                                f"can never fire: no rule concludes {pattern.template} {t.value}",
                                "error",
                            )


def _self_contradicting_rules(kb: KnowledgeBase, concluded: dict[str, set[str]]) -> Iterator[Problem]:
    for rule in kb.rules:
        recommended = {a.target for a in rule.then if a.kind == "recommend"}
        for action in rule.then:
            if action.kind == "avoid" and action.target in recommended:
                yield _problem(rule, f"recommends and avoids {action.target} under the same conditions", "error")
        for a in rule.then:
            if a.kind == "caution" and not isinstance(a.target, Var) and a.target not in concluded["recommend"]:
                yield _problem(rule, f"cautions about {a.target}, which no rule recommends", "warning")


def _unused_treatments(kb: KnowledgeBase, concluded: dict[str, set[str]]) -> Iterator[Problem]:
    for tid, treatment in kb.treatments.items():
        if treatment.kind == "unsafe":
            if tid not in concluded["avoid"]:
                yield _problem(treatment, f"treatment {tid} is catalogued as unsafe but no rule avoids it", "warning")
            continue
        if tid not in concluded["recommend"]:
            yield _problem(treatment, f"no rule recommends treatment {tid}", "warning")


def _unread_templates(kb: KnowledgeBase) -> Iterator[Problem]:
    read_fields: dict[str, set[str]] = {}
    for rule in kb.rules:
        for pattern in rule.patterns:
            read_fields.setdefault(pattern.template, set()).update(c.field for c in pattern.constraints)
    for name, template in kb.templates.items():
        if template.builtin:
            continue
        if name not in read_fields:
            yield _problem(template, f"no rule matches template {name}", "warning")
            continue
        for fname in template.fields:
            if fname not in read_fields[name] and template.input is None:
                yield _problem(template, f"no rule reads {name}.{fname}", "warning")


def _producers_of(
    kb: KnowledgeBase, pattern: Pattern, asserted: Mapping[str, list[tuple[Rule, dict]]]
) -> Iterator[Rule]:
    """Rules whose conclusions could be a fact this pattern matches (derived templates only)."""
    if pattern.template in ("recommend", "avoid"):
        wanted = {t.value for c in pattern.constraints if c.field == "treatment" for t in c.tests if t.op == "eq"}
        for rule in kb.rules:
            for action in rule.then:
                hit = action.kind == pattern.template and not (action.kind == "avoid" and action.scope)
                hit |= pattern.template == "recommend" and action.kind == "combine"
                targets = action.components if action.kind == "combine" else (action.target,)
                if hit and (not wanted or any(isinstance(t, Var) or t in wanted for t in targets)):
                    yield rule
                    break
        return
    for rule, values in asserted.get(pattern.template, []):
        if _could_produce(pattern, values):
            yield rule


def _unless_too_early(kb: KnowledgeBase) -> Iterator[Problem]:
    """An ``unless`` on a fact that a lower-salience rule draws may look too early.

    A rule whose own conditions hold from the start fires before lower-salience
    rules have drawn their facts, so its ``unless`` sees no such fact yet and the
    rule fires when it should not (a worse finding drawn after a rule meant only
    for the milder one). Give the rule a salience below its producers.
    """
    asserted = _asserted(kb)
    for rule in kb.rules:
        for pattern in rule.unless:
            template = kb.templates[pattern.template]
            if template.input is not None:
                continue
            late = sorted({p.id for p in _producers_of(kb, pattern, asserted) if p.salience < rule.salience})
            if late:
                yield _problem(
                    rule,
                    f"unless {pattern.template}: may look before its facts exist, since {_names(late)} "
                    f"(salience lower than {rule.salience}) can draw them later; lower this rule's salience",
                    "warning",
                )


WIDE_JOIN = 3  # patterns of one template in one rule from which the matches grow as n^3 or worse


def _wide_joins(kb: KnowledgeBase) -> Iterator[Problem]:
    """A rule that matches the same template three or more times grows as n^k with those facts.

    Eight patterns on one input template turn 20 entries into 25 billion matches; the
    matcher stops a consultation at its budget, but the author should hear first.
    """
    from ..match.matcher import MAX_MATCHES

    for rule in kb.rules:
        counts: dict[str, int] = {}
        for pattern in rule.when:
            counts[pattern.template] = counts.get(pattern.template, 0) + 1
        for template, k in counts.items():
            if k >= WIDE_JOIN:
                yield _problem(
                    rule,
                    f"matches {template} {k} times: its matches grow as n^{k} with the {template} facts, and a "
                    f"consultation stops past {MAX_MATCHES:,} matches; join fewer patterns or draw a finding first",
                    "warning",
                )


def _derivation_cycles(kb: KnowledgeBase) -> Iterator[Problem]:
    """Rule A asserts a fact rule B can match, B one that A can match...

    CLIPS keeps one copy of identical facts, so such loops end, but they are
    rarely intended and make traces hard to read. (Rules reacting to
    recommend/avoid conclusions are not derivations and are left out.)
    """
    graph = build(kb)
    reported: set[frozenset[str]] = set()
    for start in graph.derives_for:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.derives_for[node]:
                if nxt == start and frozenset(path) not in reported:
                    reported.add(frozenset(path))
                    yield _problem(
                        kb.rule(start), "rules feed each other in a cycle: " + " -> ".join([*path, start]), "warning"
                    )
                elif nxt not in path and len(path) < 6:
                    stack.append((nxt, [*path, nxt]))


# --- the plan (plan.yaml) ------------------------------------------------------------------
#
# Unknown ids, phases, tags and fields in plan.yaml are load errors (plan_parser.py).
# What loading cannot see is whether the plan fits the rules and the scheduler: an
# ordering rule the phase order defeats, a phase nothing uses, a procedure that can
# never be scheduled, a priority naming an option no rule proposes for its problems.


class _PlanPlaces:
    """Where each part of ``plan.yaml`` is written.

    The model keeps one position per plan entry, but a finding about one item of a
    list (one option of a priority, one add-on) should point at that item, so the
    file is read again for its positions. Should it have become unreadable since it
    was loaded, findings point at its first line rather than failing the lint.
    """

    def __init__(self, kb: KnowledgeBase):
        self.file = kb.plan.where.file
        self.doc: yamlio.Document | None
        try:
            self.doc = yamlio.read(Path(kb.root) / PLAN_FILE, display=self.file)
        except CicatrixError:
            self.doc = None

    def problem(self, path: tuple[Any, ...], message: str, severity: str, *, key: bool = False) -> Problem:
        if self.doc is None:
            return Problem(self.file, 1, 1, yamlio.format_path(path), message, severity)
        return replace(self.doc.problem(path, message, key=key), severity=severity)


def _plan_findings(kb: KnowledgeBase, concluded: dict[str, set[str]]) -> list[Problem]:
    """Every plan finding; none for a knowledge base without ``plan.yaml``."""
    if not kb.plan.where.file:
        return []
    places = _PlanPlaces(kb)
    producers = _producers(kb)
    proposed = {part for oid in producers if oid != _ANY for part in oid.split("+")}
    return [
        *_order_rules_that_cannot_hold(kb, places),
        *_unused_phases(kb, places),
        *_unscheduled_procedures(kb, proposed),
        *_unreachable_priorities(kb, producers, concluded, places),
        *_idle_adjuncts(kb, proposed, places),
    ]


def _selected(kb: KnowledgeBase, selector: Selector) -> list[str]:
    return [tid for tid, t in kb.treatments.items() if selector.matches(t)]


def _phase_of(kb: KnowledgeBase, tid: str) -> str:
    course = kb.treatments[tid].course
    assert course is not None
    return course.phase


def _names(ids: list[str], most: int = 3) -> str:
    shown = ", ".join(ids[:most])
    return shown + (f" (and {len(ids) - most} more)" if len(ids) > most else "")


def _order_rules_that_cannot_hold(kb: KnowledgeBase, places: _PlanPlaces) -> Iterator[Problem]:
    """Ordering rules the scheduler can never honour, and rules that never apply.

    Only catalogue entries with a ``course`` are ever scheduled, so only they count.
    Phases are scheduled one after another in the order ``course.phases`` lists
    them, and an ordering rule only ever moves an item later within its own phase:
    a ``then`` item in a phase listed before a ``first`` item's is placed first
    whatever the rule says.
    """
    for i, rule in enumerate(kb.plan.order):
        path = ("course", "order", i)
        first, then = _selected(kb, rule.first), _selected(kb, rule.then)
        both = [t for t in first if t in then]
        if both:
            yield places.problem(
                (*path, "then"),
                f"'first' and 'then' both select {_names(both)}: a treatment cannot start after it ends "
                "itself; expected selections with nothing in common (narrow one of them)",
                "error",
                key=True,
            )
        early = [t for t in first if kb.treatments[t].course is not None]
        late = [t for t in then if kb.treatments[t].course is not None and t not in first]
        for side, chosen, selector in (("first", early, rule.first), ("then", late, rule.then)):
            if not chosen and not (side == "then" and both):
                yield places.problem(
                    (*path, side),
                    f"'{side}' ({selector}) selects no treatment with a 'course', so this rule never applies; "
                    "expected ids, kinds or tags of scheduled treatments",
                    "warning",
                    key=True,
                )
        yield from _inverted(kb, places, path, early, late)
        yield from _endless(kb, places, path, early, late)


def _inverted(
    kb: KnowledgeBase, places: _PlanPlaces, path: tuple[Any, ...], early: list[str], late: list[str]
) -> Iterator[Problem]:
    """A ``then`` treatment whose phase is scheduled before a ``first`` treatment's phase."""
    position = {p.id: n for n, p in enumerate(kb.plan.phases)}
    pairs = [(a, b) for a in early for b in late if position[_phase_of(kb, a)] > position[_phase_of(kb, b)]]
    if not pairs:
        return
    a, b = pairs[0]
    more = f" ({len(pairs) - 1} more such pair(s))" if len(pairs) > 1 else ""
    yield places.problem(
        path,
        f"can never be honoured: {b} (phase {_phase_of(kb, b)!r}) must wait for {a} (phase "
        f"{_phase_of(kb, a)!r}), but phases run in the order course.phases lists them and "
        f"{_phase_of(kb, b)!r} comes first{more}; expected every 'first' treatment in the same phase "
        "as its 'then' treatments or an earlier one",
        "error",
    )


def _endless(
    kb: KnowledgeBase, places: _PlanPlaces, path: tuple[Any, ...], early: list[str], late: list[str]
) -> Iterator[Problem]:
    """A ``first`` treatment with no length: it ends only with its phase (or, alongside, the course).

    Nothing can start after the course ends, nor inside a phase after that phase ends.
    """
    phases = {p.id: p for p in kb.plan.phases}
    for a in early:
        course = kb.treatments[a].course
        assert course is not None
        if course.sessions is not None or course.weeks is not None:
            continue
        phase = phases[course.phase]
        blocked = late if phase.alongside else [b for b in late if _phase_of(kb, b) == course.phase]
        if not blocked:
            continue
        span = "runs beside the whole course" if phase.alongside else f"runs to the end of its phase {phase.id!r}"
        yield places.problem(
            path,
            f"can never be honoured: {a} has no length ('sessions' or 'weeks' in its course), so it {span} "
            f"and {_names(blocked)} cannot start after it ends; expected a 'first' treatment with a length",
            "error",
        )


def _unused_phases(kb: KnowledgeBase, places: _PlanPlaces) -> Iterator[Problem]:
    """A declared phase no catalogue entry is scheduled in is always empty: a leftover or a typo."""
    used = {t.course.phase for t in kb.treatments.values() if t.course is not None}
    for i, phase in enumerate(kb.plan.phases):
        if phase.id not in used:
            yield places.problem(
                ("course", "phases", i, "id"),
                f"no treatment's course names phase {phase.id!r}, so it is always empty; expected a catalogue "
                f"entry with course: {{phase: {phase.id}}} (or remove the phase)",
                "warning",
            )


def _unscheduled_procedures(kb: KnowledgeBase, proposed: set[str]) -> Iterator[Problem]:
    """A procedure rules propose but the course can never place, having no ``course`` of its own.

    Add-ons are exempt: they fold into what they join and are scheduled with it.
    """
    if not kb.plan.phases:
        return
    phases = ", ".join(p.id for p in kb.plan.phases)
    for tid, t in kb.treatments.items():
        if t.kind in CORRECTIVE and t.course is None and tid in proposed and tid not in kb.plan.adjuncts:
            yield _problem(
                t,
                f"{t.kind} {tid} is recommended but has no 'course', so the course of care never schedules it; "
                f"expected course: {{phase: ...}} with one of {phases} (or list it under adjuncts in plan.yaml)",
                "warning",
            )


_ANY = "*"  # producers key: recommendations of a variable lint cannot narrow down


def _producers(kb: KnowledgeBase) -> dict[str, list[Action]]:
    """Option id -> the actions that can propose it: recommending it, or combining its parts in that order.

    A recommendation of a variable proposes every entry its patterns on the catalogue
    can match (:func:`.dependencies.candidates`, all of the rule's patterns at once).
    A variable only a conclusion binds re-recommends what another action already
    proposes, and its values cannot be told: such actions are kept under ``_ANY``,
    so that a finding never rests on a guess (an option it may reach is never called
    unreachable, nor is anything counted as proposed because of it).
    """
    out: dict[str, list[Action]] = {}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind == "combine":
                out.setdefault("+".join(action.components), []).append(action)
            elif action.kind == "recommend" and isinstance(action.target, Var):
                ids = candidates(kb, rule, action.target, catalogue=True)
                for tid in ids if ids is not None else [_ANY]:
                    out.setdefault(tid, []).append(action)
            elif action.kind == "recommend" and action.target is not None:
                out.setdefault(action.target, []).append(action)
    return out


def _kinds_of(kb: KnowledgeBase, priority: Priority) -> set[Any] | None:
    """The target values a priority can apply to (None: any, as far as its conditions say)."""
    if kb.targets is None:
        return None
    template, name = kb.targets
    spec = kb.templates[template].fields[name]
    tests = [t for c in priority.when if c.field == name for t in c.tests]
    if not tests or spec.allowed is None:
        return None
    return {v for v in spec.allowed if all(holds(t, v, {}) for t in tests)}


def _unreachable_priorities(
    kb: KnowledgeBase, producers: Mapping[str, list[Action]], concluded: dict[str, set[str]], places: _PlanPlaces
) -> Iterator[Problem]:
    """A priority option no rule can propose for the problems the priority applies to.

    Such an entry never ranks anything: usually a combination whose parts are listed
    in another order than the ``combine`` action's, or an option whose rules target
    other kinds of problem.
    """
    for i, priority in enumerate(kb.plan.priorities):
        kinds = _kinds_of(kb, priority)
        for j, oid in enumerate(priority.order):
            why = _why_unreachable(kb, oid, producers, concluded, kinds)
            if why:
                yield places.problem(("priorities", i, "order", j), why, "warning")


def _why_unreachable(
    kb: KnowledgeBase,
    oid: str,
    producers: Mapping[str, list[Action]],
    concluded: dict[str, set[str]],
    kinds: set[Any] | None,
) -> str:
    """Why no problem this priority applies to can ever have ``oid`` as an option, or ''."""
    if "+" not in oid:
        if oid in kb.plan.adjuncts:
            return f"{oid} is an add-on (adjuncts): it folds into what it joins and is never an option on its own"
        if kb.treatments[oid].kind not in CORRECTIVE:
            return (
                f"{oid} is {kb.treatments[oid].kind}: a problem's options are {', '.join(CORRECTIVE)} entries "
                "and combinations, so it never ranks here"
            )
    actions = [*producers.get(oid, ()), *(producers.get(_ANY, ()) if "+" not in oid else ())]
    if not actions:
        return _never_proposed(oid, producers, concluded)
    targets = sorted({str(t) for a in actions for t in a.targets})
    if not targets:
        return f"the rules that recommend {oid} give no 'targets', so it reaches no problem; expected targets"
    if kinds is None or any(isinstance(t, Var) or t in kinds for a in actions for t in a.targets):
        return ""
    assert kb.targets is not None
    return (
        f"no rule proposes {oid} for {kb.targets[1]} {', '.join(sorted(map(str, kinds)))}: the rules that "
        f"propose it target {', '.join(targets)}"
    )


def _never_proposed(oid: str, producers: Mapping[str, list[Action]], concluded: dict[str, set[str]]) -> str:
    if "+" not in oid:
        if oid in concluded["recommend"]:
            return f"no rule recommends {oid} on its own (only as part of a combination), so it is never an option"
        return f"no rule recommends {oid}"
    combinations = [c for c in producers if "+" in c]  # never _ANY
    same = [c for c in combinations if sorted(c.split("+")) == sorted(oid.split("+"))]
    if same:
        return (
            f"no combine action makes {oid}: a combination's id lists its parts in the order the rule "
            f"does; did you mean {same[0]!r}?"
        )
    return f"no combine action makes {oid}" + did_you_mean(oid, combinations)


def _idle_adjuncts(kb: KnowledgeBase, proposed: set[str], places: _PlanPlaces) -> Iterator[Problem]:
    """An add-on none of whose treatments any rule recommends can never join anything."""
    for adjunct, parents in kb.plan.adjuncts.items():
        if not any(p in proposed for p in parents):
            yield places.problem(
                ("adjuncts", adjunct),
                f"add-on {adjunct} joins {_names(list(parents))}, which no rule recommends (alone or combined), "
                "so it never joins anything; expected at least one treatment some rule recommends",
                "warning",
                key=True,
            )
