"""The resolved plan's objects: frozen, and a plan compares equal to another by what
it says, not by the consultation it came from (which is what replay relies on)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from cicatrix.engine.resolve.result import (
    Avoidance,
    DroppedCombination,
    KbInfo,
    Recommendation,
    Result,
    Routine,
    RoutineStep,
)
from cicatrix.engine.session.records import Consultation, FactRecord, Firing

REC = Recommendation(
    id="alpha",
    title="Alpha",
    kind="procedure",
    targets=("ice_pick",),
    rank=1,
    tier="first_line",
    explanation="because",
    rules=("r",),
    sources=("src.txt",),
    citations=("src.txt#one",),
    cautions=(),
)
AVOID = Avoidance("never", "Never", "harmful", ("no",), ("src.txt",), ())
ROUTINE = Routine(
    morning=("sunscreen",), evening={"monday": ("gamma",)}, steps={"gamma": RoutineStep("gamma", "G", "x")}
)
RESULT = Result(
    kb=KbInfo("kb", "1", "sha256:0"),
    patient={"scars": []},
    recommendations=(REC,),
    avoid=(AVOID,),
    routine=ROUTINE,
    notes=("a note",),
    disclaimer="decide with a doctor",
)
ONE = Consultation((FactRecord("patient", "patient", {}, "input"),), (Firing(1, "r", 0, ("patient",), {}),))
OTHER = Consultation((), ())


def test_defaults():
    assert (REC.components, REC.sequence, REC.downtime_days) == ((), "", None)
    assert (REC.expected_results, REC.sessions, REC.evidence) == ("", "", "")
    assert ROUTINE.unscheduled == ()
    assert RESULT.dropped == () and RESULT.consultation is None


@pytest.mark.parametrize(
    ("record", "attribute"),
    [
        (REC, "rank"),
        (AVOID, "reason"),
        (DroppedCombination("a+b", ("r",), "why"), "reason"),
        (RoutineStep("gamma", "G", "x"), "how"),
        (ROUTINE, "morning"),
        (KbInfo("kb", "1", "d"), "version"),
        (RESULT, "recommendations"),
        (RESULT, "consultation"),
    ],
)
def test_plan_objects_are_frozen(record, attribute):
    # the parts are NamedTuples (AttributeError), the whole a frozen dataclass (a subclass of it)
    with pytest.raises(AttributeError):
        setattr(record, attribute, None)
    if record is RESULT:
        with pytest.raises(FrozenInstanceError):
            setattr(record, attribute, None)


def test_a_plan_compares_by_content_not_by_its_consultation():
    with_one = replace(RESULT, consultation=ONE)
    with_other = replace(RESULT, consultation=OTHER)
    assert with_one == with_other == RESULT
    assert with_one.consultation is ONE  # still kept, for the trace and explanations
    assert "consultation" not in repr(with_one)


@pytest.mark.parametrize(
    "changed",
    [
        replace(RESULT, kb=KbInfo("kb", "2", "sha256:0")),
        replace(RESULT, recommendations=(REC._replace(rank=2),)),
        replace(RESULT, avoid=()),
        replace(RESULT, notes=()),
        replace(RESULT, dropped=(DroppedCombination("a+b", ("r",), "why"),)),
        replace(RESULT, routine=ROUTINE._replace(unscheduled=("delta",))),
    ],
)
def test_any_difference_in_what_the_plan_says_is_seen(changed):
    assert replace(changed, consultation=ONE) != replace(RESULT, consultation=ONE)
