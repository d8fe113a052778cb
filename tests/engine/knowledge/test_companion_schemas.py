"""engine/knowledge/companion_schemas.py: the schemas of a knowledge base's
questionnaire and test cases are valid draft 2020-12 schemas, share the rule
language's constraints, and with the core schemas cover every kind `kb schema`
prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cicatrix.engine.documents import yamlio
from cicatrix.engine.knowledge import companion_schemas, schemas


@pytest.mark.parametrize("name", ["tests", "questions"])
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    schema = companion_schemas.ALL[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == schemas.DIALECT
    assert schema["$id"] == f"cicatrix:{name}"
    assert schema["title"]


def test_all_holds_the_core_schemas_themselves():
    assert companion_schemas.ALL["kb"] is schemas.MANIFEST
    assert companion_schemas.ALL["templates"] is schemas.TEMPLATES
    assert companion_schemas.ALL["treatments"] is schemas.TREATMENTS
    assert companion_schemas.ALL["rules"] is schemas.RULES
    assert companion_schemas.ALL["tests"] is companion_schemas.TESTS
    assert companion_schemas.ALL["questions"] is companion_schemas.QUESTIONS
    assert len({schema["$id"] for schema in companion_schemas.ALL.values()}) == len(companion_schemas.ALL)


def test_all_covers_every_kind_the_schema_command_lists(run_cli):
    run = run_cli("kb", "schema")
    assert run.code == 0, run.err
    printed = json.loads(run.out)
    # the patient schema alone is derived from a knowledge base's templates
    assert set(printed) == {*companion_schemas.ALL, "patient"}
    for kind, schema in companion_schemas.ALL.items():
        assert printed[kind] == schema, kind


def test_ask_if_takes_the_rule_languages_constraints():
    question = companion_schemas.QUESTIONS["properties"]["groups"]["items"]["properties"]["questions"]["items"]
    condition = question["properties"]["ask_if"]["anyOf"][0]
    assert schemas._CONSTRAINT_OPS in condition["additionalProperties"]["anyOf"]


def _valid(schema: dict[str, Any], text: str) -> bool:
    return Draft202012Validator(schema).is_valid(yamlio.parse(text, "f.yaml").data)


def test_the_bundled_questionnaire_and_test_cases_conform(kb):
    root = Path(kb.root)
    paths = [(root / "questions.yaml", companion_schemas.QUESTIONS)]
    paths += [(path, companion_schemas.TESTS) for path in sorted((root / "tests").glob("*.yaml"))]
    assert len(paths) > 1
    for path, schema in paths:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(yamlio.read(path).data)]
        assert errors == [], path


QUESTIONS = """\
groups:
  - template: scar
    repeat: Another?
    questions:
      - field: type
        prompt: What type?
      - field: depth
        prompt: How deep?
        default: shallow
        ask_if: {scar.type: [ice_pick, boxcar]}
      - field: site
        prompt: Where?
        ask_if:
          - {scar.type: {not: rolling}}
          - {patient.level: {gte: 2}, patient.pregnant: false}
"""

CASES = """\
cases:
  - id: C1-first.case
    patient: {scars: [{type: boxcar}]}
    expect:
      recommend: [alpha, alpha+beta]
      recommend_any: [[alpha, beta]]
      not_recommend: [never]
      avoid: [never]
      first: alpha
      notes: [fired]
      cautions: {alpha: careful}
      routine: {morning_last: gamma, evening_includes: [gamma], nights: {gamma: 3}}
"""


def test_small_files_conform():
    assert _valid(companion_schemas.QUESTIONS, QUESTIONS)
    assert _valid(companion_schemas.TESTS, CASES)


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        (companion_schemas.QUESTIONS, "groups: []\n"),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("prompt: What type?", "promt: What type?")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("prompt: What type?", "prompt: ''")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("        prompt: What type?\n", "")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("{scar.type: [ice_pick, boxcar]}", "{type: ice_pick}")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("{scar.type: [ice_pick, boxcar]}", "{}")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("{scar.type: {not: rolling}}", "{scar.type: {nott: x}}")),
        (companion_schemas.QUESTIONS, QUESTIONS.replace("  - template: scar\n", "  - template: Scar\n")),
        (companion_schemas.TESTS, "cases: []\n"),
        (companion_schemas.TESTS, CASES.replace("id: C1-first.case", "id: -first")),
        (companion_schemas.TESTS, CASES.replace("first: alpha", "frist: alpha")),
        (companion_schemas.TESTS, CASES.replace("recommend_any: [[alpha, beta]]", "recommend_any: [[alpha]]")),
        (companion_schemas.TESTS, CASES.replace("nights: {gamma: 3}", "nights: {gamma: often}")),
        (companion_schemas.TESTS, CASES.replace("    patient: {scars: [{type: boxcar}]}\n", "")),
    ],
)
def test_the_schemas_refuse(schema, text):
    assert not _valid(schema, text)
