"""A patient file -> normalised input facts, checked against the knowledge base's templates.

The patient file's shape is not hard-coded: each template with an ``input``
section names its key in the file and whether it holds one mapping or a list.
:mod:`.schema` derives a JSON Schema from those templates, so that patient files
and rule files share one validator and one style of message ("did you mean"),
and a fast check compiled from that same schema lets a well-formed file skip the
validator altogether.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError
from ..common.numbers import plain
from ..documents import validate, yamlio
from ..knowledge.model import KnowledgeBase, Template
from .schema import derived


@dataclass(frozen=True)
class InputFact:
    """One fact read from the patient file, with the id a trace will call it by."""

    id: str
    template: str
    values: dict[str, Any]


@dataclass(frozen=True)
class PatientInput:
    """A validated patient file: the normalised data and the facts a session declares."""

    source: str
    normalised: dict[str, Any]
    facts: tuple[InputFact, ...]


def _normalise(template: Template, raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, spec in template.fields.items():
        value = raw.get(name, spec.default)
        if isinstance(value, list):
            value = list(value)
        elif spec.type in ("integer", "number"):
            value = plain(value)  # 3.0 is a whole number: every input route shows 3
        out[name] = value
    return out


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
    rules = derived(kb)
    if not rules.conforms(doc.data):  # a sure yes skips importing jsonschema
        problems = validate.check(doc, rules.schema)
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
