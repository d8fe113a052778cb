"""What a trace file must hold before any answer reads it: its shape and its references.

A trace is read long after it was written, perhaps by hand-edited or damaged
bytes, and ``trace show | how | why-not | replay`` index it freely (a firing's
matched facts, a derived fact's firing, a problem's input items). Checking it
once, here, fully, lets every reader trust it:

- its **shape** against a JSON Schema per format version (:func:`schema`), written
  from what :func:`.tracefile.to_dict` produces and what the readers use; new keys
  may be added within a version, so unknown keys are allowed everywhere;
- its **references** (:func:`references`): fact ids are unique and every fact a
  firing matched, asserted or found already known exists; sequence numbers
  increase; every rule a firing or a derived fact names is among the trace's
  rules; a fact's values fit its template's fields; the plan's problems index
  existing input items; the result's and the plan's ids are unique and name
  known treatments, rules and options.

A good trace costs one pass of a compiled check (:func:`conforms`) and one over
its records. Only a damaged one pays for the explanation: jsonschema on the
parts that fail (:func:`failing`), through :func:`..documents.validate.check`,
and the line and column of each value (:func:`document`); :func:`.tracefile.read`
puts the two together into located problems.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from ..common.errors import Problem, did_you_mean, short
from ..documents.limits import MAX_DEPTH
from ..documents.yamlio import Document, Mark
from ..knowledge.model import ACTION_KINDS, SEVERITIES, TIERS
from ..knowledge.wording import placeholders

PathKey = tuple[Any, ...]

MAX_SHOWN = 20  # problems reported for one trace; a trace damaged throughout says the first ones

# --- the shape: JSON Schema ------------------------------------------------------

_TEXT = {"type": "string"}
_ID = {"type": "string", "minLength": 1}
_IDS = {"type": "array", "items": _ID}
_TEXTS = {"type": "array", "items": _TEXT}
_INT = {"type": "integer"}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_VALUE = {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR}]}  # a fact's field, a binding, a scope value
_VALUES = {"type": "object", "additionalProperties": _VALUE}
_WORDS = {"type": "object", "additionalProperties": _TEXT}  # id -> words


def _when(key: str, values: list[str], then: dict[str, Any]) -> dict[str, Any]:
    """``then`` applies to an object whose ``key`` is one of ``values``."""
    return {"if": {"required": [key], "properties": {key: {"enum": values}}}, "then": then}


_FACT = {
    "type": "object",
    "required": ["id", "template", "values", "origin"],
    "properties": {
        "id": _ID,
        "template": _ID,
        "values": _VALUES,
        "origin": {"enum": ["input", "catalogue", "rule"]},
        "rule": _ID,
        "firing": {"type": "integer", "minimum": 1},
    },
    "allOf": [
        _when("origin", ["rule"], {"required": ["rule", "firing"]}),
        # the explanations follow a recommendation back through the treatment it names
        _when(
            "template",
            ["recommend", "avoid"],
            {"properties": {"values": {"required": ["treatment"], "properties": {"treatment": _ID}}}},
        ),
    ],
}

_ACTION = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": list(ACTION_KINDS)},
        "treatment": _ID,
        "text": _TEXT,
        "tier": {"enum": list(TIERS)},
        "targets": _TEXTS,
        "components": {**_IDS, "minItems": 1},
        "sequence": _TEXT,
        "fact": _ID,
        "same_as": _ID,
        "template": _TEXT,
        "labels": _WORDS,
        "alert": _ID,
        "severity": {"enum": list(SEVERITIES)},
        "constraint": _TEXT,
        "scope": _VALUES,
        "risk": {"type": "boolean"},
    },
    "allOf": [
        _when("kind", ["recommend", "avoid", "caution", "leave_out"], {"required": ["treatment"]}),
        _when("kind", ["recommend"], {"required": ["tier"]}),
        _when("kind", ["combine"], {"required": ["components", "tier"]}),
        _when("kind", ["alert"], {"required": ["alert", "severity"]}),
    ],
}

_FIRING = {
    "type": "object",
    "required": ["seq", "rule", "salience", "matched", "bindings", "asserted", "actions"],
    "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "rule": _ID,
        "salience": _INT,
        "matched": _IDS,
        "bindings": _VALUES,
        "asserted": _IDS,
        "actions": {"type": "array", "items": _ACTION},
    },
}

_TEST = {
    "type": "object",
    "required": ["op"],
    "properties": {
        "op": {"enum": ["eq", "any", "not", "contains", "lt", "lte", "gt", "gte", "bind"]},
        "var": _ID,
    },
    "allOf": [
        {"anyOf": [{"required": ["var"]}, {"required": ["value"]}]},
        _when("op", ["bind"], {"required": ["var"]}),
        _when("op", ["eq", "contains"], {"properties": {"value": _SCALAR}}),
        _when("op", ["any", "not"], {"properties": {"value": {"type": "array", "items": _SCALAR}}}),
        _when("op", ["lt", "lte", "gt", "gte"], {"properties": {"value": {"type": "number"}}}),
    ],
}

_PATTERN = {
    "type": "object",
    "required": ["template", "constraints"],
    "properties": {
        "template": _ID,
        "constraints": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "tests"],
                "properties": {"field": _ID, "tests": {"type": "array", "items": _TEST}},
            },
        },
    },
}

_CONCLUDES = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": list(ACTION_KINDS)},
        "target": _ID,
        "components": _IDS,
        "severity": _TEXT,
        "constraint": _TEXT,
        "scope": {"type": "object"},
        "risk": {"type": "boolean"},
        "template": _TEXT,
        "values": {"type": "object"},
    },
}

_RULE = {
    "type": "object",
    "required": ["title", "salience", "where", "sources", "when", "unless", "concludes"],
    "properties": {
        "title": _TEXT,
        "salience": _INT,
        "where": _TEXT,
        "sources": _TEXTS,
        # why-not searches a rule's patterns depth first: as many as data may nest
        "when": {"type": "array", "items": _PATTERN, "maxItems": MAX_DEPTH},
        "unless": {"type": "array", "items": _PATTERN, "maxItems": MAX_DEPTH},
        "concludes": {"type": "array", "items": _CONCLUDES},
    },
}

_TEMPLATE = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": _ID, "labels": _WORDS, "unit": _TEXT},
            },
        }
    },
}

_RECOMMENDATION = {
    "type": "object",
    "required": ["id", "title", "kind", "rank"],
    "properties": {
        "id": _ID,
        "title": _TEXT,
        "kind": _ID,
        "rank": _INT,
        "tier": _TEXT,
        "targets": _TEXTS,
        "rules": _IDS,
        "components": {**_IDS, "minItems": 1},
    },
    "allOf": [_when("kind", ["combination"], {"required": ["components"]})],
}


def _entry(*required: str, **properties: Any) -> dict[str, Any]:
    """An entry of one of the result's lists: an id, a title and the rules behind it."""
    props = {"id": _ID, "title": _TEXT, "reason": _TEXT, "rules": _IDS, "sources": _TEXTS, **properties}
    return {"type": "object", "required": ["id", *required], "properties": props}


_PROBLEM = {  # the keys besides these: the list of the problem's input items, by position
    "type": "object",
    "required": ["id", "title", "kind", "choice", "alternatives", "adjuncts", "why", "ruled_out"],
    "properties": {
        "id": _ID,
        "title": _TEXT,
        "kind": _TEXT,
        "region": {"type": ["string", "null"]},
        "grade": {"type": ["number", "null"]},
        "burden": {"type": ["number", "null"]},
        "choice": {"type": ["string", "null"], "minLength": 1},
        "alternatives": _IDS,
        "adjuncts": {"type": "object", "additionalProperties": _IDS},
        "why": _TEXT,
        "rules": _IDS,
        "sources": _TEXTS,
        "ruled_out": {
            "type": "array",
            "items": _entry("title", "kind", "reason", "rules", kind={"enum": ["avoid", "left_out"]}),
        },
    },
}
PROBLEM_KEYS = frozenset(_PROBLEM["properties"])  # type: ignore[arg-type]

_COURSE = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "phase": _INT,
            "id": _TEXT,
            "title": _TEXT,
            "start_week": {"type": "number"},
            "end_week": {"type": "number"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": _ID,
                        "title": _TEXT,
                        "problem": {"type": ["string", "null"]},
                        "problems": _IDS,
                        "part_of": {"type": ["string", "null"]},
                        "adjuncts": _IDS,
                    },
                },
            },
        },
    },
}

_PLAN = {
    "type": "object",
    "required": ["problems"],
    "properties": {
        "summary": _TEXTS,
        "problems": {"type": "array", "items": _PROBLEM},
        "course": _COURSE,
        "reassess_weeks": {"type": "array", "items": {"type": "number"}},
        "also": _IDS,
    },
}


def _result(version: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["patient", "recommendations", "avoid", *(["plan"] if version >= 2 else [])],
        "properties": {
            "kb": {"type": "object"},
            "patient": {"type": "object"},
            "recommendations": {"type": "array", "items": _RECOMMENDATION},
            "avoid": {"type": "array", "items": _entry("title", "reason", "rules", proposed_by=_IDS)},
            "alerts": {
                "type": "array",
                "items": _entry("severity", "text", severity=_TEXT, text=_TEXT),
            },
            "left_out": {
                "type": "array",
                "items": _entry("title", "constraint", "reason", "rules", constraint=_TEXT),
            },
            "routine": {"type": "object"},
            "notes": {"type": "array"},
            "disclaimer": _TEXT,
            "plan": _PLAN,
        },
    }


@cache
def schema(version: int) -> dict[str, Any]:
    """The JSON Schema of a trace of format ``version`` (1 or 2).

    Version 2 added the plan (``result.plan``, required), ``names``, ``targets``
    and, on actions, ``same_as``, ``scope`` and ``risk``; it always records the
    treatment catalogue, which version 1 may lack.
    """
    return {
        "type": "object",
        "required": [
            "format",
            "version",
            "kb",
            "facts",
            "firings",
            "rules",
            "templates",
            "result",
            *(["catalogue"] if version >= 2 else []),
        ],
        "properties": {
            "format": _TEXT,
            "version": _INT,
            "kb": {
                "type": "object",
                "required": ["name", "version", "digest"],
                "properties": dict.fromkeys(("name", "version", "digest"), _TEXT),
            },
            "patient_file": _TEXT,
            "facts": {"type": "array", "items": _FACT},
            "firings": {"type": "array", "items": _FIRING},
            "rules": {"type": "object", "additionalProperties": _RULE},
            "templates": {"type": "object", "additionalProperties": _TEMPLATE},
            "catalogue": _WORDS,
            "names": _WORDS,
            "targets": {
                "type": "object",
                "required": ["template", "field"],
                "properties": {"template": _ID, "field": _ID},
            },
            "result": _result(version),
        },
    }


# --- checking the shape fast ----------------------------------------------------------
#
# jsonschema interprets a schema anew at every value, which for the ten thousand
# values of a typical trace costs more than everything else reading does. A good
# trace only needs a yes, so the schema is compiled once into plain predicates over
# the keywords above; jsonschema runs only when the answer is no, to say where
# and why (a test holds the two to the same verdicts).

Check = Callable[[Any], bool]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_IS: dict[str, Check] = {  # as jsonschema's draft 2020-12 type checker has them
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _number,
    "integer": lambda v: _number(v) and (isinstance(v, int) or float(v).is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


_COMPILED: dict[int, tuple[dict[str, Any], Check]] = {}  # id(schema) -> (schema, its check): the schemas live on


def _compiled(s: dict[str, Any]) -> Check:
    found = _COMPILED.get(id(s))
    if found is None or found[0] is not s:
        found = _COMPILED[id(s)] = (s, _compile(s))
    return found[1]


def _compile(s: dict[str, Any]) -> Check:
    """A predicate that holds exactly where ``s`` validates (for the keywords the trace schema uses)."""
    checks: list[Check] = []
    unknown = set(s) - KEYWORDS
    if unknown:
        raise ValueError(f"the fast trace check does not know the keywords {sorted(unknown)}")
    if "type" in s:
        kinds = [_IS[t] for t in ([s["type"]] if isinstance(s["type"], str) else s["type"])]
        checks.append(lambda v: any(k(v) for k in kinds))
    if "enum" in s:
        allowed = s["enum"]
        checks.append(lambda v: any(_equal(v, a) for a in allowed))
    if "minLength" in s:
        n = s["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= n)
    if "minimum" in s:
        low = s["minimum"]
        checks.append(lambda v: not _number(v) or v >= low)
    if "minItems" in s:
        m = s["minItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) >= m)
    if "maxItems" in s:
        most = s["maxItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) <= most)
    if "required" in s:
        names = tuple(s["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in names))
    props = {k: _compiled(sub) for k, sub in s.get("properties", {}).items()}
    if props:
        checks.append(lambda v: not isinstance(v, dict) or all(c(v[k]) for k, c in props.items() if k in v))
    if "additionalProperties" in s:
        extra = _compiled(s["additionalProperties"])
        checks.append(lambda v: not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in props))
    if "items" in s:
        item = _compiled(s["items"])
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    if "allOf" in s:
        every = [_compiled(sub) for sub in s["allOf"]]
        checks.append(lambda v: all(c(v) for c in every))
    if "anyOf" in s:
        some = [_compiled(sub) for sub in s["anyOf"]]
        checks.append(lambda v: any(c(v) for c in some))
    if "if" in s:
        condition, then = _compiled(s["if"]), _compiled(s.get("then", {}))
        checks.append(lambda v: not condition(v) or then(v))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


KEYWORDS = frozenset(
    {"type", "enum", "minLength", "minimum", "minItems", "maxItems", "required", "properties"}
    | {"additionalProperties", "items", "allOf", "anyOf", "if", "then"}
)
_DESCENT = ("properties", "additionalProperties", "items")


def conforms(version: int) -> Check:
    """Whether trace data of format ``version`` has the shape :func:`schema` describes."""
    return _compiled(schema(version))


def failing(version: int, data: Any) -> list[tuple[PathKey, dict[str, Any]]]:
    """The smallest parts of ``data`` that do not conform, each with the schema it breaks.

    jsonschema then explains only these parts (a few values, not the ten thousand
    of the whole trace); at most :data:`MAX_SHOWN` and one more are returned.
    """
    out: list[tuple[PathKey, dict[str, Any]]] = []
    _narrow(schema(version), data, (), out)
    return out


def _narrow(s: dict[str, Any], value: Any, path: PathKey, out: list[tuple[PathKey, dict[str, Any]]]) -> None:
    if len(out) > MAX_SHOWN or _compiled(s)(value):
        return
    own = {k: v for k, v in s.items() if k not in _DESCENT}
    if not _compile(own)(value):  # the value itself: its type, its keys, its conditions
        out.append((path, own))
        return
    properties = s.get("properties", {})
    if isinstance(value, dict):
        for key, part in value.items():
            sub = properties.get(key, s.get("additionalProperties") if key not in properties else None)
            if sub is not None:
                _narrow(sub, part, (*path, key), out)
    elif isinstance(value, list) and "items" in s:
        for i, part in enumerate(value):
            _narrow(s["items"], part, (*path, i), out)


# --- the references -----------------------------------------------------------------

Found = tuple[PathKey, str]  # where in the data, and what is wrong there

_TYPES: dict[str, Check] = {  # a template field's type -> whether a (non-null) value has it
    "integer": _IS["integer"],
    "number": _number,
    "boolean": _IS["boolean"],
    "string": _IS["string"],
    "list": _IS["array"],
}
_TYPE_WORDS = {"integer": "a whole number", "number": "a number", "boolean": "true or false", "string": "text"}


def references(data: dict[str, Any]) -> Iterator[Found]:
    """Every reference inside a trace of valid shape that points nowhere, or out of order.

    Identities come first: while two facts share an id or two firings a sequence
    number, every reference to them is in doubt, so only those are reported.
    """
    found = False
    for problem in _identities(data):
        found = True
        yield problem
    if found:
        return
    yield from _facts(data)
    yield from _firings(data)
    yield from _rules(data)
    yield from _targets(data)
    yield from _result_ids(data)
    if isinstance(data["result"].get("plan"), dict):
        yield from _plan(data)


def _identities(data: dict[str, Any]) -> Iterator[Found]:
    """Fact ids, sequence numbers and the result's and the plan's ids are each unique; firings are in order."""
    yield from _unique(data["facts"], ("facts",), "fact id")
    previous: int | None = None
    seen: set[int] = set()
    for i, firing in enumerate(data["firings"]):
        seq = firing["seq"]
        if seq in seen:
            yield ("firings", i, "seq"), f"sequence number {seq} is used twice"
        elif previous is not None and seq < previous:
            yield ("firings", i, "seq"), f"sequence number {seq} comes after {previous}: firings must be in order"
        seen.add(seq)
        previous = seq if previous is None else max(previous, seq)
    result = data["result"]
    yield from _unique(result["recommendations"], ("result", "recommendations"), "recommendation")
    yield from _unique(result["avoid"], ("result", "avoid"), "avoided treatment")
    yield from _unique(result.get("alerts", []), ("result", "alerts"), "alert")
    yield from _unique(result.get("left_out", []), ("result", "left_out"), "left-out treatment")
    if isinstance(result.get("plan"), dict):
        yield from _unique(result["plan"]["problems"], ("result", "plan", "problems"), "problem")


def _unique(items: list[dict[str, Any]], at: PathKey, what: str) -> Iterator[Found]:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["id"] in first:
            yield (*at, i, "id"), f"{what} {short(item['id'])} is used twice (first at [{first[item['id']]}])"
        first.setdefault(item["id"], i)


def _facts(data: dict[str, Any]) -> Iterator[Found]:
    """Each fact fits its template, and a derived fact's rule and firing exist and asserted it."""
    templates, rules = data["templates"], data["rules"]
    firings = {f["seq"]: f for f in data["firings"]}
    for i, fact in enumerate(data["facts"]):
        fid, at = fact["id"], ("facts", i)
        template = templates.get(fact["template"])
        if template is None:
            hint = did_you_mean(fact["template"], templates)
            yield (*at, "template"), f"template {short(fact['template'])} is not among the trace's templates{hint}"
        else:
            for key, value in fact["values"].items():
                spec = template["fields"].get(key)
                if spec is None:
                    yield (*at, "values", key), f"{fact['template']} has no field {short(key)}"
                elif value is not None and spec["type"] in _TYPES and not _TYPES[spec["type"]](value):
                    wanted = _TYPE_WORDS.get(spec["type"], "a list")
                    yield (*at, "values", key), f"expected {wanted} ({fact['template']} {key}), got {short(value)}"
        if fact["origin"] != "rule":
            continue
        if fact["rule"] not in rules:
            yield (*at, "rule"), f"rule {short(fact['rule'])} is not among the trace's rules"
        firing = firings.get(fact["firing"])
        if firing is None:
            yield (*at, "firing"), f"firing #{fact['firing']}, which asserted fact {short(fid)}, is not in the trace"
        elif firing["rule"] != fact["rule"]:
            yield (
                (*at, "rule"),
                f"fact {short(fid)} names rule {short(fact['rule'])}, "
                f"but firing #{fact['firing']}, which asserted it, is of rule {short(firing['rule'])}",
            )
        elif not any(a.get("fact") == fid for a in firing["actions"]):
            yield (*at, "firing"), f"firing #{fact['firing']} does not assert fact {short(fid)}"


def _firings(data: dict[str, Any]) -> Iterator[Found]:
    """Each firing's rule exists, and the facts it matched, asserted and found already known exist."""
    facts = {f["id"]: f for f in data["facts"]}
    rules, catalogue = data["rules"], data.get("catalogue")
    depth: dict[int, int] = {}  # firing -> the longest chain of derived facts beneath it
    for i, firing in enumerate(data["firings"]):
        seq, at = firing["seq"], ("firings", i)
        beneath = [facts[m]["firing"] for m in firing["matched"] if m in facts and facts[m]["origin"] == "rule"]
        depth[seq] = 1 + max((depth.get(s, 0) for s in beneath), default=0)
        if depth[seq] == MAX_DEPTH + 1:  # `how` follows the chain down, one level per fact
            yield (*at, "matched"), f"firing #{seq} rests on a chain of more than {MAX_DEPTH} derived facts"
        rule = rules.get(firing["rule"])
        if rule is None:
            hint = did_you_mean(firing["rule"], rules)
            yield (
                (*at, "rule"),
                f"firing #{seq} names rule {short(firing['rule'])}, which is not among the trace's rules{hint}",
            )
        elif len(firing["matched"]) != len(rule["when"]):
            yield (
                (*at, "matched"),
                f"firing #{seq} matched {len(firing['matched'])} facts, "
                f"but rule {short(firing['rule'])} has {len(rule['when'])} 'when' patterns",
            )
        for j, fid in enumerate(firing["matched"]):
            yield from _known(facts, fid, seq, (*at, "matched", j), f"firing #{seq} matched fact {short(fid)}")
        added = [a.get("fact") for a in firing["actions"] if a.get("fact")]
        for j, fid in enumerate(firing["asserted"]):
            if fid not in facts:
                yield (*at, "asserted", j), f"firing #{seq} asserted fact {short(fid)}, which the trace does not have"
            elif fid not in added:
                yield (*at, "asserted", j), f"fact {short(fid)} is not added by any action of firing #{seq}"
        for j, action in enumerate(firing["actions"]):
            yield from _action(facts, catalogue, action, seq, firing["asserted"], (*at, "actions", j))


def _known(facts: dict[str, Any], fid: str, before: int, at: PathKey, what: str) -> Iterator[Found]:
    """A fact a firing used exists, and existed before firing ``before``."""
    fact = facts.get(fid)
    if fact is None:
        yield at, f"{what}, which the trace does not have"
    elif fact["origin"] == "rule" and fact["firing"] >= before:
        yield at, f"{what}, which firing #{fact['firing']} asserted only later"


def _action(
    facts: dict[str, Any],
    catalogue: dict[str, str] | None,
    action: dict[str, Any],
    seq: int,
    asserted: list[str],
    at: PathKey,
) -> Iterator[Found]:
    fid = action.get("fact")
    if fid is not None:
        fact = facts.get(fid)
        if fact is None:
            yield (*at, "fact"), f"firing #{seq} added fact {short(fid)}, which the trace does not have"
        elif fact["origin"] != "rule" or fact["firing"] != seq:
            yield (*at, "fact"), f"fact {short(fid)} was not asserted by firing #{seq}"
        elif fid not in asserted:
            yield (*at, "fact"), f"fact {short(fid)} is missing from the 'asserted' list of firing #{seq}"
    missing = [v for v in placeholders(action.get("template", "")) if v not in action.get("labels", {})]
    if missing:  # the plan's texts are filled in again from these
        yield (*at, "labels"), f"the text's {{${missing[0]}}} has no words in 'labels'"
    if "same_as" in action:
        same = action["same_as"]
        yield from _known(
            facts, same, seq + 1, (*at, "same_as"), f"firing #{seq} found fact {short(same)} already known"
        )
    if catalogue is None:
        return
    if action.get("treatment") is not None and action["treatment"] not in catalogue:
        hint = did_you_mean(action["treatment"], catalogue)
        yield (*at, "treatment"), f"treatment {short(action['treatment'])} is not in the trace's catalogue{hint}"
    for j, part in enumerate(action.get("components", [])):
        if part not in catalogue:
            yield (*at, "components", j), f"treatment {short(part)} is not in the trace's catalogue"


_WITH_VAR = ("eq", "bind", "lt", "lte", "gt", "gte")  # the tests that may compare with a variable


def _rules(data: dict[str, Any]) -> Iterator[Found]:
    """A test names a variable only where the rule language allows one."""
    for rid, rule in data["rules"].items():
        for part in ("when", "unless"):
            for i, pattern in enumerate(rule[part]):
                for j, c in enumerate(pattern["constraints"]):
                    for k, test in enumerate(c["tests"]):
                        if "var" in test and test["op"] not in _WITH_VAR:
                            at = ("rules", rid, part, i, "constraints", j, "tests", k, "var")
                            yield at, f"a test with op {test['op']!r} takes a value, not a variable"


def _targets(data: dict[str, Any]) -> Iterator[Found]:
    targets = data.get("targets")
    if targets is None:
        return
    template = data["templates"].get(targets["template"])
    if template is None:
        yield ("targets", "template"), f"template {short(targets['template'])} is not among the trace's templates"
    elif targets["field"] not in template["fields"]:
        yield ("targets", "field"), f"{targets['template']} has no field {short(targets['field'])}"


def _rules_named(data: dict[str, Any], items: list[dict[str, Any]], at: PathKey) -> Iterator[Found]:
    for i, item in enumerate(items):
        for j, rid in enumerate(item.get("rules", [])):
            if rid not in data["rules"]:
                yield (*at, i, "rules", j), f"rule {short(rid)} is not among the trace's rules"


def _option_known(catalogue: dict[str, str] | None, option: str) -> bool:
    return catalogue is None or all(part in catalogue for part in option.split("+"))


def _result_ids(data: dict[str, Any]) -> Iterator[Found]:
    """The result's treatments are in the catalogue, and the rules it names are the trace's."""
    result, catalogue = data["result"], data.get("catalogue")
    for key in ("recommendations", "avoid", "alerts", "left_out"):
        yield from _rules_named(data, result.get(key, []), ("result", key))
    for key in ("recommendations", "avoid", "left_out"):
        for i, item in enumerate(result.get(key, [])):
            if not _option_known(catalogue, item["id"]):
                yield ("result", key, i, "id"), f"{short(item['id'])} is not a treatment of the trace's catalogue"


def _input_template(data: dict[str, Any]) -> str | None:
    """The template whose input items problems group (as :func:`.plan._target_template` finds it)."""
    if "targets" in data:
        return str(data["targets"]["template"])
    numbered = {f["template"] for f in data["facts"] if f["origin"] == "input" and f["id"] != f["template"]}
    return next(iter(numbered)) if len(numbered) == 1 else None


def _plan(data: dict[str, Any]) -> Iterator[Found]:
    problems, at = data["result"]["plan"]["problems"], ("result", "plan", "problems")
    recommended = {r["id"] for r in data["result"]["recommendations"]}
    facts = {f["id"]: f for f in data["facts"]}
    template = _input_template(data)
    yield from _rules_named(data, problems, at)
    for i, p in enumerate(problems):
        items = next((k for k in p if k not in PROBLEM_KEYS and isinstance(p[k], list)), None)
        if items is not None and template is not None:
            for j, n in enumerate(p[items]):
                item = f"{template}-{n}"
                if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                    yield (*at, i, items, j), f"expected the 1-based position of an input item, got {short(n)}"
                elif item not in facts or facts[item]["origin"] != "input":
                    yield (*at, i, items, j), f"{p['id']} names input item {item!r}, which the trace lacks"
        options = [(("choice",), p["choice"]), *((("alternatives", j), a) for j, a in enumerate(p["alternatives"]))]
        for key, option in options:
            if option is not None and option not in recommended:
                yield (*at, i, *key), f"option {short(option)} is not among the result's recommendations"
        for option, added in p["adjuncts"].items():
            for j, name in enumerate(added):
                if name not in recommended:
                    yield (*at, i, "adjuncts", option, j), f"add-on {short(name)} is not among the recommendations"
        yield from _rules_named(data, p["ruled_out"], (*at, i, "ruled_out"))
        for j, entry in enumerate(p["ruled_out"]):
            if not _option_known(data.get("catalogue"), entry["id"]):
                yield (
                    (*at, i, "ruled_out", j, "id"),
                    f"{short(entry['id'])} is not a treatment of the trace's catalogue",
                )
    ids = {p["id"] for p in problems}
    for i, phase in enumerate(data["result"]["plan"].get("course", [])):
        for j, item in enumerate(phase.get("items", [])):
            base = ("result", "plan", "course", i, "items", j)
            if item.get("problem") is not None and item["problem"] not in ids:
                yield (*base, "problem"), f"the course names problem {short(item['problem'])}, which the plan lacks"
            for k, pid in enumerate(item.get("problems", [])):
                if pid not in ids:
                    yield (*base, "problems", k), f"the course names problem {short(pid)}, which the plan lacks"


# --- where each value is --------------------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


class _Marks(dict):  # type: ignore[type-arg]
    """Offsets of values in the text, read as line and column only when a problem asks."""

    def __init__(self, lines: list[int]):
        super().__init__()
        self.lines = lines

    def __getitem__(self, path: PathKey) -> Mark:
        offset = super().__getitem__(path)
        line = bisect_right(self.lines, offset)
        return Mark(line + 1, offset - (self.lines[line - 1] + 1 if line else 0) + 1)


def document(text: str, name: str, data: Any) -> Document:
    """The parsed trace with the line and column of every value and key, for located problems.

    One pass over the JSON text's tokens (the text has already parsed, so it is
    well formed): a stack of the open objects and arrays gives each value's path.
    """
    lines = [m.start() for m in re.finditer("\n", text)]
    marks, keys = _Marks(lines), _Marks(lines)
    stack: list[list[Any]] = []  # [path, is an object, the key or index now, expecting a key]
    pending: PathKey | None = ()  # the path of the next value
    for m in _TOKEN.finditer(text):
        token = m.group()
        first = token[0]
        if first == ",":
            frame = stack[-1]
            if frame[1]:
                frame[3] = True
            else:
                frame[2] += 1
                pending = (*frame[0], frame[2])
        elif first == ":":
            pending = (*stack[-1][0], stack[-1][2])
        elif first in "}]":
            stack.pop()
            pending = None
        elif stack and stack[-1][3]:  # a key
            key = json.loads(token) if "\\" in token else token[1:-1]
            stack[-1][2], stack[-1][3] = key, False
            dict.__setitem__(keys, (*stack[-1][0], key), m.start())
        else:  # a value
            path = pending if pending is not None else ()
            dict.__setitem__(marks, path, m.start())
            pending = None
            if first == "{":
                stack.append([path, True, None, True])
            elif first == "[":
                stack.append([path, False, 0, False])
                pending = (*path, 0)
    return Document(file=name, data=data, marks=marks, key_marks=keys)


def shown(problems: list[Problem], file: str) -> list[Problem]:
    """The problems a message shows: the first :data:`MAX_SHOWN`, and a last line if there are more."""
    if len(problems) <= MAX_SHOWN:
        return problems
    return [*problems[:MAX_SHOWN], Problem(file, None, None, "", "and more problems, not shown")]
