"""Writing and reading trace files: a consultation's whole record as versioned JSON.

A trace carries everything needed to answer "how?" and "why not?" later without
the patient file: the input facts with ids, every firing in order, the rules'
conditions in data form, the templates' value labels, and the resolved plan. The
knowledge-base digest says which rules produced it; replaying the firings through
the resolver must give the same plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean, short
from ..documents import limits
from ..documents.validate import check
from ..documents.yamlio import Document
from ..knowledge.model import FieldConstraint, FieldSpec, KnowledgeBase, Pattern, Test, Var, Where
from ..resolve.result import Result
from ..session.records import ActionRecord, Consultation, FactRecord, Firing
from . import traceschema

FORMAT = "cicatrix-trace"
VERSION = 2  # 2: actions name the existing fact a duplicate assert matched, scopes, risks; the plan
READABLE = (1, 2)  # version 1 traces still answer show, how and why-not; replay needs 2


# --- writing ------------------------------------------------------------------


def _test(test: Test) -> dict[str, Any]:
    if isinstance(test.value, Var):
        return {"op": test.op, "var": test.value.name}
    value = list(test.value) if isinstance(test.value, tuple) else test.value
    return {"op": test.op, "value": value}


def _pattern(p: Pattern) -> dict[str, Any]:
    return {
        "template": p.template,
        "constraints": [{"field": c.field, "tests": [_test(t) for t in c.tests]} for c in p.constraints],
    }


def _action(a: ActionRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": a.kind}
    keys = ("treatment", "text", "tier", "sequence", "fact", "same_as", "template", "alert", "severity", "constraint")
    for key in (*keys, "scope", "risk"):
        value = getattr(a, key)
        if value:
            out[key] = value
    if a.targets:
        out["targets"] = list(a.targets)
    if a.components:
        out["components"] = list(a.components)
    if a.labels:
        out["labels"] = dict(a.labels)
    return out


def _concludes(action: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": action.kind}
    if action.target is not None:
        out["target"] = str(action.target)
    if action.components:
        out["components"] = list(action.components)
    if action.kind == "alert":
        out["severity"] = action.severity
    if action.kind == "leave_out":
        out["constraint"] = action.constraint
    if action.scope:
        out["scope"] = {k: (f"${v.name}" if isinstance(v, Var) else v) for k, v in action.scope.items()}
    if action.risk:
        out["risk"] = True
    if action.kind == "assert":
        out["template"] = action.template
        out["values"] = {k: (f"${v.name}" if isinstance(v, Var) else v) for k, v in action.values.items()}
    return out


def _field(f: FieldSpec) -> dict[str, Any]:
    """What answers need of a field to name its values in words."""
    out: dict[str, Any] = {"type": f.type}
    if f.labels:
        out["labels"] = {str(k): v for k, v in f.labels.items()}
    if f.unit:
        out["unit"] = f.unit
    return out


def to_dict(kb: KnowledgeBase, consultation: Consultation, result_json: dict[str, Any], source: str) -> dict[str, Any]:
    rules = {}
    for rule in kb.rules:
        rules[rule.id] = {
            "title": rule.title,
            "salience": rule.salience,
            "where": str(rule.where),
            "sources": list(rule.sources),
            "when": [_pattern(p) for p in rule.when],
            "unless": [_pattern(p) for p in rule.unless],
            "concludes": [_concludes(a) for a in rule.then],
        }  # fmt: skip
    templates = {name: {"fields": {f.name: _field(f) for f in t.fields.values()}} for name, t in kb.templates.items()}
    return {
        "format": FORMAT,
        "version": VERSION,
        "kb": {"name": kb.name, "version": kb.version, "digest": kb.digest},
        "patient_file": source,
        "facts": [
            {
                "id": f.id,
                "template": f.template,
                "values": f.values,
                "origin": f.origin,
                **({"rule": f.rule, "firing": f.firing} if f.rule else {}),
            }
            for f in consultation.facts
        ],
        "firings": [
            {
                "seq": f.seq,
                "rule": f.rule,
                "salience": f.salience,
                "matched": list(f.matched),
                "bindings": f.bindings,
                "asserted": list(f.asserted),
                "actions": [_action(a) for a in f.actions],
            }
            for f in consultation.firings
        ],
        "rules": rules,
        "templates": templates,
        "catalogue": {t.id: t.title for t in kb.treatments.values()},
        "names": {t.id: t.name for t in kb.treatments.values() if t.name != t.title},
        **({"targets": {"template": kb.targets[0], "field": kb.targets[1]}} if kb.targets else {}),
        "result": result_json,
    }


def render(kb: KnowledgeBase, result: Result, result_json: dict[str, Any], source: str) -> str:
    assert result.consultation is not None
    return json.dumps(to_dict(kb, result.consultation, result_json, source), indent=1, ensure_ascii=False) + "\n"


# --- reading ------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRule:
    id: str
    title: str
    salience: int
    where: str
    sources: tuple[str, ...]
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    concludes: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Trace:
    file: str
    kb: dict[str, str]
    patient_file: str
    facts: dict[str, FactRecord]
    firings: tuple[Firing, ...]
    rules: dict[str, TraceRule]
    fields: dict[str, dict[str, FieldSpec]]  # template -> field -> spec (for labels)
    result: dict[str, Any]
    catalogue: dict[str, str]  # treatment id -> title
    version: int = VERSION
    names: dict[str, str] = field(default_factory=dict)  # treatment id -> short name, where it has one
    targets: tuple[str, str] | None = None  # (template, field) the plan's problems group input items by

    def consultation(self) -> Consultation:
        return Consultation(facts=tuple(self.facts.values()), firings=self.firings)

    def label(self, template: str, field: str, value: Any) -> str:
        spec = self.fields.get(template, {}).get(field)
        return spec.label(value) if spec else str(value)

    def name(self, treatment: str) -> str:
        """The short name the plan's sentences use for a treatment (its title when it has none)."""
        return self.names.get(treatment) or self.catalogue.get(treatment, treatment)

    def title(self, option: str) -> str:
        """An option's title: a treatment's, or a combination's parts joined with " + "."""
        return " + ".join(self.catalogue.get(c, c) for c in option.split("+"))

    def describe_fact(self, fact_id: str) -> str:
        fact = self.facts[fact_id]
        specs = self.fields.get(fact.template, {})
        shown = [
            specs[k].describe(v) if k in specs else f"{k} {v}"
            for k, v in fact.values.items()
            if v is not None and v != [] and v is not False
        ]
        return f"{fact.id}: " + (", ".join(shown) if shown else "(no values)")


def _problem(file: str, message: str, line: int | None = None, column: int | None = None) -> CicatrixError:
    return CicatrixError([Problem(file, line, column, "", message)])


def _pattern_from(data: dict[str, Any], where: str) -> Pattern:
    constraints = []
    for c in data["constraints"]:
        tests = []
        for t in c["tests"]:
            if "var" in t:
                tests.append(Test(t["op"], Var(t["var"])))
            else:
                value = tuple(t["value"]) if isinstance(t["value"], list) else t["value"]
                tests.append(Test(t["op"], value))
        constraints.append(FieldConstraint(c["field"], tuple(tests)))
    return Pattern(data["template"], tuple(constraints), False, Where(where))


class _Places:
    """Where each part of the trace's JSON is, found only when a problem needs it (a good
    trace never pays for it)."""

    def __init__(self, text: str, name: str, data: Any):
        self.text, self.name, self.data = text, name, data
        self._doc: Document | None = None

    def doc(self) -> Document:
        if self._doc is None:
            self._doc = traceschema.document(self.text, self.name, self.data)
        return self._doc

    def problem(self, path: tuple[Any, ...], message: str) -> Problem:
        """``message`` about the value at ``path``, as a damaged trace's problem."""
        return self.damaged(self.doc().problem(path, message))

    def damaged(self, p: Problem) -> Problem:
        return Problem(p.file, p.line, p.column, "", f"damaged trace at {p.path or 'the top level'}: {p.message}")

    def error(self, path: tuple[Any, ...], message: str) -> CicatrixError:
        """One problem about the trace as a whole, placed at ``path`` (a header key)."""
        p = self.doc().problem(path, message)
        return CicatrixError([Problem(p.file, p.line, p.column, "", message)])


def _load(text: str, name: str) -> Any:
    """The trace's JSON, within :mod:`..documents.limits`' bounds (size was bounded on reading)."""
    if not text.strip():
        raise CicatrixError.about(name, "not a JSON trace: the file is empty", line=1, column=1)
    try:
        return limits.load_json(text, name)
    except CicatrixError as exc:
        cut = text.lstrip().startswith("{") and not text.rstrip().endswith("}")
        hint = " (the file looks truncated: it does not end with '}')" if cut else ""
        problems = []
        for p in exc.problems:
            syntax = p.message.startswith("not valid JSON") and "Extra data" not in p.message
            message = p.message.replace("not valid JSON", "not a JSON trace", 1) + (hint if syntax else "")
            problems.append(Problem(p.file, p.line, p.column, p.path, message))
        raise CicatrixError(problems) from None


def read(path: Path | str) -> Trace:
    """A trace file, checked in full (:mod:`.traceschema`) before anything reads it.

    Every way a file can be wrong (missing, too large, not UTF-8, not JSON, too
    deep, another format or version, a wrong shape, a reference to nothing) is a
    :class:`CicatrixError` naming the file and, where it can, the line and column.
    """
    path = Path(path)
    name = str(path)
    return parse(limits.read_text(path, name), name)


_PATIENT_HINT = (
    "this looks like a patient file, not a trace: consult it with `cicatrix consult {name}`, "
    "or write a trace with `cicatrix consult {name} --trace out.json`"
)


def _patient_file(text: str, name: str) -> CicatrixError | None:
    """The error for a patient file given where a trace is wanted (the commonest mix-up), else None."""
    from ..documents import yamlio

    try:
        data = yamlio.parse(text, name).data
    except CicatrixError:
        return None
    if isinstance(data, dict) and "format" not in data and "firings" not in data:
        return CicatrixError.about(name, _PATIENT_HINT.format(name=name))
    return None


def parse(text: str, name: str) -> Trace:
    """The trace in ``text`` (read from the file ``name``), checked in full; see :func:`read`."""
    try:
        data = _load(text, name)
    except CicatrixError as exc:
        raise (_patient_file(text, name) or exc) from None
    places = _Places(text, name, data)
    if isinstance(data, dict) and "format" not in data and "firings" not in data:
        raise CicatrixError.about(name, _PATIENT_HINT.format(name=name))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise places.error(
            ("format",),
            f'not a cicatrix trace (expected "format": "{FORMAT}"); '
            "write one with `cicatrix consult FILE --trace out.json`",
        )
    version = data.get("version")
    if type(version) is not int or version not in READABLE:
        wrong = f"trace format version {short(version)} is not supported"
        which = wrong if "version" in data else 'the trace names no format version ("version")'
        raise places.error(
            ("version",),
            f"{which}; this cicatrix reads versions "
            f"{', '.join(map(str, READABLE))}: write the trace again with `cicatrix consult FILE --trace out.json`",
        )
    if not traceschema.conforms(version)(data):
        doc = places.doc()
        found = [places.damaged(p) for at, part in traceschema.failing(version, data) for p in check(doc, part, at)]
        if found:  # else the fast check and jsonschema disagree, which a test rules out
            raise CicatrixError(traceschema.shown(found, name))
    broken = list(islice(traceschema.references(data), traceschema.MAX_SHOWN + 1))
    if broken:
        raise CicatrixError(traceschema.shown([places.problem(at, message) for at, message in broken], name))
    return _build(name, data)


def _build(name: str, data: dict[str, Any]) -> Trace:
    facts = {
        f["id"]: FactRecord(f["id"], f["template"], f["values"], f["origin"], f.get("rule"), f.get("firing"))
        for f in data["facts"]
    }
    firings = []
    for f in data["firings"]:
        actions = tuple(_action_from(a) for a in f["actions"])
        firings.append(Firing(f["seq"], f["rule"], f["salience"], tuple(f["matched"]), f["bindings"], actions))
    rules = {
        rid: TraceRule(
            rid,
            r["title"],
            r["salience"],
            r["where"],
            tuple(r["sources"]),
            tuple(_pattern_from(p, r["where"]) for p in r["when"]),
            tuple(_pattern_from(p, r["where"]) for p in r["unless"]),
            tuple(r["concludes"]),
        )
        for rid, r in data["rules"].items()
    }
    fields = {
        tname: {
            fname: FieldSpec(
                name=fname, type=spec["type"], labels=_labels(spec.get("labels", {})), unit=spec.get("unit", "")
            )
            for fname, spec in t["fields"].items()
        }
        for tname, t in data["templates"].items()
    }
    return Trace(
        file=name,
        kb=data["kb"],
        patient_file=data.get("patient_file", ""),
        facts=facts,
        firings=tuple(firings),
        rules=rules,
        fields=fields,
        result=data["result"],
        catalogue=dict(data.get("catalogue", {})),
        version=data["version"],
        names=dict(data.get("names", {})),
        targets=(data["targets"]["template"], data["targets"]["field"]) if "targets" in data else None,
    )


def _action_from(a: dict[str, Any]) -> ActionRecord:
    """An action as written; keys a trace leaves out (no value, or an older version) take their defaults."""
    return ActionRecord(
        kind=a["kind"],
        treatment=a.get("treatment"),
        text=a.get("text", ""),
        tier=a.get("tier", ""),
        targets=tuple(a.get("targets", ())),
        components=tuple(a.get("components", ())),
        sequence=a.get("sequence", ""),
        fact=a.get("fact"),
        template=a.get("template", ""),
        labels=dict(a.get("labels", {})),
        alert=a.get("alert", ""),
        severity=a.get("severity", ""),
        constraint=a.get("constraint", ""),
        same_as=a.get("same_as"),
        scope=dict(a.get("scope", {})),
        risk=bool(a.get("risk", False)),
    )


def _labels(raw: dict[str, str]) -> dict[Any, str]:
    out: dict[Any, str] = {}
    for key, value in raw.items():
        out[key] = value
        if key.lstrip("-").isdigit():
            out[int(key)] = value
    return out


def treatment_ids(trace: Trace) -> set[str]:
    """Every treatment id the trace knows of: concluded by some rule or named in the plan."""
    ids = {r["id"] for r in trace.result["recommendations"]} | {a["id"] for a in trace.result["avoid"]}
    for rule in trace.rules.values():
        for c in rule.concludes:
            target = c.get("target")
            if target and not target.startswith("$"):
                ids.add(target)
            ids.update(c.get("components", []))
    ids.update(trace.catalogue)
    return ids


def problem_ids(trace: Trace) -> list[str]:
    """The ids of the plan's problems (none in a version-1 trace, which records no plan)."""
    return [p["id"] for p in trace.result.get("plan", {}).get("problems", [])]


def unknown_id(trace: Trace, wanted: str, kinds: str, *, facts: bool = True) -> CicatrixError:
    """An id the question cannot be about, with the closest ids it could have meant."""
    known = sorted(treatment_ids(trace))
    if facts:
        known += problem_ids(trace) + sorted(f for f in trace.facts if "/" not in f)
    return _problem(trace.file, f"{wanted!r} is not {kinds} in this trace" + did_you_mean(wanted, known))


def from_result(kb: KnowledgeBase, result: Result, result_json: dict[str, Any], source: str) -> Trace:
    """The trace of a consultation still in memory (for ``consult --explain``)."""
    assert result.consultation is not None
    data = json.loads(json.dumps(to_dict(kb, result.consultation, result_json, source)))
    return _build(source, data)
