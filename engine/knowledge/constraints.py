"""What each constraint of the rule language means, in one place.

The compiler turns these into experta predicates and the why-not explainer
evaluates them again over a recorded trace; both must agree to the letter, so
neither defines its own semantics.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .model import FieldSpec, Test, Var

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
_COMPARE_WORDS = {"lt": "less than", "lte": "at most", "gt": "more than", "gte": "at least"}


def same(a: Any, b: Any) -> bool:
    """Equality that does not confuse true with 1, as Python's does."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def same_key(value: Any) -> tuple[bool, Any]:
    """A stand-in for ``value`` that dictionaries can look up under :func:`same`.

    For hashable values ``same(a, b)`` holds exactly when ``same_key(a) ==
    same_key(b)``: booleans and numbers get different tags, so ``true`` and ``1``
    differ while ``1`` and ``1.0`` stay equal. A value that is not equal to itself
    (NaN) is the same as nothing, and must never be used as a key.
    """
    return (isinstance(value, bool), value)


def in_scope(values: Mapping[str, Any], scope: Mapping[str, Any]) -> bool:
    """Whether an input item's values lie in a scoped avoid's or leave_out's scope.

    Each scope field holds one value, or a list meaning any of them, as a rule
    writes a pattern; the resolver and the explanations both ask this question.
    """
    for name, wanted in scope.items():
        options = wanted if isinstance(wanted, (list, tuple)) else (wanted,)
        if not any(same(values.get(name), option) for option in options):
            return False
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def predicate(test: Test) -> Callable[[Any], bool]:
    """A one-argument check for a test whose operand is a literal.

    The check carries ``cx_constraint = (op, operand)``: a promise that it is
    exactly this constraint and nothing else, which lets the matcher find the
    checks a value passes by looking the value up (equal to, any of, contains)
    or by bisecting bounds (comparisons) instead of trying each check in turn.
    """
    op, value = test.op, test.value
    check = _predicate(op, value)
    check.cx_constraint = (op, value)  # type: ignore[attr-defined]
    return check


def _predicate(op: str, value: Any) -> Callable[[Any], bool]:
    """The check alone: what :func:`holds` evaluates once, with no one to describe it to."""
    if op == "eq":
        return lambda v: same(v, value)
    if op == "any":
        return lambda v: any(same(v, x) for x in value)
    if op == "not":
        return lambda v: not any(same(v, x) for x in value)
    if op == "contains":
        return lambda v: isinstance(v, (tuple, list)) and any(same(x, value) for x in v)
    compare = COMPARE[op]
    # A missing (null) value satisfies no comparison: unknown is not "less than 6".
    return lambda v: is_number(v) and compare(v, value)


def compare_values(op: str, left: Any, right: Any) -> bool:
    return is_number(left) and is_number(right) and COMPARE[op](left, right)


def holds(test: Test, value: Any, bindings: dict[str, Any]) -> bool:
    """Whether ``value`` passes ``test`` given the variables bound so far."""
    if isinstance(test.value, Var):
        name = test.value.name
        if test.op in ("eq", "bind"):
            return name not in bindings or same(bindings[name], value)
        return name in bindings and compare_values(test.op, value, bindings[name])
    return _predicate(test.op, test.value)(value)


def words(test: Test, spec: FieldSpec | None, bindings: dict[str, Any] | None = None) -> str:
    """What a test asks for, as a person would say it ("red or blue", "at most 6")."""

    def label(v: Any) -> str:
        return spec.label(v) if spec is not None else str(v)

    value = test.value
    if isinstance(value, Var):
        if bindings and value.name in bindings:
            shown = f"{label(bindings[value.name])} (${value.name})"
        else:
            shown = f"${value.name}"
        if test.op in ("eq", "bind"):
            return f"the same as {shown}"
        return f"{_COMPARE_WORDS[test.op]} {shown}"
    if test.op == "eq":
        return label(value)
    if test.op == "any":
        items = [label(v) for v in value]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
    if test.op == "not":
        return "not " + " or ".join(label(v) for v in value)
    if test.op == "contains":
        return f"includes {label(value)}"
    return f"{_COMPARE_WORDS[test.op]} {label(value)}"
