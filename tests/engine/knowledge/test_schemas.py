"""engine/knowledge/schemas.py: the JSON Schemas of the knowledge-base files are
valid draft 2020-12 schemas; the defaults they publish are the ones the loader
fills in; their enums are the model's vocabularies; the bundled files conform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cicatrix.engine.documents import yamlio
from cicatrix.engine.knowledge import schemas
from cicatrix.engine.knowledge.files import knowledge_files
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import ACTION_KINDS, CATALOGUE_KINDS, CONFIDENCE, COSTS, FIELD_TYPES, TIERS

from ...conftest import MANIFEST, ONE_RULE, TEMPLATES

CORE = {
    "kb": schemas.MANIFEST,
    "templates": schemas.TEMPLATES,
    "treatments": schemas.TREATMENTS,
    "plan": schemas.PLAN,
    "rules": schemas.RULES,
}


@pytest.mark.parametrize("name", CORE)
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    schema = CORE[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == schemas.DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"cicatrix:{name}"
    assert schema["title"]


# --- defaults ----------------------------------------------------------------------------

TREATMENT = schemas.TREATMENTS["properties"]["treatments"]["additionalProperties"]
TEMPLATE = schemas.TEMPLATES["properties"]["templates"]["additionalProperties"]
RULE = schemas.RULES["items"]
ACTION = RULE["properties"]["then"]["items"]
ACTIONS = {branch["if"]["required"][0]: branch["then"]["properties"] for branch in ACTION["allOf"]}
COURSE = schemas.PLAN["properties"]["course"]

# Where each table of defaults is published: the properties that carry them.
PUBLISHED = [
    (schemas.TREATMENT_DEFAULTS, TREATMENT["properties"]),
    (schemas.ROUTINE_DEFAULTS, TREATMENT["properties"]["routine"]["properties"]),
    (schemas.INPUT_DEFAULTS, TEMPLATE["properties"]["input"]["properties"]),
    (schemas.FIELD_DEFAULTS, TEMPLATE["properties"]["fields"]["additionalProperties"]["properties"]),
    (schemas.RULE_DEFAULTS, RULE["properties"]),
    (schemas.ACTION_DEFAULTS, ACTIONS["recommend"]),
    (schemas.ACTION_DEFAULTS, ACTIONS["combine"]),
    (schemas.CAUTION_DEFAULTS, ACTIONS["caution"]),
    (schemas.COURSE_DEFAULTS, TREATMENT["properties"]["course"]["properties"]),
    (schemas.COURSE_PLAN_DEFAULTS, COURSE["properties"]),
    (schemas.PHASE_DEFAULTS, COURSE["properties"]["phases"]["items"]["properties"]),
    (schemas.ORDER_DEFAULTS, COURSE["properties"]["order"]["items"]["properties"]),
    (schemas.BURDEN_DEFAULTS, schemas.PLAN["properties"]["problems"]["properties"]["burden"]["properties"]),
]


@pytest.mark.parametrize(("defaults", "properties"), PUBLISHED)
def test_each_schema_publishes_the_declared_defaults(defaults, properties):
    published = {key: spec["default"] for key, spec in properties.items() if "default" in spec}
    assert published == defaults
    for key, value in defaults.items():  # and each default is itself valid where it is published
        assert Draft202012Validator(properties[key]).is_valid(value), key


def _defaults(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place a schema publishes a default (a property named 'default' is not one)."""
    found = []
    if isinstance(node, dict):
        if "default" in node and not (path and path[-1] == "properties"):
            found.append(path)
        for key, value in node.items():
            found.extend(_defaults(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_defaults(value, (*path, i)))
    return found


def test_no_default_is_published_outside_the_tables():
    places = sum(len(_defaults(schema)) for schema in CORE.values())
    assert places == sum(len(defaults) for defaults, _ in PUBLISHED)


TREATMENTS_OMITTING_DEFAULTS = """\
treatments:
  alpha:
    title: Alpha
    kind: procedure
    summary: A procedure that says neither its cost nor its evidence.
    downtime: {min: 1, max: 3}
    sources: [src.txt]
  cream:
    title: Cream
    kind: home_care
    summary: A cream whose routine says only when.
    downtime: {min: 0, max: 0}
    routine: {evening: true}
    sources: [src.txt]
  wash:
    title: Wash
    kind: home_care
    summary: A wash.
    downtime: {min: 0, max: 0}
    routine: {morning: true}
    sources: [src.txt]
"""

COMBINE = """\
- id: both
  title: both
  when: []
  then:
    - combine: [alpha, cream]
      rationale: together
  sources: [src.txt]
"""


def test_the_loader_fills_in_the_published_defaults(make_kb):
    kb = load(make_kb(ONE_RULE + COMBINE, treatments=TREATMENTS_OMITTING_DEFAULTS))
    alpha = kb.treatments["alpha"]
    assert (alpha.cost, alpha.evidence) == (TREATMENT["properties"]["cost"]["default"], "medium")
    assert {"cost": alpha.cost, "evidence": alpha.evidence} == schemas.TREATMENT_DEFAULTS
    cream, wash = kb.treatments["cream"].routine, kb.treatments["wash"].routine
    assert cream.morning is schemas.ROUTINE_DEFAULTS["morning"] is False
    assert wash.evening is schemas.ROUTINE_DEFAULTS["evening"] is False
    assert cream.order == wash.order == schemas.ROUTINE_DEFAULTS["order"]
    assert cream.nights_per_week == schemas.ROUTINE_DEFAULTS["nights_per_week"]
    patient = kb.templates["patient"]  # input: {key: patient}
    assert {"many": patient.input.many, "min_items": patient.input.min_items} == schemas.INPUT_DEFAULTS
    level = patient.fields["level"]  # {type: integer, minimum: 1, maximum: 6, default: 3}
    assert {"nullable": level.nullable, "required": level.required} == schemas.FIELD_DEFAULTS
    ok, both = kb.rule("ok"), kb.rule("both")
    assert ok.salience == both.salience == schemas.RULE_DEFAULTS["salience"]
    assert ok.then[0].tier == both.then[0].tier == schemas.ACTION_DEFAULTS["tier"]


def test_what_a_file_says_overrides_the_defaults(make_kb):
    treatments = TREATMENTS_OMITTING_DEFAULTS.replace(
        "    downtime: {min: 1, max: 3}\n", "    downtime: {min: 1, max: 3}\n    cost: high\n    evidence: low\n"
    ).replace("routine: {evening: true}", "routine: {evening: true, morning: true, order: 3, nights_per_week: 2}")
    templates = TEMPLATES.replace("input: {key: patient}", "input: {key: patient, many: true, min_items: 2}")
    rules = ONE_RULE.replace("  title: ok\n", "  title: ok\n  salience: 4\n").replace(
        "      explain: fine\n", "      explain: fine\n      tier: adjunct\n"
    )
    kb = load(make_kb(rules, treatments=treatments, templates=templates))
    alpha, cream = kb.treatments["alpha"], kb.treatments["cream"].routine
    assert (alpha.cost, alpha.evidence) == ("high", "low")
    assert (cream.morning, cream.order, cream.nights_per_week) == (True, 3, 2)
    assert (kb.templates["patient"].input.many, kb.templates["patient"].input.min_items) == (True, 2)
    assert kb.templates["patient"].fields["age"].nullable is True
    assert kb.templates["scar"].fields["type"].required is True
    assert (kb.rule("ok").salience, kb.rule("ok").then[0].tier) == (4, "adjunct")


# --- enums are the model's vocabularies ----------------------------------------------------


def test_enums_come_from_the_model():
    assert TEMPLATE["properties"]["fields"]["additionalProperties"]["properties"]["type"]["enum"] == list(FIELD_TYPES)
    assert TREATMENT["properties"]["kind"]["enum"] == list(CATALOGUE_KINDS)
    assert TREATMENT["properties"]["cost"]["enum"] == list(COSTS)
    assert TREATMENT["properties"]["evidence"]["enum"] == list(CONFIDENCE)
    ref = TREATMENT["properties"]["sources"]["items"]["anyOf"][1]
    assert ref["properties"]["confidence"]["enum"] == list(CONFIDENCE)
    source = schemas.MANIFEST["properties"]["sources"]["additionalProperties"]
    assert source["properties"]["confidence"]["enum"] == list(CONFIDENCE)
    assert ACTIONS["recommend"]["tier"]["enum"] == ACTIONS["combine"]["tier"]["enum"] == list(TIERS)


def test_the_action_kinds_are_the_models():
    assert [branch["required"][0] for branch in ACTION["anyOf"]] == list(ACTION_KINDS)
    assert list(ACTIONS) == list(ACTION_KINDS)
    assert [b["required"] for b in schemas._ACTION["anyOf"]] == [[k] for k in ACTION_KINDS]


def test_the_defaults_are_among_the_allowed_values():
    assert schemas.TREATMENT_DEFAULTS["cost"] == COSTS[0]
    assert schemas.TREATMENT_DEFAULTS["evidence"] in CONFIDENCE
    assert schemas.ACTION_DEFAULTS["tier"] == TIERS[0]


# --- what the schemas accept and refuse -------------------------------------------------------


def test_the_bundled_knowledge_base_conforms(kb):
    manifest, templates, treatments, plan, *rules = knowledge_files(Path(kb.root))
    assert plan.name == "plan.yaml"
    checks = [(manifest, schemas.MANIFEST), (templates, schemas.TEMPLATES), (treatments, schemas.TREATMENTS)]
    checks += [(plan, schemas.PLAN)] + [(path, schemas.RULES) for path in rules]
    for path, schema in checks:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(yamlio.read(path).data)]
        assert errors == [], path


def _valid(schema: dict[str, Any], text: str) -> bool:
    return Draft202012Validator(schema).is_valid(yamlio.parse(text, "f.yaml").data)


def test_the_test_fixtures_conform():
    assert _valid(schemas.MANIFEST, MANIFEST)
    assert _valid(schemas.TEMPLATES, TEMPLATES)
    assert _valid(schemas.TREATMENTS, TREATMENTS_OMITTING_DEFAULTS)
    assert _valid(schemas.RULES, ONE_RULE + COMBINE)


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        (schemas.RULES, ONE_RULE.replace("  sources: [src.txt]\n", "")),  # sources are required
        (schemas.RULES, ONE_RULE.replace("  sources: [src.txt]\n", "  sources: []\n")),
        (schemas.RULES, ONE_RULE.replace("id: ok", "id: Ok")),
        (schemas.RULES, ONE_RULE.replace("  title: ok\n", "  title: ok\n  salience: high\n")),
        (schemas.RULES, ONE_RULE.replace("[{scar: {type: ice_pick}}]", "[{scar: {}, patient: {}}]")),
        (schemas.RULES, ONE_RULE.replace("{type: ice_pick}", "{type: {one_of: [a]}}")),
        (schemas.RULES, ONE_RULE.replace("{type: ice_pick}", "{type: {gt: high}}")),
        (schemas.RULES, ONE_RULE.replace("    - recommend: alpha\n      explain: fine\n", "    - explain: fine\n")),
        (schemas.RULES, ONE_RULE.replace("      explain: fine\n", "      explain: fine\n      tier: best\n")),
        (schemas.RULES, COMBINE.replace("[alpha, cream]", "[alpha]")),  # a combination has two parts or more
        (schemas.RULES, COMBINE.replace("[alpha, cream]", "[alpha, alpha]")),
        (schemas.RULES, ONE_RULE.replace("sources: [src.txt]", "sources: [src.txt#a b]")),
        (schemas.TREATMENTS, TREATMENTS_OMITTING_DEFAULTS.replace("{evening: true}", "{evening: true, order: x}")),
        (
            schemas.TREATMENTS,
            TREATMENTS_OMITTING_DEFAULTS.replace("{evening: true}", "{evening: true, nights_per_week: 8}"),
        ),
        (schemas.TREATMENTS, TREATMENTS_OMITTING_DEFAULTS.replace("{evening: true}", "{evening: true, daily: true}")),
        (schemas.TREATMENTS, TREATMENTS_OMITTING_DEFAULTS.replace("kind: procedure", "kind: surgery")),
        (schemas.TREATMENTS, TREATMENTS_OMITTING_DEFAULTS.replace("{min: 1, max: 3}", "{min: -1, max: 3}")),
        (schemas.TEMPLATES, TEMPLATES.replace("  patient:\n", "  Patient:\n")),
        (schemas.TEMPLATES, TEMPLATES.replace("type: boolean, default: false", "type: bool, default: false")),
        (schemas.TEMPLATES, TEMPLATES.replace("{key: patient}", "{key: patient, min_items: -1}")),
        (schemas.MANIFEST, MANIFEST.replace("confidence: medium", "confidence: certain")),
        (schemas.MANIFEST, MANIFEST.replace("disclaimer: Decision support only; a dermatologist decides.\n", "")),
    ],
)
def test_the_schemas_refuse(schema, text):
    assert not _valid(schema, text)
