"""engine/knowledge/model.py: what a field accepts and how its values are worded."""

from __future__ import annotations

import pytest

from cicatrix.engine.knowledge.model import FieldSpec, Pattern, Template, Var, Where, bound_fields


def test_a_list_field_of_numbers_does_not_take_true_for_1():
    spec = FieldSpec("n", "list", allowed=(1, 2))
    assert spec.accepts(1) and not spec.accepts(True)
    assert not FieldSpec("flag", "list", allowed=(True,)).accepts(1)


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        (FieldSpec("n", "integer", minimum=0, maximum=10), [0, 3.0, 10], [True, 3.5, -1, 11, "3", float("inf")]),
        (FieldSpec("x", "number"), [1.5, 0], [False, float("nan"), "1"]),
        (FieldSpec("b", "boolean"), [True, False], [1, 0, "yes"]),
        (FieldSpec("s", "string", allowed=("a", "b")), ["a"], ["c", 1, None]),
        (FieldSpec("s", "string", nullable=True), ["free text", None], [3]),
    ],
)
def test_accepts(spec, good, bad):
    assert all(spec.accepts(v) for v in good)
    assert not any(spec.accepts(v) for v in bad)


def test_labels_units_and_unknowns():
    width = FieldSpec("width_mm", "number", unit="mm", unknown="not measured")
    assert width.describe(1.0) == "width 1 mm"
    assert width.label(None) == "not measured"
    days = FieldSpec("downtime_days", "integer", unit="days")
    assert days.label(1) == "1 day" and days.label(5) == "5 days"
    assert FieldSpec("b", "boolean").label(True) == "yes"
    assert FieldSpec("t", "string", labels={"a_b": "A and B"}).label("a_b") == "A and B"
    assert FieldSpec("t", "list").label(["x_y", "z"]) == "x y, z"


def test_describe_allowed():
    assert FieldSpec("n", "integer", minimum=1, maximum=6.0).describe_allowed() == "an integer from 1 to 6"
    many = FieldSpec("s", "string", allowed=tuple("abcdefghijkl"))
    assert many.describe_allowed().endswith(", ... (12 in all)")


def test_bound_fields_takes_the_first_binding():
    first, second = FieldSpec("a", "string"), FieldSpec("b", "string")
    templates = {"t": Template("t", "", {"a": first, "b": second}, None, Where("x"))}
    from cicatrix.engine.knowledge.model import FieldConstraint, Test

    pattern = Pattern(
        "t",
        (FieldConstraint("a", (Test("eq", Var("v")),)), FieldConstraint("b", (Test("eq", Var("v")),))),
        False,
        Where("x"),
    )
    assert bound_fields([pattern], templates) == {"v": first}


def test_a_rule_is_found_by_id(kb):
    rule = kb.rules[5]
    assert kb.rule(rule.id) is rule
    with pytest.raises(KeyError):
        kb.rule("no/such-rule")
