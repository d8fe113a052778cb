"""The plan as JSON text: indented by two, non-ASCII kept as is, one trailing
newline, and the same bytes every time for the same plan."""

from __future__ import annotations

import json

from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.render.json import render

from ..conftest import EXAMPLES

SMALL = {"kb": {"name": "kb", "version": "1"}, "notes": ["Crème — 2 weeks ≥ 50%"], "empty": [], "n": 1.5}


def test_indented_by_two_with_one_trailing_newline():
    text = render(SMALL)
    assert text == (
        "{\n"
        '  "kb": {\n'
        '    "name": "kb",\n'
        '    "version": "1"\n'
        "  },\n"
        '  "notes": [\n'
        '    "Crème — 2 weeks ≥ 50%"\n'
        "  ],\n"
        '  "empty": [],\n'
        '  "n": 1.5\n'
        "}\n"
    )
    assert text.endswith("}\n") and not text.endswith("\n\n")


def test_non_ascii_is_kept_not_escaped():
    text = render({"title": "Crème, 1–2 mm, ≥ 50%"})
    assert "Crème, 1–2 mm, ≥ 50%" in text
    assert "\\u" not in text


def test_the_text_reads_back_as_the_plan():
    assert json.loads(render(SMALL)) == SMALL


def test_keys_stay_in_the_order_the_contract_built_them():
    assert render({"b": 1, "a": 2}).index('"b"') < render({"b": 1, "a": 2}).index('"a"')


def test_the_same_plan_gives_the_same_bytes(kb, session):
    patient = read(EXAMPLES / "mixed-facial-scars.yaml", kb)
    first = render(to_dict(plan(session, patient))).encode("utf-8")
    second = render(to_dict(plan(session, patient))).encode("utf-8")
    assert first == second
    assert json.loads(first)["kb"]["name"] == kb.name
