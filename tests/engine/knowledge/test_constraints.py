"""The meaning of every constraint of the rule language, tested on the functions
the compiler and the why-not explainer both call."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cicatrix.engine.knowledge.constraints import (
    compare_values,
    holds,
    is_number,
    predicate,
    same,
    same_key,
    words,
)
from cicatrix.engine.knowledge.model import FieldSpec, Var
from cicatrix.engine.knowledge.model import Test as Constraint

# --- equality ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (True, True, True),
        (False, False, True),
        (True, 1, False),
        (1, True, False),
        (False, 0, False),
        (0, False, False),
        (True, False, False),
        (1, 1, True),
        (1, 1.0, True),  # numbers compare by value
        (0, 0.0, True),
        ("a", "a", True),
        ("a", "b", False),
        (None, None, True),
        (None, False, False),
        (None, 0, False),
        ("1", 1, False),
    ],
)
def test_same_tells_booleans_from_numbers(a, b, expected):
    assert same(a, b) is expected


SCALARS = st.one_of(
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 2.0, float("inf")]),
    st.sampled_from(["a", "1", "", "True"]),
    st.none(),
)


@given(SCALARS, SCALARS)
def test_same_key_stands_for_same(a, b):
    """The matcher looks values up by same_key: equal keys exactly when same() holds."""
    assert (same_key(a) == same_key(b)) is same(a, b)
    if same(a, b):
        assert hash(same_key(a)) == hash(same_key(b))


def test_predicates_describe_themselves_for_the_matcher():
    """Each check carries the constraint it is, so the matcher may index it by value."""
    for op, value in [("eq", 3), ("any", (1, "a")), ("not", (True,)), ("contains", "x"), ("gte", 2.5)]:
        assert predicate(Constraint(op, value)).cx_constraint == (op, value)


def test_is_number_excludes_booleans_and_null():
    assert is_number(3) and is_number(2.5) and is_number(0)
    assert not is_number(True) and not is_number(False)
    assert not is_number(None) and not is_number("3")


# --- literal tests ----------------------------------------------------------------


def check(op, value, candidate) -> bool:
    return predicate(Constraint(op, value))(candidate)


def test_eq():
    assert check("eq", "deep", "deep")
    assert not check("eq", "deep", "shallow")
    assert not check("eq", "deep", None)
    assert check("eq", 3, 3) and check("eq", 3, 3.0)
    assert check("eq", True, True) and not check("eq", True, False)
    assert not check("eq", 1, True) and not check("eq", True, 1)
    assert not check("eq", 0, False) and not check("eq", False, 0)


def test_any():
    assert check("any", ("a", "b"), "b")
    assert not check("any", ("a", "b"), "c")
    assert not check("any", ("a", "b"), None)
    assert check("any", (None, "a"), None)  # a nullable field may list null
    assert check("any", (1, True), 1) and check("any", (1, True), True)
    assert not check("any", (1, 2), True)
    assert not check("any", (True,), 1)
    assert not check("any", (0,), False) and not check("any", (False,), 0)


def test_not():
    assert check("not", ("a",), "b")
    assert not check("not", ("a", "b"), "b")
    assert check("not", ("a",), None)  # unknown is "not a": only a listed value fails it
    assert check("not", (1,), True)
    assert check("not", (True,), 1)
    assert check("not", (False,), 0)
    assert not check("not", (1, True), True) and not check("not", (1, True), 1)


def test_contains():
    assert check("contains", "eczema", ["rosacea", "eczema"])
    assert check("contains", "eczema", ("eczema",))  # experta freezes lists into tuples
    assert not check("contains", "eczema", ["rosacea"])
    assert not check("contains", "eczema", [])
    assert not check("contains", "eczema", None)
    assert not check("contains", "e", "eczema")  # a string is not a list of items (letters)
    assert not check("contains", "eczema", "eczema")
    assert not check("contains", 1, [True])
    assert not check("contains", True, [1, 2])
    assert not check("contains", 0, [False])
    assert check("contains", 1, [True, 1]) and check("contains", True, [1, True])


@pytest.mark.parametrize(
    ("op", "bound", "below", "equal", "above"),
    [
        ("lt", 5, True, False, False),
        ("lte", 5, True, True, False),
        ("gt", 5, False, False, True),
        ("gte", 5, False, True, True),
    ],
)
def test_comparisons(op, bound, below, equal, above):
    assert check(op, bound, 4) is below
    assert check(op, bound, 5) is equal
    assert check(op, bound, 5.0) is equal
    assert check(op, bound, 6) is above
    assert check(op, bound, 4.5) is below


@pytest.mark.parametrize("op", ["lt", "lte", "gt", "gte"])
@pytest.mark.parametrize("value", [None, True, False, "3", [3]])
def test_null_booleans_and_text_satisfy_no_comparison(op, value):
    # True < 5 and False >= 0 hold in Python; in the rule language they do not
    for bound in (-1, 0, 1, 5):
        assert not check(op, bound, value)


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("lt", 2, 3, True),
        ("lt", 3, 3, False),
        ("lte", 3, 3, True),
        ("gt", 4, 3, True),
        ("gt", 3, 3.0, False),
        ("gte", 3, 3.0, True),
        ("gt", 2.5, 2, True),
        ("lt", None, 3, False),
        ("gt", 3, None, False),
        ("gte", None, None, False),
        ("lt", 0, True, False),
        ("gt", True, 0, False),
        ("lte", False, 0, False),
        ("lt", "a", "b", False),
    ],
)
def test_compare_values(op, left, right, expected):
    assert compare_values(op, left, right) is expected


# --- holds: tests with variables ----------------------------------------------------


def test_holds_with_a_literal_is_the_predicate():
    assert holds(Constraint("eq", "deep"), "deep", {})
    assert not holds(Constraint("eq", 1), True, {"x": 1})
    assert holds(Constraint("lte", 6), 6, {})
    assert not holds(Constraint("lte", 6), None, {})
    assert holds(Constraint("contains", "a"), ["a"], {})


@pytest.mark.parametrize("op", ["eq", "bind"])
def test_holds_equality_with_a_variable(op):
    test = Constraint(op, Var("s"))
    # unbound: the test binds the variable, so any value passes (null too)
    assert holds(test, "cheeks", {})
    assert holds(test, None, {"other": 1})
    # bound: the value must be the same as the binding
    assert holds(test, "cheeks", {"s": "cheeks"})
    assert not holds(test, "forehead", {"s": "cheeks"})
    assert holds(test, 2, {"s": 2.0})
    assert not holds(test, True, {"s": 1})
    assert not holds(test, 0, {"s": False})


@pytest.mark.parametrize(
    ("op", "value", "bound", "expected"),
    [
        ("lt", 2, 3, True),
        ("lt", 3, 3, False),
        ("lte", 3, 3, True),
        ("gt", 5, 3, True),
        ("gt", 3, 5, False),
        ("gte", 5, 5, True),
        ("gt", None, 3, False),
        ("gt", 5, None, False),
        ("gt", True, 0, False),
        ("lt", 0, True, False),
    ],
)
def test_holds_comparison_with_a_bound_variable(op, value, bound, expected):
    # the field's value is on the left: {downtime_min: {gt: $tol}} asks downtime_min > tol
    assert holds(Constraint(op, Var("tol")), value, {"tol": bound}) is expected


@pytest.mark.parametrize("op", ["lt", "lte", "gt", "gte"])
def test_holds_comparison_with_an_unbound_variable_never_holds(op):
    for value in (-5, 0, 3, 100):
        assert not holds(Constraint(op, Var("tol")), value, {})
        assert not holds(Constraint(op, Var("tol")), value, {"other": value})


# --- words -------------------------------------------------------------------------

SCAR_TYPE = FieldSpec(
    name="type",
    type="string",
    allowed=("ice_pick", "boxcar", "rolling"),
    labels={"ice_pick": "ice pick"},
)
DAYS = FieldSpec(name="downtime_days", type="integer", unit="days")


@pytest.mark.parametrize(
    ("test", "spec", "expected"),
    [
        (Constraint("eq", "ice_pick"), SCAR_TYPE, "ice pick"),
        (Constraint("eq", "rolling"), SCAR_TYPE, "rolling"),
        (Constraint("eq", "ice_pick"), None, "ice_pick"),
        (Constraint("eq", True), None, "True"),
        (Constraint("eq", True), FieldSpec(name="pregnant", type="boolean"), "yes"),
        (Constraint("any", ("boxcar",)), SCAR_TYPE, "boxcar"),
        (Constraint("any", ("boxcar", "ice_pick")), SCAR_TYPE, "boxcar or ice pick"),
        (Constraint("any", ("boxcar", "ice_pick", "rolling")), SCAR_TYPE, "boxcar, ice pick or rolling"),
        (Constraint("not", ("ice_pick",)), SCAR_TYPE, "not ice pick"),
        (Constraint("not", ("ice_pick", "rolling")), SCAR_TYPE, "not ice pick or rolling"),
        (Constraint("contains", "eczema"), None, "includes eczema"),
        (Constraint("lt", 3), DAYS, "less than 3 days"),
        (Constraint("lte", 1), DAYS, "at most 1 day"),
        (Constraint("gt", 6), None, "more than 6"),
        (Constraint("gte", 6), None, "at least 6"),
    ],
)
def test_words_for_literals(test, spec, expected):
    assert words(test, spec) == expected


def test_words_for_variables():
    assert words(Constraint("eq", Var("t")), SCAR_TYPE) == "the same as $t"
    assert words(Constraint("bind", Var("t")), SCAR_TYPE, {}) == "the same as $t"
    assert words(Constraint("eq", Var("t")), SCAR_TYPE, {"t": "ice_pick"}) == "the same as ice pick ($t)"
    assert words(Constraint("gt", Var("tol")), DAYS) == "more than $tol"
    assert words(Constraint("gt", Var("tol")), DAYS, {"other": 1}) == "more than $tol"
    assert words(Constraint("lte", Var("tol")), DAYS, {"tol": 5}) == "at most 5 days ($tol)"
    assert words(Constraint("lt", Var("tol")), None, {"tol": 5}) == "less than 5 ($tol)"


def test_in_scope_reads_a_list_as_any_of_its_values_and_never_takes_true_for_1():
    from cicatrix.engine.knowledge.constraints import in_scope

    assert in_scope({"site": "back", "depth": "deep"}, {"site": "back"})
    assert in_scope({"site": None}, {"site": ["cheeks", None]})  # null is a value a scope can name
    assert not in_scope({"site": "chest"}, {"site": ["back", "cheeks"]})
    assert not in_scope({"site": "back", "depth": "shallow"}, {"site": "back", "depth": "deep"})  # every field
    assert not in_scope({"count": True}, {"count": 1})
    assert in_scope({"site": "back"}, {})  # no scope: everywhere
