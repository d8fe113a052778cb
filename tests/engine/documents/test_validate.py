"""engine/documents/validate.py: each JSON Schema keyword's error as a located
problem in the words of someone editing YAML, sorted and without repeats."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from cicatrix.engine.common.errors import Problem
from cicatrix.engine.documents import yamlio
from cicatrix.engine.documents.validate import check, short, type_word

ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
VAR = {"type": "string", "pattern": "^\\$[a-z_][a-z0-9_]*$"}


def problems(schema: dict[str, Any], text: str, root: tuple[Any, ...] = ()) -> list[Problem]:
    return check(yamlio.parse(text, "f.yaml"), schema, root)


def rendered(schema: dict[str, Any], text: str, root: tuple[Any, ...] = ()) -> list[str]:
    return [p.render() for p in problems(schema, text, root)]


def mapping(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_a_valid_document_has_no_problems():
    assert problems(mapping(a=ID, n={"type": "integer"}), "a: ok\nn: 3\n") == []


# --- one keyword at a time ---------------------------------------------------------------


def test_additional_properties_names_the_key_where_it_is_with_a_suggestion():
    schema = {**mapping(name=ID, kind=ID), "additionalProperties": False}
    assert rendered(schema, "name: a\nknid: b\n") == [
        "f.yaml:2:1: knid: unknown key 'knid'; expected one of: name, kind; did you mean 'kind'?"
    ]
    assert rendered(schema, "name: a\nzzz: b\n") == ["f.yaml:2:1: zzz: unknown key 'zzz'; expected one of: name, kind"]


def test_additional_properties_with_no_known_keys_just_says_unknown():
    schema = {"type": "object", "additionalProperties": False}
    assert rendered(schema, "a: 1\nb: 2\n") == ["f.yaml:1:1: a: unknown key 'a'", "f.yaml:2:1: b: unknown key 'b'"]


def test_required_names_each_missing_key_once_at_the_mapping():
    schema = {"type": "object", "required": ["a", "b", "c"]}
    assert rendered(schema, "x:\n  c: 1\n", root=("x",)) == [
        "f.yaml:2:3: x: missing required key 'a'",
        "f.yaml:2:3: x: missing required key 'b'",
    ]


def test_enum_lists_the_choices_and_suggests_the_closest():
    schema = mapping(kind={"enum": ["alpha", "beta", None]})
    assert rendered(schema, "kind: alpah\n") == [
        "f.yaml:1:7: kind: 'alpah' is not allowed; expected one of: alpha, beta, null; did you mean 'alpha'?"
    ]
    assert rendered(schema, "kind: 3\n") == ["f.yaml:1:7: kind: 3 is not allowed; expected one of: alpha, beta, null"]


def test_enum_shortens_a_long_value():
    (problem,) = problems(mapping(kind={"enum": ["a"]}), f"kind: {'x' * 100}\n")
    assert problem.message.startswith("'" + "x" * 56 + "... is not allowed")


@pytest.mark.parametrize(
    ("wanted", "value", "message"),
    [
        ("object", "[1]", "expected a mapping, got a list [1]"),
        ("array", "{}", "expected a list, got a mapping {}"),
        ("string", "true", "expected text, got true"),
        ("string", "false", "expected text, got false"),
        ("string", "null", "expected text, got null"),
        ("number", "abc", "expected a number, got text 'abc'"),
        ("integer", "2.5", "expected a whole number, got a number 2.5"),
        ("boolean", "1", "expected true or false, got a number 1"),
        ("null", "x", "expected null, got text 'x'"),
        (["string", "null"], "3", "expected text or null, got a number 3"),
    ],
)
def test_type_in_words(wanted, value, message):
    assert rendered(mapping(v={"type": wanted}), f"v: {value}\n") == [f"f.yaml:1:4: v: {message}"]


@pytest.mark.parametrize(
    ("pattern", "value", "message"),
    [
        ("^[a-z][a-z0-9_]*$", "Bad", "'Bad' is not a lower-case identifier such as 'first_choice'"),
        ("^[a-z0-9][a-z0-9_./-]*$", "_x", "'_x' is not a lower-case rule id such as 'group/first-choice'"),
        ("^\\$[a-z_][a-z0-9_]*$", "site", "'site' is not a variable such as '$site'"),
        (
            "^(\\$[a-z_][a-z0-9_]*|[a-z][a-z0-9_]*)$",
            "A",
            "'A' is not a treatment id such as 'first_choice' or a variable",
        ),
        ("^[^#\\s]+(#[^\\s]+)?$", "'a b'", "'a b' is not a source such as 'file.txt' or 'file.txt#section'"),
        ("^x+$", "yyy", "'yyy' is not text matching ^x+$"),
    ],
)
def test_pattern_in_words(pattern, value, message):
    (problem,) = problems(mapping(v={"type": "string", "pattern": pattern}), f"v: {value}\n")
    assert (problem.line, problem.column, problem.path) == (1, 4, "v")
    assert problem.message.startswith(message)


def test_property_names_are_checked_in_words():
    schema = mapping(names={"type": "object", "propertyNames": ID})
    found = problems(schema, "names:\n  ok: 1\n  Bad: 2\n  Worse: 3\n")
    assert [p.message for p in found] == [
        "'Bad' is not a lower-case identifier such as 'first_choice' (letters, digits, _)",
        "'Worse' is not a lower-case identifier such as 'first_choice' (letters, digits, _)",
    ]


def test_a_bad_property_name_is_located_at_its_key():
    schema = mapping(names={"type": "object", "propertyNames": ID})
    (problem,) = problems(schema, "names:\n  ok: 1\n  Bad: 2\n")
    assert (problem.line, problem.column) == (3, 3)


@pytest.mark.parametrize(
    ("keyword", "n", "value", "message"),
    [
        ("minItems", 1, "[]", "expected at least 1 item"),
        ("minItems", 2, "[a]", "expected at least 2 items"),
        ("minProperties", 1, "{}", "expected at least 1 entry"),
        ("minLength", 1, "''", "expected at least 1 character"),
        ("minLength", 4, "abc", "expected at least 4 characters"),
    ],
)
def test_at_least(keyword, n, value, message):
    assert rendered(mapping(v={keyword: n}), f"v: {value}\n") == [f"f.yaml:1:4: v: {message}"]


def test_at_least_several_entries():
    assert rendered(mapping(v={"minProperties": 3}), "v: {a: 1}\n") == ["f.yaml:1:4: v: expected at least 3 entries"]


def test_max_properties_lists_the_keys_found():
    schema = mapping(v={"type": "object", "maxProperties": 1}, w={"type": "object", "maxProperties": 2})
    assert rendered(schema, "v: {a: 1, b: 2}\nw: {a: 1, b: 2, c: 3}\n") == [
        "f.yaml:1:4: v: expected exactly 1 key here, found 2: a, b",
        "f.yaml:2:4: w: expected exactly 2 keys here, found 3: a, b, c",
    ]


def test_minimum_and_maximum():
    schema = mapping(n={"type": "number", "minimum": 1, "maximum": 5})
    assert rendered(schema, "n: 0\n") == ["f.yaml:1:4: n: expected at least 1, got 0"]
    assert rendered(schema, "n: 9.5\n") == ["f.yaml:1:4: n: expected at most 5, got 9.5"]


def test_unique_items():
    assert rendered(mapping(xs={"type": "array", "uniqueItems": True}), "xs: [a, b, a]\n") == [
        "f.yaml:1:5: xs: the items must not repeat"
    ]


# --- anyOf: what the alternatives mean ----------------------------------------------------


def test_any_of_required_keys_names_the_keys():
    schema = mapping(action={"type": "object", "anyOf": [{"required": ["recommend"]}, {"required": ["avoid"]}]})
    assert rendered(schema, "action: {explain: x}\n") == [
        "f.yaml:1:9: action: expected one of the keys: recommend, avoid"
    ]


OPS = {"type": "object", "additionalProperties": False, "properties": {"lt": {"type": "number"}, "in": {}}}
CONSTRAINT = {"anyOf": [{"type": ["string", "number", "boolean", "null"]}, {"type": "array"}, OPS]}


def test_any_of_with_a_mapping_reports_inside_the_mapping_branch():
    schema = mapping(c=CONSTRAINT)
    # a typo'd operator: the mapping branch's own problem, with a suggestion
    assert rendered(schema, "c: {lte: 3}\n") == [
        "f.yaml:1:5: c.lte: unknown key 'lte'; expected one of: lt, in; did you mean 'lt'?"
    ]
    # a wrong operand: located at the operand
    assert rendered(schema, "c: {lt: big}\n") == ["f.yaml:1:9: c.lt: expected a number, got text 'big'"]
    assert problems(schema, "c: {lt: 3}\n") == problems(schema, "c: [a]\n") == []


def test_any_of_of_a_number_or_a_variable():
    schema = mapping(gt={"anyOf": [{"type": "number"}, VAR]})
    assert rendered(schema, "gt: high\n") == [
        "f.yaml:1:5: gt: expected a number or a variable such as '$site', got text 'high'"
    ]
    assert problems(schema, "gt: $x\n") == []


@pytest.mark.parametrize(
    ("branches", "value", "words"),
    [
        ([{"type": "number"}, {"type": "array"}], "{a: 1}", "a number or a list of values, got a mapping {'a': 1}"),
        (
            [{"type": "number"}, {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["c"]}],
            "x",
            "a number or a mapping of a/b, got text 'x'",
        ),
        ([{"type": "integer"}, {"type": "boolean"}], "x", "a whole number or true or false, got text 'x'"),
        ([{"type": "integer"}, {"enum": [1]}], "x", "a whole number or a value, got text 'x'"),
        ([{"type": "integer"}, {"pattern": "^zz$"}], "x", "a whole number or text, got text 'x'"),
        ([{"type": ["string", "number", "null"]}, {"type": "array"}], "{}", "a plain value or a list of values"),
        ([{"type": ["integer", "null"]}, {"type": "boolean"}], "x", "a whole number or null or true or false"),
    ],
)
def test_any_of_describes_each_branch(branches, value, words):
    (problem,) = problems(mapping(v={"anyOf": branches}), f"v: {value}\n")
    assert (problem.line, problem.column) == (1, 4)
    assert problem.message.startswith(f"expected {words}")


# --- the list as a whole -----------------------------------------------------------------


def test_problems_are_sorted_by_place_whatever_the_schema_order():
    schema = {
        "type": "object",
        "properties": {"z": {"type": "string"}, "a": {"type": "string"}},
        "required": ["zz"],
    }
    found = problems(schema, "a: 1\nz: 2\n")
    assert [(p.line, p.column) for p in found] == [(1, 1), (1, 4), (2, 4)]
    assert [p.path for p in found] == ["", "a", "z"]


def test_the_same_problem_is_reported_once():
    # jsonschema reports each missing key as its own error, each listing every key required
    schema = {"type": "object", "required": ["a", "b"]}
    found = problems(schema, "c: 1\n")
    assert [p.message for p in found] == ["missing required key 'a'", "missing required key 'b'"]


def test_root_checks_part_of_a_document_and_keeps_full_paths():
    text = "other: 1\npart:\n  items: [x, 5]\n"
    schema = mapping(items={"type": "array", "items": {"type": "string"}})
    assert rendered(schema, text, root=("part",)) == ["f.yaml:3:14: part.items[1]: expected text, got a number 5"]
    assert rendered({"type": "string"}, text, root=("part", "items", 0)) == []


def test_a_problem_deep_in_a_list_is_located_at_that_item():
    schema = {"type": "array", "items": mapping(type={"enum": ["boxcar"]})}
    (problem,) = problems(schema, "- type: boxcar\n- type: bocar\n")
    assert (problem.line, problem.column, problem.path) == (2, 9, "[1].type")
    assert problem.message.endswith("did you mean 'boxcar'?")


# --- words for values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (None, "null"),
        (True, "true/false"),
        (3, "a number"),
        (2.5, "a number"),
        ("x", "text"),
        ([1], "a list"),
        ({}, "a mapping"),
        (datetime.date(2020, 1, 1), "date"),  # YAML reads an unquoted date as one
    ],
)
def test_type_word(value, word):
    assert type_word(value) == word


def test_short():
    assert short("abc") == "'abc'"
    assert short("x" * 58) == "'" + "x" * 58 + "'"  # 60 characters with the quotes
    assert short("x" * 59) == "'" + "x" * 56 + "..."
    assert len(short(list(range(100)))) == 60


def test_a_key_of_the_wrong_type_is_located_at_the_key():
    schema = mapping(names={"type": "object", "propertyNames": {"type": "string", "maxLength": 3}})
    (problem,) = problems(schema, "names:\n  ok: 1\n  toolong: 2\n")
    assert (problem.line, problem.column, problem.path) == (3, 3, "names.toolong")
    assert problem.message.startswith("the key 'toolong' is not a valid name")
