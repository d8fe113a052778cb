"""The firing record: what a firing asserted, that records cannot be changed once
written, and the field-by-field equality replay and the trace round trip compare by."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from cicatrix.engine.session.records import ActionRecord, Consultation, FactRecord, Firing

FACT = FactRecord("recommend-1", "recommend", {"treatment": "alpha", "tier": "first_line"}, "rule", "r", 1)
RECOMMEND = ActionRecord("recommend", "alpha", "because", "first_line", fact="recommend-1")
FIRING = Firing(
    1,
    "r",
    0,
    ("patient",),
    {"s": "cheeks"},
    (
        ActionRecord("assert", fact="finding-1"),
        RECOMMEND,
        ActionRecord("recommend", "alpha", "because", "first_line", fact=None),  # already known
        ActionRecord("caution", "alpha", "careful"),
        ActionRecord("assert", fact="finding-2"),
    ),
)


def test_asserted_lists_the_new_facts_in_action_order():
    assert FIRING.asserted == ("finding-1", "recommend-1", "finding-2")


def test_nothing_asserted_without_new_facts():
    assert Firing(1, "r", 0, (), {}).asserted == ()
    assert Firing(1, "r", 0, (), {}, (ActionRecord("note", text="hi"), ActionRecord("assert"))).asserted == ()


def test_defaults():
    action = ActionRecord("note")
    assert (action.treatment, action.text, action.tier, action.fact) == (None, "", "", None)
    assert (action.targets, action.components, action.sequence, action.template) == ((), (), "", "")
    assert action.labels == {}
    assert action.labels is not ActionRecord("note").labels  # each record has its own
    assert Firing(1, "r", 0, (), {}).actions == ()
    fact = FactRecord("patient", "patient", {}, "input")
    assert (fact.rule, fact.firing) == (None, None)


@pytest.mark.parametrize(
    ("record", "attribute", "value"),
    [
        (FACT, "id", "recommend-2"),
        (FACT, "values", {}),
        (RECOMMEND, "fact", None),
        (RECOMMEND, "text", "other"),
        (FIRING, "seq", 2),
        (FIRING, "matched", ()),
        (FIRING, "actions", ()),
        (Consultation((FACT,), (FIRING,)), "firings", ()),
    ],
)
def test_records_cannot_be_changed(record, attribute, value):
    with pytest.raises(FrozenInstanceError):
        setattr(record, attribute, value)
    with pytest.raises(FrozenInstanceError):
        delattr(record, attribute)


def test_equal_records_compare_equal_field_by_field():
    copy = Firing(
        1,
        "r",
        0,
        ("patient",),
        {"s": "cheeks"},
        tuple(replace(a) for a in FIRING.actions),
    )
    assert copy == FIRING and copy is not FIRING
    assert Consultation((FACT,), (copy,)) == Consultation((replace(FACT),), (FIRING,))


@pytest.mark.parametrize(
    "changed",
    [
        replace(FIRING, seq=2),
        replace(FIRING, rule="other"),
        replace(FIRING, salience=1),
        replace(FIRING, matched=("scar-1",)),
        replace(FIRING, bindings={"s": "forehead"}),
        replace(FIRING, actions=FIRING.actions[:-1]),
        replace(FIRING, actions=(FIRING.actions[0], replace(RECOMMEND, labels={"s": "cheeks"}), *FIRING.actions[2:])),
        replace(FIRING, actions=(FIRING.actions[0], replace(RECOMMEND, fact=None), *FIRING.actions[2:])),
    ],
)
def test_any_difference_makes_records_unequal(changed):
    """A replayed or read-back trace is trusted only if every part of every firing matches."""
    assert changed != FIRING
    assert Consultation((FACT,), (changed,)) != Consultation((FACT,), (FIRING,))


def test_a_consultation_compares_its_facts_too():
    assert Consultation((FACT,), (FIRING,)) != Consultation((replace(FACT, firing=2),), (FIRING,))
    assert Consultation((FACT,), (FIRING,)) != Consultation((), (FIRING,))
