"""JSON Schemas (draft 2020-12) for every kind of knowledge-base file.

This is the single declarative statement of what a knowledge-base file may
contain: the loader validates against it, and editors can use the same schemas
to check a file as it is typed. What a schema cannot know (which templates,
fields, values and treatment ids exist) is checked by the loader afterwards.
"""

from __future__ import annotations

from typing import Any

from .model import ACTION_KINDS, CATALOGUE_KINDS, CONFIDENCE, COSTS, FIELD_TYPES, GRADES, SEVERITIES, TIERS

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The value an optional key takes when a file leaves it out. Declared here once:
# the schemas below publish them (editors show them) and the loader fills them in.
TREATMENT_DEFAULTS: dict[str, Any] = {"cost": COSTS[0], "evidence": "medium"}
ROUTINE_DEFAULTS: dict[str, Any] = {"morning": False, "evening": False, "order": 50, "nights_per_week": 7}
INPUT_DEFAULTS: dict[str, Any] = {"many": False, "min_items": 0}
FIELD_DEFAULTS: dict[str, Any] = {"nullable": False, "required": False}
ACTION_DEFAULTS: dict[str, Any] = {"tier": TIERS[0]}
CAUTION_DEFAULTS: dict[str, Any] = {"risk": False}
COURSE_DEFAULTS: dict[str, Any] = {"gradual": False}
PHASE_DEFAULTS: dict[str, Any] = {"alongside": False, "gap_weeks": 0}
COURSE_PLAN_DEFAULTS: dict[str, Any] = {"gradual_weeks": 2}
BURDEN_DEFAULTS: dict[str, Any] = {"default": 1}
ORDER_DEFAULTS: dict[str, Any] = {"gap_weeks": 0}
RULE_DEFAULTS: dict[str, Any] = {"salience": 0}

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
# A field name never holds "__": the engine reads a double underscore in a
# pattern's field as a path into a nested value, and refuses facts with such keys.
_FIELD_NAME = {"type": "string", "pattern": "^[a-z](_?[a-z0-9])*_?$"}
_TEXT = {"type": "string", "minLength": 1}
_TEXTS = {"type": "array", "items": _TEXT}
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_TEMPLATE_FIELD = {  # a template and one of its fields, named
    "type": "object",
    "required": ["template", "field"],
    "additionalProperties": False,
    "properties": {"template": _ID, "field": _ID},
}
_SOURCE_REF = {"type": "string", "pattern": "^[^#\\s]+(#[^\\s]+)?$"}

MANIFEST: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:kb",
    "title": "cicatrix knowledge base manifest (kb.yaml)",
    "type": "object",
    "required": ["name", "version", "disclaimer", "sources"],
    "additionalProperties": False,
    "properties": {
        "name": _TEXT,
        "version": {"type": ["string", "number"]},
        "description": {"type": "string"},
        "disclaimer": _TEXT,
        "title": {"type": "string", "description": "What a printed plan is called (a report's heading)."},
        "targets": {
            **_TEMPLATE_FIELD,
            "description": (
                "The input field that recommendation targets name (e.g. item.type); "
                "a plan then lists only targets the patient actually has."
            ),
        },
        "sources": {
            "type": "object",
            "description": "Documents that rules and catalogue entries cite, by file name.",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["title", "confidence"],
                "additionalProperties": False,
                "properties": {
                    "title": _TEXT,
                    "confidence": {"enum": list(CONFIDENCE)},
                    "description": {"type": "string"},
                    "sections": {
                        "type": "object",
                        "description": (
                            "For a digest readers do not have: each section anchor rules may cite, and the "
                            "publications (or other sources) the digest names for it. A plan cites those "
                            "instead of the digest, and rules may cite only anchors listed here."
                        ),
                        "minProperties": 1,
                        "propertyNames": {"pattern": "^[^#\\s]+$"},
                        "additionalProperties": {"type": "array", "items": _TEXT, "minItems": 1, "uniqueItems": True},
                    },
                },
            },
        },
        "publications": {
            "type": "object",
            "description": "Works the sources' sections name, by id: what a plan's reference list prints.",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "confidence"],
                "additionalProperties": False,
                "properties": {
                    "title": {**_TEXT, "description": "The citation as a reader would look it up."},
                    "confidence": {"enum": list(GRADES)},
                    "kind": {"type": "string", "description": "What sort of work it is, e.g. 'RCT, n=40'."},
                    "url": {"type": "string", "pattern": "^https?://\\S+$"},
                },
            },
        },
    },
}

_FIELD = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(FIELD_TYPES)},
        "description": {"type": "string"},
        "unit": {"type": "string", "description": "Shown after the value, e.g. 'mm' or 'days'."},
        "unknown": {"type": "string", "description": "Words for a missing value in explanations."},
        "allowed": {"type": "array", "items": _SCALAR, "minItems": 1},
        "labels": {"type": "object", "additionalProperties": _TEXT},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "nullable": {"type": "boolean", "default": FIELD_DEFAULTS["nullable"]},
        "required": {"type": "boolean", "default": FIELD_DEFAULTS["required"]},
        "default": {},
    },
}

TEMPLATES: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:templates",
    "title": "cicatrix fact templates (templates.yaml)",
    "type": "object",
    "required": ["templates"],
    "additionalProperties": False,
    "properties": {
        "templates": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _ID,
            "additionalProperties": {
                "type": "object",
                "required": ["fields"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string"},
                    "input": {
                        "type": "object",
                        "description": "Where the patient file holds facts of this template.",
                        "required": ["key"],
                        "additionalProperties": False,
                        "properties": {
                            "key": _ID,
                            "many": {"type": "boolean", "default": INPUT_DEFAULTS["many"]},
                            "min_items": {"type": "integer", "minimum": 0, "default": INPUT_DEFAULTS["min_items"]},
                            "max_items": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "The most entries a patient file may give (a bound on the work).",
                            },
                        },
                    },
                    "fields": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": _FIELD_NAME,
                        "additionalProperties": _FIELD,
                    },
                },
            },
        }
    },
}

TREATMENTS: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:treatments",
    "title": "cicatrix treatment catalogue (treatments.yaml)",
    "type": "object",
    "required": ["treatments"],
    "additionalProperties": False,
    "properties": {
        "treatments": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _ID,
            "additionalProperties": {
                "type": "object",
                "required": ["title", "kind", "summary", "downtime", "sources"],
                "additionalProperties": False,
                "properties": {
                    "title": _TEXT,
                    "short": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A short name for tight places, such as '± add-on'.",
                    },
                    "names": {
                        "type": "array",
                        "uniqueItems": True,
                        "description": (
                            "Words a text would use to name it (besides its short name), e.g. the"
                            " drugs of a class: no text of a recommended item may name an item the"
                            " same plan avoids."
                        ),
                        "items": {"type": "string", "minLength": 2},
                    },
                    "kind": {"enum": list(CATALOGUE_KINDS)},
                    "summary": _TEXT,
                    "best_for": _TEXTS,
                    "poor_fit": {
                        "type": "array",
                        "description": "What it suits badly, each with why.",
                        "items": _TEXT,
                    },
                    "how_it_works": {"type": "string"},
                    "sessions": {"type": "string"},
                    "interval": {"type": "string"},
                    "downtime": {
                        "type": "object",
                        "description": "Visible downtime in days.",
                        "required": ["min", "max"],
                        "additionalProperties": False,
                        "properties": {
                            "min": {"type": "number", "minimum": 0},
                            "max": {"type": "number", "minimum": 0},
                        },
                    },
                    "results": {"type": "string"},
                    "effectiveness": {"type": "string"},
                    "cost": {"enum": list(COSTS), "default": TREATMENT_DEFAULTS["cost"]},
                    "evidence": {
                        "enum": list(CONFIDENCE),
                        "default": TREATMENT_DEFAULTS["evidence"],
                        "description": "Overall confidence in this entry, as in the fact sheet.",
                    },
                    "cautions": _TEXTS,
                    "risks": _TEXTS,
                    "tags": {"type": "array", "items": _ID},
                    "sources": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "anyOf": [
                                _SOURCE_REF,
                                {
                                    "type": "object",
                                    "required": ["ref", "confidence"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "ref": _SOURCE_REF,
                                        "confidence": {"enum": list(CONFIDENCE)},
                                    },
                                },
                            ]
                        },
                    },
                    "course": {
                        "type": "object",
                        "description": "Where the treatment sits in a course of care (phases are in plan.yaml).",
                        "required": ["phase"],
                        "additionalProperties": False,
                        "properties": {
                            "phase": _ID,
                            "sessions": {"type": "integer", "minimum": 1},
                            "interval_weeks": {"type": "integer", "minimum": 1},
                            "weeks": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "How long it runs, for what is not counted in sessions.",
                            },
                            "gradual": {
                                "type": "boolean",
                                "default": COURSE_DEFAULTS["gradual"],
                                "description": "Introduced one at a time, a few weeks apart.",
                            },
                            "only_with": {
                                "type": "array",
                                "items": _ID,
                                "description": "Scheduled only when one of these treatments is in the course.",
                            },
                        },
                    },
                    "routine": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "morning": {"type": "boolean", "default": ROUTINE_DEFAULTS["morning"]},
                            "evening": {"type": "boolean", "default": ROUTINE_DEFAULTS["evening"]},
                            "order": {"type": "integer", "default": ROUTINE_DEFAULTS["order"]},
                            "nights_per_week": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 7,
                                "default": ROUTINE_DEFAULTS["nights_per_week"],
                            },
                            "not_same_night_as": {"type": "array", "items": _ID},
                            "how": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

_VAR = {"type": "string", "pattern": "^\\$[a-z_][a-z0-9_]*$"}
_COMPARABLE = {"anyOf": [{"type": "number"}, _VAR]}
_CONSTRAINT_OPS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "lt": _COMPARABLE,
        "lte": _COMPARABLE,
        "gt": _COMPARABLE,
        "gte": _COMPARABLE,
        "in": {"type": "array", "items": _SCALAR, "minItems": 1},
        "not": {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}]},
        "contains": _SCALAR,
        "bind": _VAR,
    },
}
_PATTERN = {
    "type": "object",
    "description": "One pattern: {template: {field: constraint, ...}}.",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                _SCALAR,
                {"type": "array", "items": _SCALAR, "minItems": 1},
                _CONSTRAINT_OPS,
            ]
        },
    },
}
_SCOPE = {
    "type": "object",
    "description": (
        "Only for the input items whose fields have these values (e.g. {site: $site}; a list means any of "
        "them): the plan keeps the treatment for its other problems."
    ),
    "minProperties": 1,
    "additionalProperties": {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}]},
}
_TREATMENT_REF = {"type": "string", "pattern": "^(\\$[a-z_][a-z0-9_]*|[a-z][a-z0-9_]*)$"}
_TARGETS = {"type": "array", "items": {"type": "string"}}
_TIER = {"enum": list(TIERS), "default": ACTION_DEFAULTS["tier"]}


def _action(kind: str, value: Any, required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "if": {"required": [kind]},
        "then": {
            "required": [kind, *required],
            "additionalProperties": False,
            "properties": {kind: value, **extra},
        },
    }


_ACTION = {
    "type": "object",
    "anyOf": [{"required": [k]} for k in ACTION_KINDS],
    "allOf": [
        _action(
            "recommend",
            _TREATMENT_REF,
            ["explain"],
            explain=_TEXT,
            tier=_TIER,
            targets=_TARGETS,
        ),
        _action("avoid", _TREATMENT_REF, ["reason"], reason=_TEXT, scope=_SCOPE),
        _action(
            "combine",
            {"type": "array", "items": _ID, "minItems": 2, "uniqueItems": True},
            ["rationale"],
            rationale=_TEXT,
            sequence={"type": "string"},
            tier=_TIER,
            targets=_TARGETS,
        ),
        _action(
            "assert",
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": {"type": "object", "additionalProperties": _SCALAR},
            },
            [],
        ),
        _action(
            "caution",
            _TREATMENT_REF,
            ["text"],
            text=_TEXT,
            risk={
                "type": "boolean",
                "default": CAUTION_DEFAULTS["risk"],
                "description": "A risk for this person: it ranks the option after options without one.",
            },
        ),
        _action("note", _TEXT, []),
        _action(
            "alert",
            {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"},
            ["severity", "text"],
            severity={"enum": list(SEVERITIES)},
            text=_TEXT,
        ),
        _action("leave_out", _TREATMENT_REF, ["reason", "constraint"], reason=_TEXT, constraint=_ID, scope=_SCOPE),
    ],
}

RULES: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:rules",
    "title": "cicatrix rule file (rules/*.yaml)",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "title", "when", "then", "sources"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_./-]*$"},
            "title": _TEXT,
            "salience": {"type": "integer", "default": RULE_DEFAULTS["salience"]},
            "when": {"type": "array", "items": _PATTERN},
            "unless": {"type": "array", "items": _PATTERN},
            "then": {"type": "array", "items": _ACTION, "minItems": 1},
            "sources": {"type": "array", "items": _SOURCE_REF, "minItems": 1},
        },
    },
}

_SELECTOR = {
    "type": "object",
    "description": "Catalogue entries named by id, kind or tag (any of them).",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "ids": {"type": "array", "items": _ID, "minItems": 1},
        "kinds": {"type": "array", "items": {"enum": list(CATALOGUE_KINDS)}, "minItems": 1},
        "tags": {"type": "array", "items": _ID, "minItems": 1},
    },
}
_OPTION_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\+[a-z][a-z0-9_]*)*$"}

PLAN: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:plan",
    "title": "cicatrix plan data (plan.yaml): problems, priorities, adjuncts and the course",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "problems": {
            "type": "object",
            "description": "How input items (of the target template in kb.yaml) are grouped into problems.",
            "additionalProperties": False,
            "properties": {
                "title": {
                    "type": "string",
                    "description": "A problem's title; {field} is the words for that field's values.",
                },
                "region": {
                    "type": "object",
                    "description": "One problem per target value and region; a region is a set of values of one field.",
                    "required": ["field", "groups"],
                    "additionalProperties": False,
                    "properties": {
                        "field": _ID,
                        "groups": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["id", "title", "values"],
                                "additionalProperties": False,
                                "properties": {
                                    "id": _ID,
                                    "title": _TEXT,
                                    "values": {"type": "array", "items": _SCALAR, "minItems": 1},
                                },
                            },
                        },
                    },
                },
                "burden": {
                    "type": "object",
                    "description": "How heavily a problem weighs: count times a weight per value of one field.",
                    "required": ["count"],
                    "additionalProperties": False,
                    "properties": {
                        "count": _ID,
                        "field": _ID,
                        "weights": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                        "default": {"type": "number", "minimum": 0, "default": BURDEN_DEFAULTS["default"]},
                    },
                },
                "grade": {
                    **_TEMPLATE_FIELD,
                    "description": "Derived facts whose (numeric) field grades a problem; the highest counts.",
                },
            },
        },
        "priorities": {
            "type": "array",
            "description": "For problems whose items match 'when', the order the sources give; the first match wins.",
            "items": {
                "type": "object",
                "required": ["when", "order", "why", "sources"],
                "additionalProperties": False,
                "properties": {
                    "when": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}, _CONSTRAINT_OPS]
                        },
                    },
                    "order": {"type": "array", "items": _OPTION_ID, "minItems": 1, "uniqueItems": True},
                    "why": _TEXT,
                    "sources": {"type": "array", "items": _SOURCE_REF, "minItems": 1},
                },
            },
        },
        "adjuncts": {
            "type": "object",
            "description": "An add-on -> the treatments it joins; shown as '± add-on' on them, never as an option.",
            "propertyNames": _ID,
            "additionalProperties": {"type": "array", "items": _ID, "minItems": 1},
        },
        "course": {
            "type": "object",
            "required": ["phases"],
            "additionalProperties": False,
            "properties": {
                "gradual_weeks": {
                    "type": "integer",
                    "minimum": 1,
                    "default": COURSE_PLAN_DEFAULTS["gradual_weeks"],
                    "description": "Weeks between introducing two gradual items.",
                },
                "phases": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["id", "title"],
                        "additionalProperties": False,
                        "properties": {
                            "id": _ID,
                            "title": _TEXT,
                            "alongside": {
                                "type": "boolean",
                                "default": PHASE_DEFAULTS["alongside"],
                                "description": "Runs from week 0 beside the other phases.",
                            },
                            "gap_weeks": {
                                "type": "integer",
                                "minimum": 0,
                                "default": PHASE_DEFAULTS["gap_weeks"],
                                "description": "Weeks after the previous phase's last session.",
                            },
                            "reassess_after_weeks": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "Re-assess this many weeks after the phase's last session.",
                            },
                        },
                    },
                },
                "order": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["first", "then", "why", "sources"],
                        "additionalProperties": False,
                        "properties": {
                            "first": _SELECTOR,
                            "then": _SELECTOR,
                            "gap_weeks": {"type": "integer", "minimum": 0, "default": ORDER_DEFAULTS["gap_weeks"]},
                            "why": _TEXT,
                            "sources": {"type": "array", "items": _SOURCE_REF, "minItems": 1},
                        },
                    },
                },
            },
        },
    },
}
