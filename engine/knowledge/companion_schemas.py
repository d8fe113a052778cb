"""The schemas of the files that accompany a knowledge base: its questionnaire and its test cases.

They share the building blocks of :mod:`.schemas` (constraints read the same in a
rule and in a question's ``ask_if``) but are checked by the stages that read
those files, so they live beside the core schemas rather than inside them.
"""

from __future__ import annotations

from typing import Any

from .schemas import _CONSTRAINT_OPS, _ID, _SCALAR, _TEXT, DIALECT, MANIFEST, PLAN, RULES, TEMPLATES, TREATMENTS

_IDS = {"type": "array", "items": {"type": "string", "minLength": 1}}


def _texts_by_id(what: str) -> dict[str, Any]:
    """An expectation mapping treatment ids to a text that (or that must not) appear somewhere."""
    return {"type": "object", "description": f"id -> text that {what}", "additionalProperties": {"type": "string"}}


TESTS: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:tests",
    "title": "cicatrix knowledge-base test cases (tests/*.yaml)",
    "type": "object",
    "required": ["cases"],
    "additionalProperties": False,
    "properties": {
        "cases": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "patient", "expect"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_./-]*$"},
                    "description": {"type": "string"},
                    "source": {"type": "string"},
                    "patient": {"type": "object", "description": "A patient file, inline."},
                    "expect": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": False,
                        "properties": {
                            "recommend": {
                                **_IDS,
                                "description": "Each id (or combination id a+b) is recommended.",
                            },
                            "recommend_any": {
                                "type": "array",
                                "description": "For each group, at least one id is recommended.",
                                "items": {**_IDS, "minItems": 2},
                            },
                            "not_recommend": {
                                **_IDS,
                                "description": "Never recommended, alone or in a combination.",
                            },
                            "avoid": {**_IDS, "description": "Each id is in the avoid list."},
                            "not_avoid": _IDS,
                            "left_out": {**_IDS, "description": "Each id is left out for a preference."},
                            "not_left_out": _IDS,
                            "first": {
                                "type": "string",
                                "description": "The id ranked first among procedures/combinations.",
                            },
                            "notes": {**_IDS, "description": "Each text appears in some note."},
                            "not_notes": {**_IDS, "description": "No note contains any of these texts."},
                            "alerts": {
                                "type": "object",
                                "description": "alert id -> its severity (urgent or warning).",
                                "additionalProperties": {"enum": ["urgent", "warning"]},
                            },
                            "no_alerts": {"type": "boolean", "description": "true: the plan raises no alert."},
                            "explains": _texts_by_id("appears in its explanation."),
                            "not_explains": _texts_by_id("must not appear in its explanation (when recommended)."),
                            "choice": {
                                "type": "object",
                                "description": (
                                    "problem -> the id chosen for it (null: nothing); a problem is named by its kind "
                                    "(the target value, e.g. KIND) or kind/region (e.g. KIND/REGION)."
                                ),
                                "minProperties": 1,
                                "additionalProperties": {"type": ["string", "null"]},
                            },
                            "alternatives": {
                                "type": "object",
                                "description": "problem -> ids that are among its alternatives.",
                                "additionalProperties": _IDS,
                            },
                            "ruled_out": {
                                "type": "object",
                                "description": "problem -> ids ruled out for it (avoided or left out there).",
                                "additionalProperties": _IDS,
                            },
                            "course_order": {
                                **_IDS,
                                "description": "Each id is in the course and starts no earlier than the one before it.",
                            },
                            "not_in_course": _IDS,
                            "cautions": _texts_by_id("appears in its cautions."),
                            "not_cautions": _texts_by_id("must not appear in its cautions (when recommended)."),
                            "routine": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "morning_last": {"type": "string"},
                                    "evening_includes": _IDS,
                                    "evening_excludes": _IDS,
                                    "nights": {
                                        "type": "object",
                                        "description": "id -> evenings a week it is scheduled.",
                                        "additionalProperties": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

_CONDITION = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"type": "string", "pattern": "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$"},
    "additionalProperties": {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}, _CONSTRAINT_OPS]},
}

QUESTIONS: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": "cicatrix:questions",
    "title": "cicatrix interactive questionnaire (questions.yaml)",
    "type": "object",
    "required": ["groups"],
    "additionalProperties": False,
    "properties": {
        "groups": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["template", "questions"],
                "additionalProperties": False,
                "properties": {
                    "template": _ID,
                    "title": {"type": "string"},
                    "intro": {"type": "string"},
                    "repeat": {"type": "string", "description": "For a list template: the add-another question."},
                    "questions": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["field", "prompt"],
                            "additionalProperties": False,
                            "properties": {
                                "field": _ID,
                                "prompt": _TEXT,
                                "help": {"type": "string"},
                                "default": {},
                                "ask_if": {
                                    "anyOf": [_CONDITION, {"type": "array", "items": _CONDITION, "minItems": 1}]
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

ALL: dict[str, dict[str, Any]] = {
    "kb": MANIFEST,
    "templates": TEMPLATES,
    "treatments": TREATMENTS,
    "plan": PLAN,
    "rules": RULES,
    "tests": TESTS,
    "questions": QUESTIONS,
}
