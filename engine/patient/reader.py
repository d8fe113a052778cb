"""A patient file -> normalised input facts, checked against the knowledge base's templates.

The patient file's shape is not hard-coded: each template with an ``input``
section names its key in the file and whether it holds one mapping or a list.
We derive a JSON Schema from those templates so that patient files and rule files
share one validator and one style of message ("did you mean").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError
from ..documents import validate, yamlio
from ..knowledge.model import FieldSpec, KnowledgeBase, Template


@dataclass(frozen=True)
class InputFact:
    """One fact read from the patient file, with the id a trace will call it by."""

    id: str
    template: str
    values: dict[str, Any]


@dataclass(frozen=True)
class PatientInput:
    source: str
    normalised: dict[str, Any]
    facts: tuple[InputFact, ...]


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
    """The JSON Schema of a patient file for this knowledge base."""
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


def _normalise(template: Template, raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, spec in template.fields.items():
        value = raw.get(name, spec.default)
        if isinstance(value, list):
            value = list(value)
        elif spec.type == "integer" and isinstance(value, float):
            value = int(value)  # 3.0 is a whole number; the plan shows 3
        out[name] = value
    return out


def _conforms(data: dict[str, Any], kb: KnowledgeBase) -> bool:
    """Whether the document fits the templates, by the templates' own value rules.

    This is only a fast yes: a well-formed patient file (almost all of them) skips
    importing and running the JSON Schema validator, which is most of a cold
    consultation's time. Anything it does not accept goes to the validator, which
    decides and words the errors.
    """
    by_key = {t.input.key: t for t in kb.input_templates() if t.input is not None}
    if not set(data) <= set(by_key):
        return False
    for key, template in by_key.items():
        assert template.input is not None
        if key not in data:
            if template.input.many and template.input.min_items:
                return False
            continue
        value = data[key]
        items = value if template.input.many else [value]
        if not isinstance(items, list) or len(items) < template.input.min_items:
            return False
        for item in items:
            if not isinstance(item, dict) or not set(item) <= set(template.fields):
                return False
            for name, spec in template.fields.items():
                if name not in item:
                    if spec.required:
                        return False
                    continue
                v = item[name]
                if spec.type == "list":
                    if not isinstance(v, list) or not all(spec.accepts(x) for x in v) or len(set(v)) != len(v):
                        return False
                elif not spec.accepts(v):
                    return False
    return True


def _reject_non_finite(doc: yamlio.Document) -> None:
    """YAML's .inf and .nan are numbers to a schema but not to JSON or to a person."""
    import math

    def walk(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            yield doc.problem(path, f"expected a finite number, got {value}")
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, (*path, i))

    problems = list(walk(doc.data, ()))
    if problems:
        raise CicatrixError(problems)


def from_document(doc: yamlio.Document, kb: KnowledgeBase) -> PatientInput:
    if not isinstance(doc.data, dict):
        raise CicatrixError(
            [doc.problem((), f"expected a mapping with {_keys(kb)}, got {validate.type_word(doc.data)}")]
        )
    if not _conforms(doc.data, kb):
        problems = validate.check(doc, patient_schema(kb))
        if problems:
            raise CicatrixError(problems)
    _reject_non_finite(doc)
    normalised: dict[str, Any] = {}
    facts: list[InputFact] = []
    for template in kb.input_templates():
        assert template.input is not None
        key = template.input.key
        if template.input.many:
            items = [_normalise(template, raw) for raw in doc.data.get(key, [])]
            normalised[key] = items
            facts.extend(InputFact(f"{template.name}-{i}", template.name, v) for i, v in enumerate(items, 1))
        else:
            values = _normalise(template, doc.data.get(key) or {})
            normalised[key] = values
            facts.append(InputFact(template.name, template.name, values))
    return PatientInput(source=doc.file, normalised=normalised, facts=tuple(facts))


def _keys(kb: KnowledgeBase) -> str:
    return " and ".join(repr(t.input.key) for t in kb.input_templates() if t.input is not None)


def read(path: Path | str, kb: KnowledgeBase) -> PatientInput:
    path = Path(path)
    doc = yamlio.read(path)
    if doc.data is None:
        raise CicatrixError.about(str(path), f"the file is empty; expected {_keys(kb)}")
    return from_document(doc, kb)


def from_data(data: dict[str, Any], kb: KnowledgeBase, source: str = "<data>") -> PatientInput:
    """Validate an in-memory patient document (tests, batch input)."""
    return from_document(yamlio.Document(file=source, data=data), kb)
