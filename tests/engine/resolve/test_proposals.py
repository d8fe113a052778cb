"""Gathering what the standing firings proposed: grouped by the id they concern, the
best tier kept, and nothing from a firing that lost its reason."""

from __future__ import annotations

import pytest

from cicatrix.engine.resolve.proposals import Proposal, best_tier, gather
from cicatrix.engine.session.records import ActionRecord, Consultation, FactRecord, Firing

PATIENT = FactRecord("patient", "patient", {}, "input")
REC_ALPHA = FactRecord("recommend-1", "recommend", {"treatment": "alpha", "tier": "first_line"}, "rule", "r1", 1)
FACTS = (PATIENT, REC_ALPHA)


def firing(seq: int, rule: str, *actions: ActionRecord, matched: tuple[str, ...] = ("patient",)) -> Firing:
    return Firing(seq, rule, 0, matched, {}, actions)


def recommend(tid: str, tier: str = "first_line", text: str = "because", targets: tuple[str, ...] = ()):
    return ActionRecord("recommend", tid, text, tier, targets)


def combine(*components: str, tier: str = "first_line", sequence: str = "", text: str = "together"):
    return ActionRecord("combine", text=text, tier=tier, components=components, sequence=sequence)


def avoid(tid: str, reason: str = "no") -> ActionRecord:
    return ActionRecord("avoid", tid, reason)


def caution(tid: str, text: str) -> ActionRecord:
    return ActionRecord("caution", tid, text)


def note(text: str) -> ActionRecord:
    return ActionRecord("note", text=text)


def gathered(*firings: Firing):
    return gather(Consultation(FACTS, firings))


@pytest.mark.parametrize(
    ("a", "b", "best"),
    [
        ("first_line", "second_line", "first_line"),
        ("second_line", "first_line", "first_line"),
        ("adjunct", "second_line", "second_line"),
        ("second_line", "adjunct", "second_line"),
        ("adjunct", "adjunct", "adjunct"),
    ],
)
def test_best_tier_is_the_earlier_in_the_tier_order(a, b, best):
    assert best_tier(a, b) == best


def test_nothing_proposed():
    out = gathered()
    assert (out.recommended, out.combinations, out.avoided, out.cautions, out.notes) == ({}, {}, {}, {}, [])


def test_recommendations_are_grouped_by_treatment_with_the_best_tier():
    a1 = recommend("alpha", "second_line", "one", ("ice_pick",))
    b1 = recommend("beta", "adjunct", "b")
    a2 = recommend("alpha", "first_line", "two", ("boxcar", "ice_pick"))
    a3 = recommend("alpha", "adjunct", "three")
    out = gathered(firing(1, "r1", a1, b1), firing(2, "r2", a2), firing(3, "r1", a3))
    assert list(out.recommended) == ["alpha", "beta"]  # first proposed first
    alpha = out.recommended["alpha"]
    assert alpha == Proposal(
        "first_line",  # a later, worse tier does not demote it
        rules=["r1", "r2", "r1"],
        texts=[a1, a2, a3],
        targets=["ice_pick", "boxcar", "ice_pick"],
    )
    assert out.recommended["beta"] == Proposal("adjunct", rules=["r1"], texts=[b1])


def test_combinations_are_keyed_by_their_components():
    c1 = combine("alpha", "beta", tier="second_line", sequence="alpha first")
    c2 = combine("alpha", "beta", tier="first_line", sequence="then beta")
    c3 = combine("beta", "alpha", tier="adjunct")
    out = gathered(firing(1, "r1", c1), firing(2, "r2", c2, c3))
    assert list(out.combinations) == ["alpha+beta", "beta+alpha"]
    p = out.combinations["alpha+beta"]
    assert p.tier == "first_line" and p.components == ("alpha", "beta")
    assert p.rules == ["r1", "r2"] and p.texts == [c1, c2]
    assert p.sequence == ["alpha first", "then beta"]
    assert out.combinations["beta+alpha"].tier == "adjunct"
    assert out.recommended == {}  # a combination is not a recommendation of its parts


def test_avoidances_cautions_and_notes():
    av1, av2 = avoid("never", "harmful"), avoid("never", "no evidence")
    out = gathered(
        firing(1, "r1", av1, caution("alpha", "mind the sun"), note("first")),
        firing(2, "r2", av2, caution("alpha", "no picking"), caution("beta", "patch test"), note("second")),
    )
    assert out.avoided == {"never": Proposal("first_line", rules=["r1", "r2"], texts=[av1, av2])}
    assert out.cautions == {"alpha": ["mind the sun", "no picking"], "beta": ["patch test"]}
    assert [n.text for n in out.notes] == ["first", "second"]
    # cautions and notes propose nothing
    assert out.recommended == {} and out.combinations == {}


def test_asserts_are_not_proposals():
    out = gathered(firing(1, "r1", ActionRecord("assert", fact="finding-1")))
    assert (out.recommended, out.combinations, out.avoided, out.cautions, out.notes) == ({}, {}, {}, {}, [])


def test_a_firing_that_lost_its_reason_proposes_nothing():
    """It reacted to alpha being recommended, and alpha is avoided: supported_firings drops it."""
    reacting = firing(
        2,
        "with-alpha",
        recommend("beta", "first_line", "goes with alpha"),
        combine("alpha", "beta"),
        avoid("gamma"),
        caution("beta", "careful"),
        note("alpha chosen"),
        matched=("recommend-1",),
    )
    standing = (firing(1, "r1", recommend("alpha")), reacting)
    out = gathered(*standing)
    assert list(out.recommended) == ["alpha", "beta"] and list(out.combinations) == ["alpha+beta"]
    assert list(out.avoided) == ["gamma"] and out.cautions and out.notes

    out = gathered(*standing, firing(3, "no-alpha", avoid("alpha")))
    assert list(out.recommended) == ["alpha"]  # avoid-wins is decided later
    assert out.recommended["alpha"].rules == ["r1"]
    assert list(out.avoided) == ["alpha"]
    assert (out.combinations, out.cautions, out.notes) == ({}, {}, [])


def test_proposal_add_collects_rule_text_and_targets():
    p = Proposal("second_line")
    action = recommend("alpha", targets=("ice_pick", "boxcar"))
    p.add("r", action)
    p.add("s", recommend("alpha", targets=("rolling",)))
    assert p.rules == ["r", "s"] and p.texts[0] is action
    assert p.targets == ["ice_pick", "boxcar", "rolling"]
    assert p.tier == "second_line"  # add never changes the tier
    assert Proposal("first_line").rules is not Proposal("first_line").rules
