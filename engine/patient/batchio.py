"""Reading many patients from one file: JSON lines, YAML documents, or CSV rows.

Each reader yields ``(line, document, problem)`` one record at a time, so a
batch of any size runs in constant memory; a record that cannot be read yields a
problem instead of stopping the batch.

CSV columns are flat names for the patient-file fields: ``KEY.FIELD`` for a
template read as one mapping (list fields' items separated by ``;``), and
``KEY.N.FIELD`` with the item number for a template read as a list. An empty
cell means "not given" (the field's default); ``true/false``, ``yes/no`` and
``1/0`` are booleans; numbers are read as the template declares them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

import yaml

from ..common.errors import Problem
from ..common.numbers import plain
from ..documents import yamlio
from ..knowledge.model import FieldSpec, KnowledgeBase

Record = tuple[int, Any, Problem | None]


def detect(name: str, explicit: str) -> str:
    if explicit != "auto":
        return explicit
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl"


def read_jsonl(stream: IO[str], name: str) -> Iterator[Record]:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, Problem(name, number, exc.colno, "", f"not a JSON object: {exc.msg}")


def read_yaml(stream: IO[str], name: str) -> Iterator[Record]:
    """One record per YAML document (separated by ``---``), with positions kept."""
    loader = yamlio._Loader(stream)
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.MarkedYAMLError as exc:
                problem = yamlio.syntax_problem(exc, name)
                yield (problem.line or 0), None, problem
                return
            doc = yamlio.Document(file=name, data=None)
            problems: list[Problem] = []
            try:
                doc.data = yamlio._Builder(loader, doc, problems).root(node)
            except yaml.MarkedYAMLError as exc:
                problems.append(yamlio.syntax_problem(exc, name))
            except yaml.YAMLError as exc:
                problems.append(Problem(name, node.start_mark.line + 1, None, "", f"not valid YAML: {exc}"))
            line = node.start_mark.line + 1
            yield (line, doc, problems[0]) if problems else (line, doc, None)
    finally:
        loader.dispose()


def _cell(kb: KnowledgeBase, template_name: str, field: str, text: str) -> Any:
    return value_from_text(kb.templates[template_name].fields[field], text)


def value_from_text(spec: FieldSpec, text: str) -> Any:
    """A value typed as text (a CSV cell, a command-line argument) as the field holds it.

    Empty means not given by the caller; ``null``/``none`` is null where the field
    allows it; a list takes items separated by ``;``. What cannot be read is kept
    as text for validation to report in its usual words.
    """
    value = text.strip()
    if value.lower() in ("null", "none") and spec.nullable and spec.type != "list":
        return None
    if spec.type == "list":
        return [v.strip() for v in value.split(";") if v.strip()]
    if spec.type == "boolean":
        lowered = value.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True
        if lowered in ("false", "no", "n", "0"):
            return False
        return value
    if spec.type in ("integer", "number"):
        try:
            return plain(float(value))
        except ValueError:
            return value
    return value


def _example_columns(by_key: dict[str, Any]) -> str:
    """Two column names this knowledge base accepts, to show the form in an error."""
    out = []
    for key, template in by_key.items():
        first = next(iter(template.fields))
        out.append(f"{key}.1.{first}" if template.input.many else f"{key}.{first}")
    return ", ".join(out[:2])


def read_csv(stream: IO[str], name: str, kb: KnowledgeBase) -> Iterator[Record]:
    reader = csv.DictReader(stream)
    by_key = {t.input.key: t for t in kb.input_templates() if t.input is not None}
    header_problem = None
    columns: dict[str, tuple[str, int | None, str]] = {}
    for column in reader.fieldnames or []:
        parts = column.strip().split(".")
        template = by_key.get(parts[0])
        ok = template is not None and (
            (len(parts) == 2 and not template.input.many and parts[1] in template.fields)
            or (len(parts) == 3 and template.input.many and parts[1].isdigit() and parts[2] in template.fields)
        )
        if not ok:
            header_problem = Problem(
                name, 1, None, "", f"column {column!r} is not a patient-file field (e.g. {_example_columns(by_key)})"
            )
            break
        if column in columns:
            header_problem = Problem(name, 1, None, "", f"column {column!r} appears twice in the header")
            break
        columns[column] = (parts[0], int(parts[1]) if len(parts) == 3 else None, parts[-1])
    if header_problem is not None:
        yield 1, None, header_problem
        return
    width = len(reader.fieldnames or [])
    for row in reader:
        line = reader.line_num
        cells = sum(1 for k, v in row.items() if k is not None and v is not None) + len(row.get(None) or [])
        if cells != width:
            yield line, None, Problem(name, line, None, "", f"the row has {cells} cells; the header has {width}")
            continue
        doc: dict[str, Any] = {}
        items: dict[str, dict[int, dict[str, Any]]] = {}
        for column, text in row.items():
            if column is None or text is None or not text.strip():
                continue
            key, index, field = columns[column]
            template = by_key[key]
            value = _cell(kb, template.name, field, text)
            if index is None:
                doc.setdefault(key, {})[field] = value
            else:
                items.setdefault(key, {}).setdefault(index, {})[field] = value
        for key, numbered in items.items():
            doc[key] = [numbered[i] for i in sorted(numbered)]
        yield line, doc, None
