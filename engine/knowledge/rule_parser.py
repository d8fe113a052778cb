"""Rule files -> :class:`~.model.Rule` objects, every reference resolved.

A rule that names a template, field, value or treatment that does not exist can
never do what its author meant, so each is an error with a suggestion. Variables
get the same care: a ``$name`` used in an action or explanation must be bound by
a ``when`` pattern, and the field that binds it decides how its value is worded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..common.errors import Problem, did_you_mean
from ..documents import yamlio
from . import schemas
from .model import (
    ACTION_KINDS,
    Action,
    FieldConstraint,
    FieldSpec,
    Pattern,
    Rule,
    SourceDoc,
    Template,
    Test,
    Treatment,
    Var,
    Where,
    bound_fields,
)
from .wording import placeholders

COMPARISONS = ("lt", "lte", "gt", "gte")


def is_var(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


class RuleParser:
    def __init__(
        self,
        doc: yamlio.Document,
        templates: Mapping[str, Template],
        treatments: Mapping[str, Treatment],
        sources: Mapping[str, SourceDoc],
        problems: list[Problem],
        targets: tuple[str, str] | None = None,
    ):
        self.doc = doc
        self.templates = templates
        self.treatments = treatments
        self.sources = sources
        self.problems = problems
        self.targets = targets if targets and targets[0] in templates else None

    def error(self, path: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def where(self, path: tuple[Any, ...]) -> Where:
        mark = self.doc.mark(path, key=True)
        return Where(self.doc.file, mark.line if mark else None, mark.column if mark else None)

    # -- patterns ---------------------------------------------------------

    def pattern(self, raw: dict[str, Any], path: tuple[Any, ...], negated: bool) -> Pattern | None:
        ((name, fields),) = raw.items()
        template = self.templates.get(name)
        if template is None:
            self.error(
                (*path, name),
                f"unknown template {name!r}; known: {', '.join(self.templates)}" + did_you_mean(name, self.templates),
                key=True,
            )
            return None
        constraints = []
        for fname, value in fields.items():
            fpath = (*path, name, fname)
            spec = template.fields.get(fname)
            if spec is None:
                self.error(
                    fpath,
                    f"template {name!r} has no field {fname!r}; its fields: "
                    + ", ".join(template.fields)
                    + did_you_mean(fname, template.fields),
                    key=True,
                )
                continue
            tests = self.tests(value, spec, f"{name}.{fname}", fpath)
            if tests:
                constraints.append(FieldConstraint(fname, tests))
        return Pattern(name, tuple(constraints), negated, self.where(path))

    def literal(self, value: Any, spec: FieldSpec, label: str, path: tuple[Any, ...]) -> bool:
        if spec.accepts(value):
            return True
        hint = did_you_mean(value, spec.allowed) if spec.allowed else ""
        self.error(
            path,
            f"{yamlio.as_written(value)} can never match {label}, which is {spec.describe_allowed()}"
            f"{' or null' if spec.nullable and spec.type != 'list' else ''}{hint}",
        )
        return False

    def tests(self, value: Any, spec: FieldSpec, label: str, path: tuple[Any, ...]) -> tuple[Test, ...]:
        if is_var(value):
            return (Test("eq", Var(value[1:])),)
        if isinstance(value, list):
            if spec.type == "list":
                self.error(
                    path,
                    f"{label} is a list field: match one of its items with {{contains: value}}",
                )
                return ()
            ok = all([self.literal(v, spec, label, (*path, i)) for i, v in enumerate(value)])
            return (Test("any", tuple(value)),) if ok else ()
        if not isinstance(value, dict):
            if spec.type == "list":
                self.error(
                    path,
                    f"{label} is a list field: match one of its items with {{contains: value}}",
                )
                return ()
            return (Test("eq", value),) if self.literal(value, spec, label, path) else ()
        tests: list[Test] = []
        for op, operand in value.items():
            opath = (*path, op)
            if op in COMPARISONS:
                if spec.type not in ("integer", "number"):
                    self.error(opath, f"{op!r} compares numbers, but {label} is a {spec.type} field")
                    continue
                tests.append(Test(op, Var(operand[1:]) if is_var(operand) else operand))
            elif op in ("in", "not"):
                values = operand if isinstance(operand, list) else [operand]
                if spec.type == "list":
                    self.error(opath, f"{label} is a list field: use {{contains: value}}")
                    continue
                ok = all([self.literal(v, spec, label, (*opath, i)) for i, v in enumerate(values)])
                if ok:
                    tests.append(Test("any" if op == "in" else "not", tuple(values)))
            elif op == "contains":
                if spec.type != "list":
                    self.error(
                        opath,
                        f"'contains' applies to list fields, but {label} is a {spec.type} field",
                    )
                    continue
                if self.literal(operand, spec, label, opath):
                    tests.append(Test("contains", operand))
            elif op == "bind":
                tests.append(Test("bind", Var(operand[1:])))
        return tuple(tests)

    # -- variables --------------------------------------------------------

    def check_vars(
        self,
        rule_path: tuple[Any, ...],
        when: list[tuple[int, Pattern]],
        unless: list[tuple[int, Pattern]],
        bound: Mapping[str, FieldSpec],
    ) -> None:
        for section, patterns in (("when", when), ("unless", unless)):
            for i, pattern in patterns:
                for c in pattern.constraints:
                    for t in c.tests:
                        if not isinstance(t.value, Var):
                            continue
                        path = (*rule_path, section, i, pattern.template, c.field)
                        name = t.value.name
                        here = self.templates[pattern.template].fields[c.field]
                        if name in bound and (why := _cannot_join(bound[name], here, t.op)):
                            self.error(path, f"${name} {why}")
                            continue
                        if t.op in COMPARISONS:
                            if section == "unless":
                                self.error(
                                    path,
                                    f"in an 'unless' pattern compare with a number, not ${name}: "
                                    "variables there can only be matched for equality",
                                )
                            elif name not in bound:
                                self.error(path, f"${name} is compared but never bound by a 'when' pattern")
                        elif section == "unless" and name not in bound:
                            self.error(
                                path,
                                f"${name} is first used in an 'unless' pattern; bind it in 'when' "
                                "(a variable seen only inside 'unless' matches anything)",
                            )

    def var(self, value: Any, bound: Mapping[str, FieldSpec], path: tuple[Any, ...]) -> Var | None:
        name = value[1:]
        if name not in bound:
            self.error(path, f"${name} is not bound by any 'when' pattern" + did_you_mean(name, bound))
            return None
        return Var(name)

    def text(self, text: str, bound: Mapping[str, FieldSpec], path: tuple[Any, ...]) -> str:
        for name in placeholders(text):
            if name not in bound:
                self.error(
                    path,
                    f"{{${name}}} is not bound by any 'when' pattern" + did_you_mean(name, bound),
                )
        return " ".join(text.split())

    # -- actions ----------------------------------------------------------

    def treatment_ref(
        self, value: str, bound: Mapping[str, FieldSpec], path: tuple[Any, ...], verb: str
    ) -> str | Var | None:
        if is_var(value):
            var = self.var(value, bound, path)
            if var is None:
                return None
            spec = bound[var.name]
            if spec.allowed is None or not set(spec.allowed) <= set(self.treatments):
                self.error(
                    path,
                    f"${var.name} is bound to a field whose values are not treatment ids; "
                    "bind it from treatment.id, recommend.treatment or avoid.treatment",
                )
                return None
            return var
        treatment = self.treatments.get(value)
        if treatment is None:
            self.error(path, f"unknown treatment id {value!r}" + did_you_mean(value, self.treatments))
            return None
        if verb in ("recommend", "combine") and treatment.kind == "unsafe":
            self.error(path, f"{value!r} is catalogued as unsafe: it can only be avoided")
            return None
        return value

    def action(self, raw: dict[str, Any], path: tuple[Any, ...], bound: Mapping[str, FieldSpec]) -> Action | None:
        kind = next(k for k in ACTION_KINDS if k in raw)
        where = self.where(path)
        targets = tuple(
            self.var(t, bound, (*path, "targets", i)) if is_var(t) else t for i, t in enumerate(raw.get("targets", []))
        )
        if kind in ("recommend", "avoid", "caution", "leave_out"):
            target = self.treatment_ref(raw[kind], bound, (*path, kind), kind)
            text_key = {"recommend": "explain", "avoid": "reason", "caution": "text", "leave_out": "reason"}[kind]
            text = self.text(raw[text_key], bound, (*path, text_key))
            scope = self.scope(raw.get("scope", {}), bound, (*path, "scope"))
            if target is None or None in targets or scope is None:
                return None
            return Action(
                kind,
                target=target,
                text=text,
                tier=raw.get("tier", schemas.ACTION_DEFAULTS["tier"]),
                targets=targets,
                where=where,
                constraint=raw.get("constraint", ""),
                scope=scope,
                risk=bool(raw.get("risk", schemas.CAUTION_DEFAULTS["risk"])),
            )
        if kind == "combine":
            components = []
            for i, cid in enumerate(raw["combine"]):
                ref = self.treatment_ref(cid, bound, (*path, "combine", i), "combine")
                if isinstance(ref, Var):
                    self.error((*path, "combine", i), "name combination components by id, not by variable")
                    return None
                components.append(ref)
            text = self.text(raw["rationale"], bound, (*path, "rationale"))
            sequence = self.text(raw.get("sequence", ""), bound, (*path, "sequence"))
            if None in components or None in targets:
                return None
            return Action(
                "combine",
                text=text,
                components=tuple(components),
                sequence=sequence,
                tier=raw.get("tier", schemas.ACTION_DEFAULTS["tier"]),
                targets=targets,
                where=where,
            )
        if kind == "assert":
            return self.assertion(raw["assert"], (*path, "assert"), bound, where)
        if kind == "alert":
            text = self.text(raw["text"], bound, (*path, "text"))
            return Action("alert", target=raw["alert"], text=text, severity=raw["severity"], where=where)
        return Action("note", text=self.text(raw["note"], bound, (*path, "note")), where=where)

    def scope(
        self, raw: dict[str, Any], bound: Mapping[str, FieldSpec], path: tuple[Any, ...]
    ) -> dict[str, Any] | None:
        """An avoid's or leave_out's scope: values of the target template's fields, literal or bound."""
        if not raw:
            return {}
        if self.targets is None:
            self.error(path, "a scope needs 'targets' in kb.yaml: it names fields of the target template")
            return None
        template = self.templates[self.targets[0]]
        return self.field_values(template, raw, bound, path, "cannot scope", any_of=True)

    def field_values(
        self,
        template: Template,
        values: Mapping[str, Any],
        bound: Mapping[str, FieldSpec],
        path: tuple[Any, ...],
        verb: str,
        *,
        any_of: bool = False,
    ) -> dict[str, Any] | None:
        """Values for a template's fields, each a literal it accepts or a variable of a fitting type.

        ``verb`` says what a misfit variable cannot do ("be stored in", "scope");
        with ``any_of`` a list of literals means any of them (a scope), kept as a tuple.
        """
        out: dict[str, Any] = {}
        ok = True
        for fname, value in values.items():
            spec = template.fields.get(fname)
            fpath = (*path, fname)
            if spec is None:
                self.error(
                    fpath,
                    f"template {template.name!r} has no field {fname!r}" + did_you_mean(fname, template.fields),
                    key=True,
                )
                ok = False
            elif is_var(value):
                var = self.var(value, bound, fpath)
                if var is not None and (why := _cannot_hold(bound[var.name], spec)):
                    self.error(fpath, f"${var.name} {verb} {template.name}.{fname}: {why}")
                    var = None
                ok = ok and var is not None
                out[fname] = var
            elif any_of and isinstance(value, list):
                label = f"{template.name}.{fname}"
                if all([self.literal(v, spec, label, (*fpath, i)) for i, v in enumerate(value)]):
                    out[fname] = tuple(value)
                else:
                    ok = False
            elif self.literal(value, spec, f"{template.name}.{fname}", fpath):
                out[fname] = value
            else:
                ok = False
        return out if ok else None

    def assertion(
        self,
        raw: dict[str, Any],
        path: tuple[Any, ...],
        bound: Mapping[str, FieldSpec],
        where: Where,
    ) -> Action | None:
        ((name, values),) = raw.items()
        template = self.templates.get(name)
        if template is None:
            self.error(
                (*path, name),
                f"unknown template {name!r}" + did_you_mean(name, self.templates),
                key=True,
            )
            return None
        if template.builtin or template.input is not None:
            origin = "built in" if template.builtin else "read from the patient file"
            self.error(
                (*path, name),
                f"template {name!r} is {origin}; rules may only assert derived facts",
                key=True,
            )
            return None
        resolved = self.field_values(template, values, bound, (*path, name), "cannot be stored in")
        ok = resolved is not None
        resolved = resolved or {}
        for fname, spec in template.fields.items():
            if fname in values:
                continue
            if spec.has_default:
                resolved[fname] = spec.default
            else:
                self.error((*path, name), f"missing field {fname!r} (it has no default)")
                ok = False
        return Action("assert", template=name, values=resolved, where=where) if ok else None

    # -- rules ------------------------------------------------------------

    def rule(self, raw: dict[str, Any], path: tuple[Any, ...], index: int) -> Rule | None:
        before = len(self.problems)
        when_raw = raw.get("when", [])
        unless_raw = raw.get("unless", [])
        when = [(i, self.pattern(p, (*path, "when", i), False)) for i, p in enumerate(when_raw)]
        unless = [(i, self.pattern(p, (*path, "unless", i), True)) for i, p in enumerate(unless_raw)]
        when_ok = [(i, p) for i, p in when if p is not None]
        unless_ok = [(i, p) for i, p in unless if p is not None]
        bound = bound_fields([p for _, p in when_ok], self.templates)
        self.check_vars(path, when_ok, unless_ok, bound)
        actions = [self.action(a, (*path, "then", i), bound) for i, a in enumerate(raw["then"])]
        self.problems.extend(check_sources(raw["sources"], self.sources, self.doc, (*path, "sources")))
        if len(self.problems) != before:
            return None
        return Rule(
            id=raw["id"],
            title=" ".join(raw["title"].split()),
            salience=int(raw.get("salience", schemas.RULE_DEFAULTS["salience"])),
            when=tuple(p for _, p in when_ok),
            unless=tuple(p for _, p in unless_ok),
            then=tuple(a for a in actions if a is not None),
            sources=tuple(raw["sources"]),
            where=self.where(path),
            index=index,
        )


def check_sources(
    refs: list[str], sources: Mapping[str, SourceDoc], doc: yamlio.Document, path: tuple[Any, ...]
) -> list[Problem]:
    """Every cited document must be declared in kb.yaml, so a citation cannot silently rot."""
    problems = []
    for i, ref in enumerate(refs):
        name, _, anchor = ref.partition("#")
        if name not in sources:
            problems.append(
                doc.problem(
                    (*path, i),
                    f"unknown source {name!r}; declare it under 'sources' in kb.yaml" + did_you_mean(name, sources),
                )
            )
        elif anchor and sources[name].sections and anchor not in sources[name].sections:
            # A digest's sections are what a plan cites in its place: an unlisted one
            # would print the digest's file name, which readers do not have.
            problems.append(
                doc.problem(
                    (*path, i),
                    f"section {anchor!r} of {name!r} is not listed under sources.{name}.sections in kb.yaml; "
                    "add it with the publications the document names for it"
                    + did_you_mean(anchor, sources[name].sections),
                )
            )
    return problems


def parse_rules(
    docs: list[yamlio.Document],
    templates: Mapping[str, Template],
    treatments: Mapping[str, Treatment],
    sources: Mapping[str, SourceDoc],
    problems: list[Problem],
    targets: tuple[str, str] | None = None,
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: dict[str, Where] = {}
    index = 0
    for doc in docs:
        parser = RuleParser(doc, templates, treatments, sources, problems, targets)
        for i, raw in enumerate(doc.data):
            path = (i,)
            if raw["id"] in seen:
                parser.error(
                    (*path, "id"),
                    f"duplicate rule id {raw['id']!r} (first defined at {seen[raw['id']]})",
                )
                continue
            seen[raw["id"]] = parser.where(path)
            rule = parser.rule(raw, path, index)
            index += 1
            if rule is not None:
                rules.append(rule)
    return tuple(rules)


_NUMBERS = ("integer", "number")


def _cannot_hold(source: FieldSpec, target: FieldSpec) -> str:
    """Why a value of ``source`` may not fit ``target`` (empty when it always fits).

    A derived fact must hold values of its own fields' types: a boolean stored in
    an integer field would later be compared with numbers, and Python (and so the
    Rete network's joins) counts ``true`` as ``1``.
    """
    if source.type != target.type and not (source.type == "integer" and target.type == "number"):
        return f"it holds {source.describe_allowed()}, but the field holds {target.describe_allowed()}"
    if target.allowed is not None and source.allowed is None:
        return "it may hold any text, which the field does not allow"
    if target.allowed is not None and not set(source.allowed or ()) <= set(target.allowed) | {None}:
        extra = sorted(map(str, set(source.allowed or ()) - set(target.allowed)))
        return f"it may hold {', '.join(extra)}, which the field does not allow"
    if source.nullable and not target.nullable and source.type != "list":
        return "it may be null (not given), and the field is not nullable"
    return ""


def _cannot_join(bound: FieldSpec, here: FieldSpec, op: str) -> str:
    """Why joining a variable bound from ``bound`` with a field ``here`` is meaningless."""
    if op in COMPARISONS:
        return "" if bound.type in _NUMBERS else f"is compared as a number but holds {bound.describe_allowed()}"
    if bound.type == here.type or (bound.type in _NUMBERS and here.type in _NUMBERS):
        return ""
    return f"joins {bound.describe_allowed()} with a field that holds {here.describe_allowed()}: they never match"
