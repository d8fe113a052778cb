"""Semantic checks a schema cannot make: rules that can never fire, treatments no
rule recommends, a rule that recommends what it also avoids, fields nobody reads.

Each finding is a :class:`~..common.errors.Problem` with severity ``error`` (the
knowledge base is wrong) or ``warning`` (probably unintended); ``kb lint
--strict`` fails on warnings too.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..common.errors import Problem
from ..knowledge.model import KnowledgeBase, Pattern, Rule, Test, Var
from .dependencies import build, could_match


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
    ]
    return sorted(found, key=lambda p: (p.file, p.line or 0, p.message))


def _concluded(kb: KnowledgeBase) -> dict[str, set[str]]:
    """The literal treatment ids some rule recommends (alone or combined) or avoids."""
    concluded: dict[str, set[str]] = {"recommend": set(), "avoid": set()}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind in concluded and not isinstance(action.target, Var):
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
