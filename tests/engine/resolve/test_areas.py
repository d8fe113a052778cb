"""engine/resolve/areas.py: where each home-care step goes when a plan spans more
than one region. A step recommended for particular kinds of scar goes on those
problems; one drawn from the scars of some regions goes on those regions; one that
rests on no scar, or on scars of every region, goes everywhere and says nothing."""

from __future__ import annotations

import pytest

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.areas import areas
from cicatrix.engine.resolve.problems import groups as problem_groups
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.roots import roots
from cicatrix.engine.resolve.support import supported_firings
from cicatrix.engine.session.session import Session

from ...helpers import rule
from .test_problems import plan_kb, procedure

ROUTINE = "    routine: {evening: true, nights_per_week: 2}\n"
STEPS = ("gel", "wash", "screen", "balm", "serum", "mask")
HOME = "treatments:\n" + "".join(procedure(t, "home_care", "{phase: work}", ROUTINE) for t in STEPS)


def home(tid: str, targets: str = "") -> str:
    return f"- recommend: {tid}\n      explain: {tid}.{chr(10) + '      targets: ' + targets if targets else ''}"


RULES = (
    rule("gel-for-rolling", "[{scar: {type: rolling}}]", home("gel", "[rolling]"))
    + rule("wash-for-the-back", "[{scar: {site: back}}]", home("wash"))
    + rule("screen-for-all", "[]", home("screen"))
    + rule("balm-for-all", "[]", home("balm"))
    + rule("balm-for-the-back", "[{scar: {site: back}}]", home("balm"))
    + rule("serum-for-ice-picks", "[{scar: {type: ice_pick}}]", home("serum"))
    + rule("mask-for-boxcars", "[{scar: {type: boxcar}}]", home("mask", "[boxcar, rolling]"))
)


@pytest.fixture
def where(make_kb):
    kb = load(plan_kb(make_kb, RULES, treatments=HOME))

    def run(*scars: dict) -> dict[str, str]:
        patient = from_data({"scars": list(scars)}, kb)
        record = Session(kb).consult(patient)
        firing_roots, fact_roots = roots(record, "scar")
        found = problem_groups(kb, patient.facts, record, fact_roots)
        return areas(kb, record, supported_firings(record), firing_roots, found, STEPS)

    run.kb = kb
    return run


def test_one_region_needs_no_labels(where):
    assert where({"type": "rolling", "site": "cheeks"}, {"type": "ice_pick", "site": "nose"}) == {}


def test_each_step_goes_where_its_rule_points(where):
    found = where(
        {"type": "rolling", "site": "cheeks"},
        {"type": "ice_pick", "site": "back"},
        {"type": "ice_pick", "site": "cheeks"},
        {"type": "boxcar", "site": "chest"},
    )
    assert found == {
        # recommended for rolling scars: on those problems, by their titles
        "gel": "on the rolling scars on the cheeks",
        # drawn from a scar on the back, for no kind in particular: on that region
        "wash": "the body",
        # targets boxcar and rolling, from the boxcar scars only: on the problem it rests on
        "mask": "on the boxcar scars on the chest",
        # screen rests on no scar, balm on no scar as well as on the back, serum on scars of
        # both regions: everywhere, so no label
    }


def test_a_targeted_step_names_every_problem_it_reaches(where):
    found = where({"type": "rolling", "site": "cheeks"}, {"type": "rolling", "site": "back", "count": 5})
    assert found["gel"] == "on the rolling scars on the back and rolling scars on the cheeks"
    assert found["wash"] == "the body"


def test_the_routine_carries_the_places(where):
    kb = where.kb
    data = {"scars": [{"type": "rolling", "site": "cheeks"}, {"type": "boxcar", "site": "back"}]}
    steps = plan(Session(kb), from_data(data, kb)).routine.steps
    assert {tid: s.where for tid, s in steps.items()} == {
        "gel": "on the rolling scars on the cheeks",
        "wash": "the body",
        "screen": "",
        "balm": "",
        "mask": "on the boxcar scars on the back",
    }


def test_bundled_steps_for_face_and_body(kb, session):
    data = {
        "scars": [
            {"type": "hypertrophic", "site": "chest"},
            {"type": "boxcar", "depth": "shallow", "site": "cheeks"},
        ]
    }
    steps = plan(session, from_data(data, kb)).routine.steps
    assert steps["silicone_gel"].where == "on the hypertrophic scars on the chest"
    assert steps["sunscreen"].where == ""
