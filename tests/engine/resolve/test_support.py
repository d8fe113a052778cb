"""Which firings still stand once avoidances are known: a firing that reacted to a
recommendation falls when that treatment is avoided, and so does whatever reacted to it."""

from __future__ import annotations

from cicatrix.engine.resolve.support import supported_firings
from cicatrix.engine.session.records import ActionRecord, Consultation, FactRecord, Firing

from ...helpers import consult, fired

PATIENT = FactRecord("patient", "patient", {}, "input")


def recommend_fact(n: int, treatment: str, seq: int) -> FactRecord:
    return FactRecord(f"recommend-{n}", "recommend", {"treatment": treatment, "tier": "first_line"}, "rule", "r", seq)


def firing(seq: int, matched: tuple[str, ...], *actions: ActionRecord) -> Firing:
    return Firing(seq, f"rule-{seq}", 0, matched, {}, actions)


def recommend(treatment: str, fact: str | None = None) -> ActionRecord:
    return ActionRecord("recommend", treatment, "because", "first_line", fact=fact)


def avoid(treatment: str) -> ActionRecord:
    return ActionRecord("avoid", treatment, "not for you")


FACTS = (PATIENT, recommend_fact(1, "alpha", 1), recommend_fact(2, "beta", 2))
BASE = (
    firing(1, ("patient",), recommend("alpha", "recommend-1")),
    # reacts to alpha being recommended: adds beta
    firing(2, ("recommend-1",), recommend("beta", "recommend-2")),
    # reacts to beta (so, through it, to alpha): adds gamma
    firing(3, ("recommend-2",), recommend("gamma")),
    # an unrelated conclusion
    firing(4, ("patient",), recommend("delta")),
)


def test_without_avoidances_every_firing_stands():
    assert supported_firings(Consultation(FACTS, BASE)) == {1, 2, 3, 4}
    assert supported_firings(Consultation((PATIENT,), ())) == set()


def test_an_avoided_treatment_drops_the_firings_that_reacted_to_it_and_what_they_fed():
    firings = (*BASE, firing(5, ("patient",), avoid("alpha")))
    # the firing that recommended alpha and the one that avoided it both stand:
    # avoid-wins is decided later, from what these firings said
    assert supported_firings(Consultation(FACTS, firings)) == {1, 4, 5}


def test_avoiding_the_middle_of_a_chain_keeps_its_start():
    firings = (*BASE, firing(5, ("patient",), avoid("beta")))
    assert supported_firings(Consultation(FACTS, firings)) == {1, 2, 4, 5}


def test_a_reaction_stands_while_another_firing_still_recommends_its_reason():
    # beta is also recommended by a firing that does not depend on alpha
    firings = (*BASE, firing(5, ("patient",), avoid("alpha")), firing(6, ("patient",), recommend("beta")))
    assert supported_firings(Consultation(FACTS, firings)) == {1, 3, 4, 5, 6}


def test_a_reaction_to_two_recommendations_needs_both():
    firings = (
        firing(1, ("patient",), recommend("alpha", "recommend-1"), recommend("beta", "recommend-2")),
        firing(2, ("recommend-1", "recommend-2"), recommend("gamma")),
        firing(3, ("patient",), avoid("beta")),
    )
    assert supported_firings(Consultation(FACTS, firings)) == {1, 3}


def test_conclusions_of_a_fallen_firing_leave_the_plan(make_kb):
    root = make_kb(
        """
- id: rec-alpha
  title: rec alpha
  salience: 10
  when: []
  then: [{recommend: alpha, explain: first}]
  sources: [src.txt]
- id: with-alpha
  title: with alpha
  when: [{recommend: {treatment: alpha}}]
  then:
    - recommend: gamma
      explain: goes with alpha
    - avoid: delta
      reason: clashes with alpha
    - note: alpha chosen
  sources: [src.txt]
- id: no-alpha-when-pregnant
  title: no alpha
  when: [{patient: {pregnant: true}}]
  then: [{avoid: alpha, reason: pregnant}]
  sources: [src.txt]
"""
    )
    scars = {"scars": [{"type": "boxcar"}]}
    result, _ = consult(root, scars)
    assert [r.id for r in result.recommendations] == ["alpha", "gamma"]
    assert [a.id for a in result.avoid] == ["delta"] and result.notes == ("alpha chosen",)
    result, firings = consult(root, {"patient": {"pregnant": True}, **scars})
    assert fired(firings) == ["rec-alpha", "with-alpha", "no-alpha-when-pregnant"]  # it did fire ...
    # ... but everything it concluded fell with alpha
    assert result.recommendations == ()
    assert [a.id for a in result.avoid] == ["alpha"] and result.notes == ()
