"""The patient file's fast check must agree with its JSON Schema.

A well-formed patient file skips jsonschema (the import is most of a cold
start), so the fast check is the validator for those files. It is compiled from
the very schema dict jsonschema is given; these tests hold it to jsonschema's
verdict on documents built to sit near the schema's edges (wrong types, booleans
for numbers, 3.0 for an integer, null, repeats in lists, unknown and missing
keys) and on arbitrary JSON-like values. Once it accepted a list of numbers where
the schema wanted text, and the consultation went ahead; the first test keeps
that from coming back.
"""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.documents import yamlio
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import FieldSpec, KnowledgeBase, Template
from cicatrix.engine.patient import reader
from cicatrix.engine.patient.schema import compile_schema, conforms, derived, patient_schema

from ...conftest import EXAMPLES, MANIFEST, ONE_RULE, TEMPLATES, TREATMENTS

# The test templates plus free-form fields: a list and a string without allowed
# values, and an unbounded number, which the bundled knowledge base lacks.
FREE_FIELDS = """\
      tags: {type: list, default: []}
      note: {type: string, nullable: true, default: null}
      score: {type: number, default: 0}
"""
FREE_TEMPLATES = TEMPLATES.replace(
    "      conditions: {type: list, allowed: [eczema, rosacea], default: []}\n",
    "      conditions: {type: list, allowed: [eczema, rosacea], default: []}\n" + FREE_FIELDS,
)
assert FREE_TEMPLATES != TEMPLATES


def _write_kb(root: Path) -> Path:
    (root / "rules").mkdir(parents=True)
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(FREE_TEMPLATES)
    (root / "treatments.yaml").write_text(TREATMENTS)
    (root / "rules" / "rules.yaml").write_text(ONE_RULE)
    return root


@pytest.fixture(scope="module")
def free_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load(_write_kb(tmp_path_factory.mktemp("free-kb")))


# --- the regression ------------------------------------------------------------


def test_list_without_allowed_values_rejects_non_text(make_kb, tmp_path: Path) -> None:
    kb = load(make_kb(ONE_RULE, templates=FREE_TEMPLATES))
    path = tmp_path / "p.yaml"
    path.write_text("patient:\n  tags: [5, true]\nscars:\n  - type: boxcar\n")
    assert not conforms(yamlio.read(path).data, kb)
    with pytest.raises(CicatrixError) as caught:
        reader.read(path, kb)
    assert caught.value.exit_code == 2
    text = str(caught.value)
    assert "p.yaml:2:10: patient.tags[0]" in text and "expected text, got a number 5" in text
    assert "p.yaml:2:13: patient.tags[1]" in text and "expected text, got true" in text


def test_list_without_allowed_values_accepts_text(free_kb: KnowledgeBase) -> None:
    data = {"patient": {"tags": ["a", "b"], "note": None, "score": -2.5}, "scars": [{"type": "boxcar"}]}
    assert conforms(data, free_kb)
    assert reader.from_data(data, free_kb).normalised["patient"]["tags"] == ["a", "b"]


def test_every_example_takes_the_fast_path(kb: KnowledgeBase) -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert conforms(yamlio.read(path).data, kb), path


def test_the_schema_is_built_once_per_knowledge_base(kb: KnowledgeBase) -> None:
    assert derived(kb) is derived(kb)
    assert derived(kb).schema == patient_schema(kb)


def test_the_cache_lets_a_knowledge_base_go(tmp_path: Path) -> None:
    kb = load(_write_kb(tmp_path / "kb"))
    derived(kb)
    gone = weakref.ref(kb)
    del kb
    gc.collect()
    assert gone() is None


# --- the evaluator, keyword by keyword ------------------------------------------

NAN = math.nan
CASES: list[tuple[dict[str, Any], Any]] = [
    ({"type": "integer"}, 3),
    ({"type": "integer"}, 3.0),  # a whole float is an integer from draft 4 on
    ({"type": "integer"}, 3.5),
    ({"type": "integer"}, True),  # a boolean is not a number
    ({"type": "integer"}, math.inf),
    ({"type": "number"}, False),
    ({"type": "number"}, 2**80),
    ({"type": ["integer", "null"]}, None),
    ({"type": ["integer", "null"]}, "1"),
    ({"type": "boolean"}, 0),
    ({"type": "string"}, ""),
    ({"type": "array"}, {}),
    ({"type": "object"}, []),
    ({"enum": ["a", None]}, None),
    ({"enum": [1]}, True),  # enum tells true from 1 ...
    ({"enum": [1]}, 1.0),  # ... but not 1 from 1.0
    ({"enum": [True]}, 1),
    ({"enum": [[1, "a"]]}, [1.0, "a"]),
    ({"enum": [[1]]}, [True]),
    ({"enum": [{"a": 1}]}, {"a": 1.0}),
    ({"minimum": 0}, -1),
    ({"minimum": 0}, "-1"),  # bounds apply to numbers only
    ({"minimum": 0}, NAN),  # NaN is below nothing
    ({"maximum": 1.5}, 1.5),
    ({"maximum": 1.5}, math.inf),
    ({"uniqueItems": True}, [1, True]),
    ({"uniqueItems": True}, [1, 1.0]),
    ({"uniqueItems": True}, [0, False, None, "0"]),
    ({"uniqueItems": True}, [[1], [True]]),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}]),
    ({"uniqueItems": True}, "aa"),
    ({"uniqueItems": False}, [1, 1]),
    ({"minItems": 1}, []),
    ({"minItems": 1}, {}),
    ({"items": {"type": "string"}}, ["a", 5]),
    ({"items": {"type": "string"}}, "not a list"),
    ({"required": ["a"]}, {"b": 1}),
    ({"required": ["a"]}, ["a"]),
    ({"properties": {"a": {"type": "string"}}}, {"a": 1}),
    ({"properties": {"a": {"type": "string"}}}, {"b": 1}),
    ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}),
    ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1}),
    ({"additionalProperties": False}, {1: 1}),
    ({"title": "t", "description": "d", "$schema": "x"}, object()),
]


@pytest.mark.parametrize(("schema", "instance"), CASES, ids=[repr(c) for c in CASES])
def test_each_keyword_as_jsonschema_reads_it(schema: dict[str, Any], instance: Any) -> None:
    expected = Draft202012Validator(schema).is_valid(instance)
    fast = compile_schema(schema)(instance)
    if type(instance) is object:
        assert expected and not fast  # not plain data: never vouched for
    else:
        assert fast == expected


@pytest.mark.parametrize(
    "instance",
    [
        [1, math.nan, 1],  # NaN upsets the sort, so the two 1s never meet
        [[1], [True], [1]],  # [1] and [True] sort as equal, so the two [1]s never meet
    ],
    ids=repr,
)
def test_repeats_jsonschema_misses_are_not_vouched_for(instance: list[Any]) -> None:
    """jsonschema's ``uniq`` sorts and compares neighbours; the fast check compares
    every pair. Where they differ the fast check is the stricter, which only costs
    a trip to the real validator. (A patient file's lists hold text, where the two
    agree.)"""
    schema = {"uniqueItems": True}
    assert Draft202012Validator(schema).is_valid(instance)
    assert not compile_schema(schema)(instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a"},
        {"type": "array", "items": {"maxLength": 1}},
        {"properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {}}},
        {"type": "array", "items": True},
        {"additionalProperties": {"type": "string"}},
        {"type": "date"},
        {"minimum": "0"},
    ],
)
def test_anything_unknown_is_never_sure(schema: dict[str, Any]) -> None:
    check = compile_schema(schema)
    for instance in ("a", [], ["a"], {}, {"a": "a"}, 1):
        assert not check(instance)


# --- generated schemas and documents ---------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)
# Values that sit on a type boundary for one field or another.
TRICKY = st.sampled_from([None, True, False, 0, 1, -1, 3, 3.0, 3.5, -0.0, 1e300, "", "3", "true", [], {}, ["x"]])


TYPE_NAMES = ("null", "boolean", "integer", "number", "string", "array", "object")
BOUNDS = st.integers(-5, 5) | st.floats(-5, 5)
NAMES = st.sampled_from("abc")


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    """Any schema built from the keywords the fast check knows, nested."""
    leaf = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(TYPE_NAMES) | st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3),
            "enum": st.lists(SCALARS | st.lists(SCALARS, max_size=2), min_size=1, max_size=4),
            "minimum": BOUNDS,
            "maximum": BOUNDS,
            "uniqueItems": st.booleans(),
            "minItems": st.integers(0, 3),
            "required": st.lists(NAMES, max_size=2, unique=True),
            "description": st.text(max_size=3),
        },
    )
    return st.recursive(
        leaf,
        lambda inner: st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(TYPE_NAMES),
                "items": inner,
                "properties": st.dictionaries(NAMES, inner, max_size=3),
                "additionalProperties": st.booleans(),
                "uniqueItems": st.booleans(),
                "required": st.lists(NAMES, max_size=2, unique=True),
            },
        ),
        max_leaves=6,
    )


INSTANCES = st.recursive(
    SCALARS | st.sampled_from([True, False, 1, 0, 1.0, 0.0]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abcd"), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(schema=_schemas(), instance=INSTANCES)
def test_fast_check_never_accepts_what_jsonschema_rejects(schema: dict[str, Any], instance: Any) -> None:
    """Over any schema of its keywords, not just the patient file's. Agreement is
    exact but for the repeats above, hence only the one direction is asserted."""
    expected = Draft202012Validator(schema).is_valid(instance)
    event("valid" if expected else "invalid")
    assert expected or not compile_schema(schema)(instance)


def _good(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Values the field accepts, 3.0 for an integer among them."""
    if spec.type == "list":
        item = st.sampled_from(spec.allowed) if spec.allowed else st.text(max_size=3)
        return st.lists(item, max_size=4, unique=True)
    if spec.allowed is not None:
        return st.sampled_from([*spec.allowed, *([None] if spec.nullable else [])])
    lo = spec.minimum if spec.minimum is not None else -1000
    hi = spec.maximum if spec.maximum is not None else 1000
    if spec.type == "integer":
        whole = st.integers(math.ceil(lo), math.floor(hi))
        values = whole | whole.map(float)
    elif spec.type == "number":
        values = st.integers(math.ceil(lo), math.floor(hi)) | st.floats(lo, hi)
    elif spec.type == "boolean":
        values = st.booleans()
    else:
        values = st.text(max_size=6)
    return (values | st.none()) if spec.nullable else values


def _near(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """The nearest misses: a repeat in a list, one past a bound, 3.5 for an integer, a
    boolean for a number or 1 for a boolean, NaN, the wrong case of an allowed word."""
    if spec.type == "list":
        item = st.sampled_from(spec.allowed) if spec.allowed else st.text(max_size=3)
        return st.lists(item, min_size=2, max_size=4) | st.lists(item | TRICKY, min_size=1, max_size=4)
    if spec.allowed:
        return st.sampled_from([str(a).upper() for a in spec.allowed] + [None, True, 1])
    lo = spec.minimum if spec.minimum is not None else -1000
    hi = spec.maximum if spec.maximum is not None else 1000
    if spec.type in ("integer", "number"):
        misses = [lo - 1, hi + 1, lo - 0.5, hi + 0.5, lo + 0.5, True, False, None, str(lo)]
        return st.sampled_from([*misses, math.nan, math.inf, -math.inf])  # NaN passes any bound
    if spec.type == "boolean":
        return st.sampled_from([0, 1, "true", None])
    return st.sampled_from([1, None, True, ["a"]])


def _bad(spec: FieldSpec) -> st.SearchStrategy[Any]:
    return _near(spec) | TRICKY | JSONISH


_FIELD_STRATEGIES: dict[int, tuple[FieldSpec, st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {}


def _values(spec: FieldSpec, bad: bool) -> st.SearchStrategy[Any]:
    """The field's good or bad values, built once per field (building is most of a draw's time)."""
    entry = _FIELD_STRATEGIES.get(id(spec))
    if entry is None or entry[0] is not spec:
        entry = _FIELD_STRATEGIES[id(spec)] = (spec, _good(spec), _bad(spec))
    return entry[2] if bad else entry[1]


@st.composite
def _record(draw: st.DrawFn, template: Template, badness: int) -> Any:
    if draw(st.integers(0, 99)) < badness // 4:
        return draw(TRICKY)  # not a mapping at all
    record: dict[Any, Any] = {}
    for name, spec in template.fields.items():
        present = draw(st.booleans()) or (spec.required and draw(st.integers(0, 99)) >= badness // 2)
        if present:
            bad = draw(st.integers(0, 99)) < badness
            record[name] = draw(_values(spec, bad))
    if draw(st.integers(0, 99)) < badness // 2:
        record[draw(st.sampled_from([*template.fields, "x"]) | st.text(max_size=4)) + "_"] = draw(JSONISH)
    return record


@st.composite
def patient_documents(draw: st.DrawFn, kb: KnowledgeBase) -> Any:
    """A patient document for ``kb``: valid, or wrong in a few places, or in many."""
    badness = draw(st.sampled_from([0, 0, 0, 2, 5, 10, 30, 100]))
    doc: dict[Any, Any] = {}
    for template in kb.input_templates():
        assert template.input is not None
        needed = template.input.many and template.input.min_items > 0
        if draw(st.integers(0, 99)) < (badness // 2 if needed else 20 + badness // 2):
            continue  # left out
        if template.input.many:
            if draw(st.integers(0, 99)) < badness // 4:
                doc[template.input.key] = draw(TRICKY)
            else:
                fewest = template.input.min_items if draw(st.integers(0, 99)) >= badness else 0
                doc[template.input.key] = draw(st.lists(_record(template, badness), min_size=fewest, max_size=3))
        else:
            doc[template.input.key] = draw(_record(template, badness))
    if draw(st.integers(0, 99)) < badness // 3:
        doc[draw(st.text(max_size=6))] = draw(JSONISH)
    return doc


@st.composite
def _documents(draw: st.DrawFn, kb: KnowledgeBase) -> Any:
    """Mostly patient documents; sometimes anything at all, or the right keys over anything."""
    pick = draw(st.integers(0, 9))
    if pick == 0:
        return draw(JSONISH)
    if pick == 1:
        keys = st.sampled_from([t.input.key for t in kb.input_templates() if t.input is not None])
        return draw(st.dictionaries(keys, JSONISH))
    return draw(patient_documents(kb))


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _agree(kb: KnowledgeBase, doc: Any, validator: Callable[[Any], bool]) -> None:
    expected = validator(doc)
    event("valid" if expected else "invalid")
    assert conforms(doc, kb) == expected, doc


# Drawing a whole patient document is most of each example's time; these counts
# keep the four generated tests near ten seconds together.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_check_agrees_with_jsonschema_on_the_bundled_kb(kb: KnowledgeBase, data: st.DataObject) -> None:
    validator = Draft202012Validator(patient_schema(kb))
    _agree(kb, data.draw(_documents(kb)), validator.is_valid)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_check_agrees_with_jsonschema_on_free_fields(free_kb: KnowledgeBase, data: st.DataObject) -> None:
    validator = Draft202012Validator(patient_schema(free_kb))
    _agree(free_kb, data.draw(_documents(free_kb)), validator.is_valid)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reader_gives_the_schemas_verdict(kb: KnowledgeBase, free_kb: KnowledgeBase, data: st.DataObject) -> None:
    """from_document accepts exactly what the schema accepts (and the non-finite check allows)."""
    which = data.draw(st.sampled_from([kb, free_kb]))
    doc = data.draw(_documents(which))
    expected = Draft202012Validator(patient_schema(which)).is_valid(doc) and _finite(doc)
    try:
        reader.from_data(doc, which)
    except CicatrixError as exc:
        assert not expected, str(exc)
        assert exc.problems
    else:
        assert expected, doc
