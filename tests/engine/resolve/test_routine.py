"""The home-care scheduler: the morning order, the weekly evening plan, and the
mixing rules (items that must not share an evening), on hand-built catalogue entries."""

from __future__ import annotations

import itertools

import pytest

from cicatrix.engine.knowledge.model import WEEKDAYS, RoutineSpec, Treatment, Where
from cicatrix.engine.resolve.result import Routine
from cicatrix.engine.resolve.routine import same_night_violations, schedule

from ...helpers import consult


def item(
    tid: str,
    order: int,
    *,
    morning: bool = False,
    evening: bool = True,
    step: int = 50,
    nights: int = 7,
    apart_from: tuple[str, ...] = (),
    routine: bool = True,
) -> Treatment:
    """A catalogue entry with only what the scheduler reads filled in."""
    spec = RoutineSpec(morning, evening, step, nights, apart_from, f"use {tid}") if routine else None
    return Treatment(
        id=tid,
        title=tid.title(),
        kind="home_care",
        summary="",
        best_for=(),
        poor_fit=(),
        how_it_works="",
        sessions="",
        interval="",
        downtime_min=0,
        downtime_max=0,
        results="",
        effectiveness="",
        cost="low",
        evidence="medium",
        cautions=(),
        risks=(),
        sources=(),
        source_confidence={},
        tags=(),
        routine=spec,
        where=Where("treatments.yaml"),
        order=order,
    )


def nights_of(routine: Routine, tid: str) -> list[str]:
    return [day for day, ids in routine.evening.items() if tid in ids]


def test_morning_follows_the_order_of_application_then_the_catalogue():
    items = [
        item("sunscreen", 0, morning=True, evening=False, step=90),
        item("serum", 1, morning=True, step=20),
        item("cream", 2, morning=True, step=50),
        item("night_only", 3, step=10),
        item("same_step_later", 4, morning=True, step=20),
    ]
    routine = schedule(items)
    assert routine.morning == ("serum", "same_step_later", "cream", "sunscreen")
    assert "sunscreen" not in {i for ids in routine.evening.values() for i in ids}
    assert list(routine.steps) == ["night_only", "serum", "same_step_later", "cream", "sunscreen"]
    assert routine.steps["cream"].how == "use cream" and routine.steps["cream"].title == "Cream"


def test_items_without_a_routine_are_left_out():
    routine = schedule([item("pill", 0, routine=False), item("cream", 1)])
    assert routine.morning == ()
    assert list(routine.steps) == ["cream"]
    assert all(ids == ("cream",) for ids in routine.evening.values())


def test_the_evening_plan_names_every_weekday_in_order():
    assert tuple(schedule([]).evening) == WEEKDAYS
    assert schedule([]).evening["monday"] == ()


@pytest.mark.parametrize(
    ("nights", "expected"),
    [
        (1, ["monday"]),
        (2, ["monday", "thursday"]),
        (3, ["monday", "wednesday", "friday"]),
        (4, ["monday", "tuesday", "thursday", "saturday"]),
        (7, list(WEEKDAYS)),
    ],
)
def test_evenings_are_spread_over_the_week(nights, expected):
    assert nights_of(schedule([item("acid", 0, nights=nights)]), "acid") == expected


def test_items_kept_apart_never_share_a_night():
    # the mixing rule is declared on one side only; it binds both
    retinoid = item("retinoid", 0, nights=3, apart_from=("aha",))
    aha = item("aha", 1, nights=2)
    routine = schedule([retinoid, aha])
    assert nights_of(routine, "retinoid") == ["monday", "wednesday", "friday"]
    assert len(nights_of(routine, "aha")) == 2
    assert not set(nights_of(routine, "retinoid")) & set(nights_of(routine, "aha"))
    assert same_night_violations(routine, {t.id: t for t in (retinoid, aha)}) == []
    assert routine.unscheduled == ()


def test_a_week_just_long_enough_fits_both():
    a = item("a", 0, nights=4, apart_from=("b",))
    b = item("b", 1, nights=3)
    routine = schedule([a, b])
    assert nights_of(routine, "a") == ["monday", "tuesday", "thursday", "saturday"]
    assert nights_of(routine, "b") == ["wednesday", "friday", "sunday"]


def test_nightly_items_yield_to_the_more_constrained():
    nightly = item("nightly", 0, nights=7, apart_from=("acid",))
    acid = item("acid", 1, nights=2)
    routine = schedule([nightly, acid])
    assert nights_of(routine, "acid") == ["monday", "thursday"]
    assert nights_of(routine, "nightly") == ["tuesday", "wednesday", "friday", "saturday", "sunday"]
    assert routine.unscheduled == ()


def test_an_item_with_no_free_night_is_unscheduled():
    first = item("first", 0, nights=7, apart_from=("second",))
    second = item("second", 1, nights=7)
    other = item("other", 2, nights=1)
    routine = schedule([first, second, other])
    assert nights_of(routine, "first") == list(WEEKDAYS)
    assert nights_of(routine, "second") == []
    assert nights_of(routine, "other") == ["monday"]
    assert routine.unscheduled == ("second",)
    assert "second" in routine.steps  # still explained, just not placed


def test_a_night_lists_its_items_in_the_order_of_application():
    routine = schedule([item("late", 0, step=80), item("early", 1, step=10), item("middle", 2, step=40)])
    assert routine.evening["monday"] == ("early", "middle", "late")


def test_the_schedule_does_not_depend_on_the_order_items_arrive_in():
    items = [
        item("retinoid", 0, nights=3, apart_from=("aha", "bha")),
        item("aha", 1, nights=2, apart_from=("bha",)),
        item("bha", 2, nights=2),
        item("moisturizer", 3, morning=True, nights=7),
        item("sunscreen", 4, morning=True, evening=False, step=90),
    ]
    first = schedule(items)
    catalogue = {t.id: t for t in items}
    for perm in itertools.permutations(items):
        again = schedule(perm)
        assert again == first
        assert same_night_violations(again, catalogue) == []
    assert sorted(len(nights_of(first, t)) for t in ("retinoid", "aha", "bha")) == [2, 2, 3]


def test_same_night_violations_names_each_clash():
    a = item("a", 0, apart_from=("b",))
    b = item("b", 1)
    c = item("c", 2)
    catalogue = {t.id: t for t in (a, b, c)}
    clash = Routine(
        morning=(),
        evening={day: ("a", "b", "c") if day in ("monday", "friday") else ("c",) for day in WEEKDAYS},
        steps={},
    )
    assert same_night_violations(clash, catalogue) == ["monday: a with b", "friday: a with b"]
    swapped = Routine(morning=(), evening={"monday": ("b", "a")}, steps={})
    assert same_night_violations(swapped, catalogue) == ["monday: b with a"]


def test_routine_keeps_incompatible_items_apart(make_kb):
    root = make_kb(
        """
- id: care
  title: care
  when: []
  then:
    - recommend: gamma
      explain: cream
    - recommend: delta
      explain: acid
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    evening = result.routine.evening
    assert sum("gamma" in ids for ids in evening.values()) == 3
    assert sum("delta" in ids for ids in evening.values()) == 2
    assert not any({"gamma", "delta"} <= set(ids) for ids in evening.values())
