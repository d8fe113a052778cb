"""Checking a parsed document against a JSON Schema, in an author's words.

jsonschema finds every structural error at once; this module turns each into a
:class:`Problem` at the right line, with what was expected and, for a typo, the
closest allowed word. Messages are written for someone editing YAML, not for
someone reading JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..common.errors import Problem, did_you_mean, short
from .yamlio import Document

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}

_PATTERN_WORDS = {
    "^[a-z][a-z0-9_]*$": "a lower-case identifier such as 'first_choice' (letters, digits, _)",
    "^[a-z](_?[a-z0-9])*_?$": "a lower-case field name such as 'first_choice' (letters, digits, no '__')",
    "^[a-z0-9][a-z0-9_./-]*$": "a lower-case rule id such as 'group/first-choice'",
    "^\\$[a-z_][a-z0-9_]*$": "a variable such as '$site'",
    "^(\\$[a-z_][a-z0-9_]*|[a-z][a-z0-9_]*)$": "a treatment id such as 'first_choice' or a variable",
    "^[^#\\s]+(#[^\\s]+)?$": "a source such as 'file.txt' or 'file.txt#section'",
    "^[a-z][a-z0-9_-]*$": "a lower-case id such as 'act-now' (letters, digits, - and _)",
}


def type_word(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _got(value: Any) -> str:
    """The offending value as a reader of the YAML would write it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{type_word(value)} {short(value)}"


def _validator(schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator  # imported lazily: only loading needs it

    return Draft202012Validator(schema)


def check(doc: Document, schema: dict[str, Any], root: tuple[Any, ...] = ()) -> list[Problem]:
    """All problems of ``doc`` (or of its part at ``root``) against ``schema``."""
    instance = doc.data
    for part in root:
        instance = instance[part]
    problems: list[Problem] = []
    for error in _validator(schema).iter_errors(instance):
        problems.extend(_convert(doc, error, root))
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for p in sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.path, p.message)):
        key = (p.line, p.column, p.path, p.message)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _convert(doc: Document, error: Any, root: tuple[Any, ...]) -> Iterator[Problem]:
    """One jsonschema error as problems in an author's words (one handler per keyword)."""
    path = (*root, *error.absolute_path)
    if "propertyNames" in error.schema_path:  # jsonschema checks a key as if it were a value of the mapping
        yield doc.problem((*path, error.instance), _key_problem(error), key=True)
        return
    handler = _HANDLERS.get(error.validator)
    if handler is None:  # pragma: no cover - a keyword the schemas do not use
        yield doc.problem(path, error.message)
        return
    yield from handler(doc, error, path, root)


def _additional_properties(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    value, schema = error.instance, error.schema
    if not isinstance(value, dict):
        yield doc.problem(path, error.message)
        return
    allowed = list(schema.get("properties", {}))
    for key in value:
        if key in allowed:
            continue
        if allowed:
            expected = "expected one of: " + ", ".join(allowed)
            hint = did_you_mean(key, allowed)
            yield doc.problem((*path, key), f"unknown key {short(key)}; {expected}{hint}", key=True)
        else:
            yield doc.problem((*path, key), f"unknown key {short(key)}", key=True)


def _required(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    for name in error.validator_value:
        if isinstance(error.instance, dict) and name not in error.instance:
            yield doc.problem(path, f"missing required key {name!r}")


def _enum(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    options = error.validator_value
    yield doc.problem(
        path,
        f"{short(error.instance)} is not allowed; expected one of: "
        + ", ".join("null" if o is None else str(o) for o in options)
        + did_you_mean(error.instance, [o for o in options if o is not None]),
    )


def _type(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    wanted = error.validator_value
    wanted = wanted if isinstance(wanted, list) else [wanted]
    words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
    yield doc.problem(path, f"expected {words}, got {_got(error.instance)}")


def _pattern(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    words = _PATTERN_WORDS.get(error.validator_value, f"text matching {error.validator_value}")
    yield doc.problem(path, f"{short(error.instance)} is not {words}")


def _key_problem(error: Any) -> str:
    """What is wrong with a mapping key (jsonschema's propertyNames)."""
    if error.validator == "pattern":
        return f"{error.instance!r} is not " + _PATTERN_WORDS.get(error.validator_value, "a valid name")
    return f"the key {short(error.instance)} is not a valid name: {error.message}"


def _at_least(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    one, many = {
        "minItems": ("item", "items"),
        "minProperties": ("entry", "entries"),
        "minLength": ("character", "characters"),
    }[error.validator]
    n = error.validator_value
    yield doc.problem(path, f"expected at least {n} {one if n == 1 else many}")


def _max_items(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    n, value = error.validator_value, error.instance
    yield doc.problem(path, f"expected at most {n} item{'s' if n != 1 else ''}, got {len(value)}")


def _max_properties(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    n, value = error.validator_value, error.instance
    keys = ", ".join(map(str, value)) if isinstance(value, dict) else ""
    yield doc.problem(path, f"expected exactly {n} key{'s' if n != 1 else ''} here, found {len(value)}: {keys}")


def _bound(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    bound = "at least" if error.validator == "minimum" else "at most"
    yield doc.problem(path, f"expected {bound} {error.validator_value}, got {short(error.instance)}")


def _unique_items(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    yield doc.problem(path, "the items must not repeat")


def _convert_any_of(doc: Document, error: Any, path: tuple[Any, ...], root: tuple[Any, ...]):
    value = error.instance
    branches = error.validator_value
    if all(set(b) == {"required"} for b in branches):
        names = [b["required"][0] for b in branches]
        yield doc.problem(path, "expected one of the keys: " + ", ".join(names))
        return
    # A mapping with a typo in an operator should say which operator was meant:
    # report the errors inside the mapping branch rather than "none matched".
    if isinstance(value, dict):
        for i, branch in enumerate(branches):
            if "properties" in branch:
                subs = [sub for sub in error.context if sub.relative_schema_path[0] == i]
                if subs:
                    for sub in subs:
                        yield from _convert(doc, sub, root)
                    return
    words = []
    for branch in branches:
        words.append(_describe(branch))
    yield doc.problem(path, f"expected {' or '.join(words)}, got {_got(value)}")


def _describe(schema: dict[str, Any]) -> str:
    if "pattern" in schema:
        return _PATTERN_WORDS.get(schema["pattern"], "text")
    wanted = schema.get("type")
    if wanted is None:
        return "a value"
    wanted = wanted if isinstance(wanted, list) else [wanted]
    if wanted == ["object"] and "properties" in schema:
        return "a mapping of " + "/".join(schema["properties"])
    if wanted == ["array"]:
        return "a list of values"
    if set(wanted) >= {"string", "number"}:
        return "a plain value"
    return " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)


_HANDLERS = {
    "additionalProperties": _additional_properties,
    "required": _required,
    "enum": _enum,
    "type": _type,
    "pattern": _pattern,
    "minItems": _at_least,
    "minProperties": _at_least,
    "minLength": _at_least,
    "maxProperties": _max_properties,
    "maxItems": _max_items,
    "minimum": _bound,
    "maximum": _bound,
    "uniqueItems": _unique_items,
    "anyOf": lambda doc, error, path, root: _convert_any_of(doc, error, path, root),
}
