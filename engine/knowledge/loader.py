"""YAML knowledge base -> validated, frozen model objects.

Loading happens in two passes. First every file is parsed and checked against
its JSON Schema; structural problems are reported together because the second
pass (which resolves template names, field names, values, treatment ids and
sources) would only repeat them in other words. The second pass is where
"did you mean" earns its keep: almost every authoring error is a typo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..common.memory import collector_paused
from ..documents import limits, validate, yamlio
from . import schemas
from .files import BUNDLED_KB, PLAN_FILE, digest_of, knowledge_files
from .model import (
    CATALOGUE_KINDS,
    COSTS,
    TIERS,
    FieldSpec,
    InputSpec,
    KnowledgeBase,
    Publication,
    RoutineSpec,
    SourceDoc,
    Template,
    Treatment,
    Where,
)
from .plan_parser import check_courses, course_spec, parse_plan
from .rule_parser import check_sources, parse_rules

BUILTIN_TEMPLATES = ("treatment", "recommend", "avoid")


def _display(path: Path, root: Path) -> str:
    """File names in messages: relative to the knowledge base's parent when possible."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:  # pragma: no cover - root is always an ancestor
        return str(path)


class _Reader:
    """Reads each file once: its bytes feed the digest, its data the schema check.

    Problems are collected rather than raised so an author sees every broken
    file in one pass.
    """

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.parts: list[tuple[str, bytes]] = []

    def read(self, path: Path, schema: dict[str, Any], *, optional: bool = False) -> yamlio.Document | None:
        """The file parsed and schema-checked; ``optional`` files may be empty (comments only)."""
        name = _display(path, self.root)
        if not path.exists() and not path.is_symlink():
            self.problems.append(Problem(name, None, None, "", "missing: every knowledge base needs this file"))
            return None
        try:
            raw = limits.read_bytes(path, name)
            self.parts.append((path.relative_to(self.root).as_posix(), raw))
            doc = yamlio.parse(limits.decode(raw, name), name)
        except CicatrixError as exc:
            self.problems.extend(exc.problems)
            return None
        if doc.data is None and optional:
            doc = replace(doc, data={})
        if doc.data is None:
            self.problems.append(Problem(name, 1, 1, "", "the file is empty"))
            return None
        found = validate.check(doc, schema)
        self.problems.extend(found)
        return None if found else doc


def load(root: Path | str | None = None) -> KnowledgeBase:
    """Load and validate a knowledge-base folder.

    Raises :class:`CicatrixError` listing every problem found, not just the first.
    Everything loaded stays alive, so the cyclic collector is paused meanwhile
    (see :mod:`..common.memory`): with it on, loading grows faster than linearly
    with the number of rules.
    """
    with collector_paused():
        return _load(root)


def _load(root: Path | str | None) -> KnowledgeBase:
    root = Path(root) if root is not None else BUNDLED_KB
    if not root.is_dir():
        raise CicatrixError.about(str(root), "no such knowledge-base folder")
    reader = _Reader(root)
    problems = reader.problems
    manifest, templates_doc, treatments_doc, *rest = knowledge_files(root)
    plan_file = rest.pop(0) if rest and rest[0].name == PLAN_FILE else None
    rule_files = rest
    manifest = reader.read(manifest, schemas.MANIFEST)
    templates_doc = reader.read(templates_doc, schemas.TEMPLATES)
    treatments_doc = reader.read(treatments_doc, schemas.TREATMENTS)
    plan_doc = reader.read(plan_file, schemas.PLAN, optional=True) if plan_file is not None else None
    if not rule_files:
        problems.append(Problem(_display(root / "rules", root), None, None, "", "no rule files (*.yaml)"))
    rule_docs = [d for d in (reader.read(p, schemas.RULES) for p in rule_files) if d is not None]
    if problems or manifest is None or templates_doc is None or treatments_doc is None:
        raise CicatrixError(problems)
    if plan_file is not None and plan_doc is None:
        raise CicatrixError(problems)

    sources = _sources(manifest)
    publications = _publications(manifest, sources, problems)
    treatments = _treatments(treatments_doc, sources, problems)
    templates = _templates(templates_doc, problems)
    templates.update(_builtin_templates(treatments, templates_doc.file))
    targets = _targets(manifest, templates, problems)
    rules = parse_rules(rule_docs, templates, treatments, sources, problems, targets)
    plan = parse_plan(plan_doc, templates, treatments, sources, targets, problems)
    check_courses(treatments_doc, treatments, plan, problems)
    if problems:
        raise CicatrixError(problems)
    data = manifest.data
    return KnowledgeBase(
        name=str(data["name"]),
        version=str(data["version"]),
        description=str(data.get("description", "")),
        disclaimer=str(data["disclaimer"]).strip(),
        root=str(root),
        digest=digest_of(reader.parts),
        templates=templates,
        treatments=treatments,
        rules=rules,
        sources=sources,
        targets=targets,
        title=str(data.get("title", "")),
        plan=plan,
        publications=publications,
    )


def _targets(
    manifest: yamlio.Document, templates: Mapping[str, Template], problems: list[Problem]
) -> tuple[str, str] | None:
    """The input field recommendation targets name, checked against the templates."""
    if "targets" not in manifest.data:
        return None
    targets = (manifest.data["targets"]["template"], manifest.data["targets"]["field"])
    template = templates.get(targets[0])
    if template is None or template.input is None:
        problems.append(
            manifest.problem(
                ("targets", "template"),
                f"{targets[0]!r} is not a template read from the patient file"
                + did_you_mean(targets[0], [t.name for t in templates.values() if t.input]),
            )
        )
    elif targets[1] not in template.fields:
        problems.append(
            manifest.problem(
                ("targets", "field"),
                f"template {targets[0]!r} has no field {targets[1]!r}" + did_you_mean(targets[1], template.fields),
            )
        )
    return targets


def _where(doc: yamlio.Document, path: tuple[Any, ...]) -> Where:
    mark = doc.mark(path, key=True)
    return Where(doc.file, mark.line if mark else None, mark.column if mark else None)


def _sources(doc: yamlio.Document) -> dict[str, SourceDoc]:
    return {
        name: SourceDoc(
            id=name,
            title=spec["title"],
            confidence=spec["confidence"],
            description=spec.get("description", ""),
            sections={anchor: tuple(cited) for anchor, cited in spec.get("sections", {}).items()},
        )
        for name, spec in doc.data["sources"].items()
    }


def _publications(
    doc: yamlio.Document, sources: Mapping[str, SourceDoc], problems: list[Problem]
) -> dict[str, Publication]:
    """The works sections name; every name a section gives must be one of them or a source.

    Checked here rather than left to render time, so a reference list can never
    print a bare id nobody can look up.
    """
    works = {
        wid: Publication(wid, spec["title"], spec["confidence"], spec.get("kind", ""), spec.get("url", ""))
        for wid, spec in doc.data.get("publications", {}).items()
    }
    for wid in works:
        if wid in sources:
            problems.append(
                doc.problem(("publications", wid), f"{wid!r} is also a source's name; use another id", key=True)
            )
    known = [*works, *sources]
    for name, source in sources.items():
        for anchor, cited in source.sections.items():
            for i, wid in enumerate(cited):
                if wid not in works and wid not in sources:
                    problems.append(
                        doc.problem(
                            ("sources", name, "sections", anchor, i),
                            f"unknown publication {wid!r}; declare it under 'publications' in kb.yaml, "
                            "or name a source" + did_you_mean(wid, known),
                        )
                    )
                elif wid == name:
                    problems.append(
                        doc.problem(("sources", name, "sections", anchor, i), "a section cannot cite its own document")
                    )
    return works


def _templates(doc: yamlio.Document, problems: list[Problem]) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    input_keys: dict[str, str] = {}
    for name, spec in doc.data["templates"].items():
        path = ("templates", name)
        if name in BUILTIN_TEMPLATES:
            problems.append(doc.problem(path, f"{name!r} is a built-in template; choose another name", key=True))
            continue
        fields = {}
        for fname, fspec in spec["fields"].items():
            field = _field(doc, (*path, "fields", fname), fname, fspec, problems)
            if field is not None:
                fields[fname] = field
        input_spec = None
        if "input" in spec:
            raw = spec["input"]
            input_spec = InputSpec(
                key=raw["key"],
                many=bool(raw.get("many", schemas.INPUT_DEFAULTS["many"])),
                min_items=int(raw.get("min_items", schemas.INPUT_DEFAULTS["min_items"])),
                max_items=raw.get("max_items"),
            )
            if input_spec.key in input_keys:
                problems.append(
                    doc.problem(
                        (*path, "input", "key"),
                        f"the patient-file key {input_spec.key!r} is already used by template "
                        f"{input_keys[input_spec.key]!r}",
                    )
                )
            input_keys[input_spec.key] = name
        templates[name] = Template(
            name=name,
            description=spec.get("description", ""),
            fields=fields,
            input=input_spec,
            where=_where(doc, path),
        )
    return templates


def _field(
    doc: yamlio.Document,
    path: tuple[Any, ...],
    name: str,
    spec: dict[str, Any],
    problems: list[Problem],
) -> FieldSpec | None:
    kind = spec["type"]
    allowed = tuple(spec["allowed"]) if "allowed" in spec else None
    before = len(problems)
    if allowed is not None and kind in ("boolean", "integer", "number"):
        problems.append(doc.problem((*path, "allowed"), f"'allowed' does not apply to a {kind} field"))
    if ("minimum" in spec or "maximum" in spec) and kind not in ("integer", "number"):
        problems.append(doc.problem(path, f"'minimum'/'maximum' apply to numbers, not to a {kind} field"))
    if "minimum" in spec and "maximum" in spec and spec["minimum"] > spec["maximum"]:
        problems.append(doc.problem((*path, "minimum"), "'minimum' is greater than 'maximum'"))
    labels = dict(spec.get("labels", {}))
    for value in labels:
        if allowed is not None and value not in allowed:
            problems.append(
                doc.problem(
                    (*path, "labels", value),
                    f"label for {value!r}, which is not an allowed value" + did_you_mean(value, allowed),
                    key=True,
                )
            )
    field = FieldSpec(
        name=name,
        type=kind,
        description=spec.get("description", ""),
        allowed=allowed,
        labels=labels,
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
        nullable=bool(spec.get("nullable", schemas.FIELD_DEFAULTS["nullable"])),
        required=bool(spec.get("required", schemas.FIELD_DEFAULTS["required"])),
        default=spec.get("default"),
        has_default="default" in spec,
        unit=spec.get("unit", ""),
        unknown=spec.get("unknown", ""),
    )
    if field.required and field.has_default:
        problems.append(doc.problem((*path, "default"), "a required field cannot have a default"))
    if field.has_default:
        values = field.default if kind == "list" else [field.default]
        if kind == "list" and not isinstance(field.default, list):
            problems.append(doc.problem((*path, "default"), "the default of a list field must be a list"))
        else:
            for value in values:
                if not field.accepts(value):
                    problems.append(
                        doc.problem(
                            (*path, "default"),
                            f"default {value!r} is not {field.describe_allowed()}",
                        )
                    )
    elif not field.required:
        problems.append(doc.problem(path, "give the field a 'default' (or mark it 'required: true')", key=True))
    return field if len(problems) == before else None


def _treatments(
    doc: yamlio.Document, sources: Mapping[str, SourceDoc], problems: list[Problem]
) -> dict[str, Treatment]:
    entries = doc.data["treatments"]
    treatments: dict[str, Treatment] = {}
    for order, (tid, spec) in enumerate(entries.items()):
        path = ("treatments", tid)
        downtime = spec["downtime"]
        if downtime["min"] > downtime["max"]:
            problems.append(doc.problem((*path, "downtime", "min"), "'min' is greater than 'max'"))
        refs = [r if isinstance(r, str) else r["ref"] for r in spec["sources"]]
        confidence = {r["ref"]: r["confidence"] for r in spec["sources"] if isinstance(r, dict)}
        problems.extend(check_sources(refs, sources, doc, (*path, "sources")))
        routine = _routine(doc, path, spec, entries, problems) if "routine" in spec else None
        treatments[tid] = Treatment(
            id=tid,
            title=spec["title"],
            kind=spec["kind"],
            summary=spec["summary"].strip(),
            best_for=tuple(spec.get("best_for", [])),
            poor_fit=tuple(spec.get("poor_fit", [])),
            how_it_works=spec.get("how_it_works", "").strip(),
            sessions=spec.get("sessions", "").strip(),
            interval=spec.get("interval", "").strip(),
            downtime_min=float(downtime["min"]),
            downtime_max=float(downtime["max"]),
            results=spec.get("results", "").strip(),
            effectiveness=spec.get("effectiveness", "").strip(),
            cost=spec.get("cost", schemas.TREATMENT_DEFAULTS["cost"]),
            evidence=spec.get("evidence", schemas.TREATMENT_DEFAULTS["evidence"]),
            cautions=tuple(spec.get("cautions", [])),
            risks=tuple(spec.get("risks", [])),
            sources=tuple(refs),
            source_confidence=confidence,
            tags=tuple(spec.get("tags", [])),
            routine=routine,
            where=_where(doc, path),
            order=order,
            course=course_spec(spec["course"]) if "course" in spec else None,
            short=spec.get("short", ""),
            names=tuple(spec.get("names", [])),
        )
    return treatments


def _routine(
    doc: yamlio.Document,
    path: tuple[Any, ...],
    spec: dict[str, Any],
    entries: Mapping[str, Any],
    problems: list[Problem],
) -> RoutineSpec:
    """A home-care entry's place in the daily routine, with its references checked."""
    raw = {**schemas.ROUTINE_DEFAULTS, **spec["routine"]}
    if spec["kind"] != "home_care":
        problems.append(doc.problem((*path, "routine"), "only home_care treatments have a routine", key=True))
    for i, other in enumerate(raw.get("not_same_night_as", [])):
        if other not in entries:
            problems.append(
                doc.problem(
                    (*path, "routine", "not_same_night_as", i),
                    f"unknown treatment id {other!r}" + did_you_mean(other, entries),
                )
            )
    if not raw["morning"] and not raw["evening"]:
        problems.append(doc.problem((*path, "routine"), "a routine step needs 'morning: true' or 'evening: true'"))
    return RoutineSpec(
        morning=bool(raw["morning"]),
        evening=bool(raw["evening"]),
        order=int(raw["order"]),
        nights_per_week=int(raw["nights_per_week"]),
        not_same_night_as=tuple(raw.get("not_same_night_as", [])),
        how=" ".join(raw.get("how", "").split()),
    )


def _in_sentence(name: str) -> str:
    """A name as it reads mid-sentence: 'Cream' -> 'cream', but an acronym ('UV lamp') stays."""
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def _builtin_templates(treatments: Mapping[str, Treatment], file: str) -> dict[str, Template]:
    """Templates the engine itself asserts facts of, so rules can match its conclusions."""
    ids = tuple(treatments)
    tags = tuple(sorted({tag for t in treatments.values() for tag in t.tags}))
    # A bound treatment id reads as its name in a rule's text ("{$t}"), whichever
    # built-in fact bound it.
    named = {t.id: _in_sentence(t.name) for t in treatments.values()}
    where = Where(f"{file} (built in)")

    def f(
        name: str, kind: str, allowed: tuple[Any, ...] | None = None, description: str = "", unit: str = ""
    ) -> FieldSpec:
        return FieldSpec(name=name, type=kind, allowed=allowed, required=True, description=description, unit=unit)

    return {
        "treatment": Template(
            name="treatment",
            description="A catalogue entry as a fact, so rules can reason over the catalogue.",
            fields={
                "id": f("id", "string", ids)._replace(labels=named),
                "kind": f("kind", "string", CATALOGUE_KINDS),
                "downtime_min": f("downtime_min", "number", None, "fewest days of visible downtime")._replace(
                    unit="days"
                ),
                "downtime_max": f("downtime_max", "number", None, "most days of visible downtime")._replace(
                    unit="days"
                ),
                "cost": f("cost", "string", COSTS),
                "tags": f("tags", "list", tags or None),
            },
            input=None,
            where=where,
            builtin=True,
        ),
        "recommend": Template(
            name="recommend",
            description="Asserted by every recommend action.",
            fields={
                "treatment": f("treatment", "string", ids)._replace(labels=named),
                "tier": f("tier", "string", TIERS),
            },
            input=None,
            where=where,
            builtin=True,
        ),
        "avoid": Template(
            name="avoid",
            description="Asserted by every avoid action.",
            fields={"treatment": f("treatment", "string", ids)._replace(labels=named)},
            input=None,
            where=where,
            builtin=True,
        ),
    }
