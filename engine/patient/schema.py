"""The patient file's one set of input rules: a JSON Schema, and a fast yes derived from it.

The patient file's shape comes from the knowledge base's templates, and its rules
are written down once, as the JSON Schema that :func:`patient_schema` builds. Two
things read that schema:

* jsonschema (through :mod:`..documents.validate`), which finds every error and
  words it for a person; and
* :func:`compile_schema`, which turns it into a small evaluator of exactly the
  keywords ``patient_schema`` emits, answering only "certainly valid" or "not sure"
  (:func:`conforms` asks it).

The second exists because importing and running jsonschema is most of a cold
consultation's time, while almost every patient file is well formed. It used to be
a separate hand-written check over the templates, and the two drifted apart (a
list of numbers passed it where the schema wanted text). Deriving the fast check
from the same schema dict leaves one source for every input rule: any keyword the
evaluator does not know makes it answer "not sure", so it can never accept what
the schema rejects, and a "not sure" only costs the real validator's time.

The evaluator follows Draft 2020-12 as the installed jsonschema implements it:
``integer`` accepts 3.0, booleans are neither numbers nor integers, ``enum`` and
``uniqueItems`` tell ``true`` from ``1`` (but not ``1`` from ``1.0``), and
``minimum``/``maximum``/``items``/``required``/... apply only to instances of
their own type. Non-finite numbers are judged as jsonschema judges them (NaN
passes bounds); the reader rejects them separately.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..knowledge.model import FieldSpec, KnowledgeBase, Template

Check = Callable[[Any], bool]

# --- the schema -------------------------------------------------------------


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    if spec.type == "list":
        items: dict[str, Any] = {"enum": list(spec.allowed)} if spec.allowed else {"type": "string"}
        return {"type": "array", "items": items, "uniqueItems": True, "description": spec.description}
    schema: dict[str, Any] = {"description": spec.description}
    if spec.allowed is not None:
        schema["enum"] = [*spec.allowed, *([None] if spec.nullable else [])]
        return schema
    schema["type"] = [spec.type, "null"] if spec.nullable else spec.type
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    return schema


def _template_schema(template: Template) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name, spec in template.fields.items() if spec.required],
        "properties": {name: _field_schema(spec) for name, spec in template.fields.items()},
    }


def patient_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON Schema of a patient file for this knowledge base (a fresh dict each call)."""
    properties: dict[str, Any] = {}
    required = []
    for template in kb.input_templates():
        assert template.input is not None
        one = _template_schema(template)
        if template.input.many:
            properties[template.input.key] = {
                "type": "array",
                "items": one,
                "minItems": template.input.min_items,
                **({"maxItems": template.input.max_items} if template.input.max_items else {}),
            }
            if template.input.min_items:
                required.append(template.input.key)
        else:
            properties[template.input.key] = one
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"patient file for {kb.name}",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


# --- the fast yes -------------------------------------------------------------


class _Unsure(Exception):
    """Raised deep inside a comparison the evaluator will not vouch for."""


class _Unknown(Exception):
    """Raised while compiling a schema that uses something this evaluator does not know."""


# Only values a JSON or safe-YAML document yields in the ordinary way are judged;
# anything else (dates, bytes, tuples, subclasses) gets "not sure".
_PLAIN = frozenset({dict, list, str, int, float, bool, type(None)})

_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: v is True or v is False,
    # Draft 4 onwards: a float with no fractional part is an integer; bool is not.
    "integer": lambda v: (type(v) is int) or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "string": lambda v: type(v) is str,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}

# Keywords that only annotate: they never change a verdict.
_ANNOTATIONS = frozenset({"$schema", "title", "description"})


def _never(value: Any) -> bool:
    return False


def _is_bound(value: Any) -> bool:
    return type(value) in (int, float)


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's ``_utils.equal``: ``==`` except that a boolean equals only itself."""
    if one is two:
        return True
    if type(one) not in _PLAIN or type(two) not in _PLAIN:
        raise _Unsure
    if type(one) is str or type(two) is str:
        return one == two
    if type(one) is list and type(two) is list:
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if type(one) is dict and type(two) is dict:
        return len(one) == len(two) and all(key in two and _equal(value, two[key]) for key, value in one.items())
    if type(one) is bool or type(two) is bool:
        return False  # the same boolean was caught by ``is`` above
    return bool(one == two)


# A scalar's identity under :func:`_equal`: tagging booleans apart keeps true from
# 1, while 1 and 1.0 share a key, and a NaN matches only itself, as a tuple compares
# its members by identity before equality.
_SCALAR_TAGS = {str: "s", int: "n", float: "n", bool: "b", type(None): "z"}


def _unique(items: list[Any]) -> bool:
    """Whether no two items are :func:`_equal`.

    jsonschema's ``uniq`` sorts and compares neighbours, which can miss a repeat
    when Python's ordering disagrees with ``equal`` (NaN; ``[1]`` beside
    ``[true]``). Comparing every pair never misses one, so this is at worst
    stricter, never looser. Lists of scalars, the usual case, take a set.
    """
    if all(type(item) in _SCALAR_TAGS for item in items):
        return len({(_SCALAR_TAGS[type(item)], item) for item in items}) == len(items)
    return not any(_equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def _compile(schema: Any) -> Check:
    """A yes/no function for ``schema``; :class:`_Unknown` if any part of it is not understood."""
    if type(schema) is not dict:
        raise _Unknown(f"a schema that is not a mapping: {schema!r}")  # e.g. a boolean schema
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        check = _keyword(keyword, value, schema)
        if check is None:
            raise _Unknown(f"keyword {keyword!r} with value {value!r}")
        checks.append(check)

    def fits(instance: Any) -> bool:
        if type(instance) not in _PLAIN:
            return False
        return all(check(instance) for check in checks)

    return fits


def _keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
    """The check for one keyword, or None when it is one this evaluator does not know."""
    if keyword == "type":
        names = value if type(value) is list else [value]
        if not names or not all(type(name) is str and name in _TYPES for name in names):
            return None
        predicates = [_TYPES[name] for name in names]
        return lambda v: any(p(v) for p in predicates)
    if keyword == "enum":
        if type(value) is not list:
            return None
        options = list(value)
        return lambda v: any(_equal(option, v) for option in options)
    if keyword in ("minimum", "maximum"):
        if not _is_bound(value):
            return None
        is_number = _TYPES["number"]
        if keyword == "minimum":
            return lambda v: not is_number(v) or not v < value
        return lambda v: not is_number(v) or not v > value
    if keyword == "minItems":
        if type(value) is not int or value < 0:
            return None
        return lambda v: type(v) is not list or len(v) >= value
    if keyword == "maxItems":
        if type(value) is not int or value < 0:
            return None
        return lambda v: type(v) is not list or len(v) <= value
    if keyword == "uniqueItems":
        if type(value) is not bool:
            return None
        if not value:
            return lambda v: True
        return lambda v: type(v) is not list or _unique(v)
    if keyword == "items":
        item = _compile(value)
        return lambda v: type(v) is not list or all(item(x) for x in v)
    if keyword == "required":
        if type(value) is not list or not all(type(name) is str for name in value):
            return None
        names = list(value)
        return lambda v: type(v) is not dict or all(name in v for name in names)
    if keyword == "properties":
        if type(value) is not dict:
            return None
        subs = {name: _compile(sub) for name, sub in value.items()}
        return lambda v: type(v) is not dict or all(sub(v[name]) for name, sub in subs.items() if name in v)
    if keyword == "additionalProperties":
        if value is True:
            return lambda v: True
        if value is not False:
            return None  # a subschema for the extras: not emitted, so not handled
        known = schema.get("properties", {})
        if type(known) is not dict:
            return None
        names = frozenset(known)
        return lambda v: type(v) is not dict or all(key in names for key in v)
    return None


def compile_schema(schema: dict[str, Any]) -> Check:
    """A fast yes/no for ``schema``: True only where jsonschema would accept.

    False means "not sure" as often as "invalid": ask the real validator. A schema
    using any keyword (or keyword value) outside the handful handled here, anywhere
    in it, gives a check that is never sure.
    """
    try:
        inner = _compile(schema)
    except _Unknown:
        return _never

    def check(instance: Any) -> bool:
        try:
            return inner(instance)
        except (_Unsure, RecursionError):
            return False

    return check


@dataclass(frozen=True)
class Derived:
    """A knowledge base's patient schema and the fast check compiled from it."""

    schema: dict[str, Any]
    conforms: Check


_derived: dict[int, tuple[weakref.ref[KnowledgeBase], Derived]] = {}


def derived(kb: KnowledgeBase) -> Derived:
    """The schema and its fast check for ``kb``, built once per knowledge base object.

    A batch reads many patient files against one knowledge base; rebuilding the
    schema per record would cost more than the check saves. The cache holds the
    knowledge base weakly and forgets it when it is gone.
    """
    key = id(kb)
    entry = _derived.get(key)
    if entry is not None and entry[0]() is kb:
        return entry[1]
    schema = patient_schema(kb)
    made = Derived(schema, compile_schema(schema))
    _derived[key] = (weakref.ref(kb, partial(_forget, key)), made)
    return made


def _forget(key: int, ref: weakref.ref[KnowledgeBase]) -> None:
    entry = _derived.get(key)
    if entry is not None and entry[0] is ref:
        del _derived[key]


def conforms(data: Any, kb: KnowledgeBase) -> bool:
    """Whether ``data`` is certainly a valid patient file for ``kb`` (False: ask jsonschema)."""
    return derived(kb).conforms(data)
