"""engine/resolve/roots.py: which input items each firing rests on, through any
chain of derived facts, and through every firing that asserted a fact (a duplicate
assertion, which CLIPS keeps once, widens the fact's roots, even after the fact
was used). Hand-built firing records isolate the fixpoint; a small knowledge base
shows the consequence: a finding drawn from two scars serves both problems."""

from __future__ import annotations

from cicatrix.engine.resolve.roots import roots
from cicatrix.engine.session.records import ActionRecord, Consultation, FactRecord, Firing

from ...helpers import consult
from .test_problems import plan_kb, procedure

PATIENT = FactRecord("patient", "patient", {}, "input")
SCAR_1 = FactRecord("scar-1", "scar", {"type": "ice_pick"}, "input")
SCAR_2 = FactRecord("scar-2", "scar", {"type": "boxcar"}, "input")
SCAR_3 = FactRecord("scar-3", "scar", {"type": "rolling"}, "input")
ALPHA = FactRecord("treatment-1", "treatment", {"id": "alpha"}, "catalogue")


def derived(fid: str, seq: int) -> FactRecord:
    return FactRecord(fid, fid.rsplit("-", 1)[0], {}, "rule", "r", seq)


def firing(seq: int, matched: tuple[str, ...], *actions: ActionRecord) -> Firing:
    return Firing(seq, f"rule-{seq}", 0, matched, {}, actions)


def asserts(fid: str) -> ActionRecord:
    return ActionRecord("assert", fact=fid)


def again(fid: str) -> ActionRecord:
    """A duplicate assertion: the fact already existed."""
    return ActionRecord("assert", same_as=fid)


def recommend(treatment: str) -> ActionRecord:
    return ActionRecord("recommend", treatment, "because", "first_line")


def test_an_input_item_is_its_own_root_and_nothing_else_is():
    record = Consultation(
        (PATIENT, SCAR_1, SCAR_2, ALPHA),
        (firing(1, ("scar-1",), recommend("a")), firing(2, ("patient", "treatment-1"), recommend("b"))),
    )
    by_firing, by_fact = roots(record, "scar")
    assert by_fact == {
        "patient": frozenset(),  # an input fact, but not of the template asked for
        "scar-1": {"scar-1"},
        "scar-2": {"scar-2"},
        "treatment-1": frozenset(),  # a catalogue fact
    }
    assert by_firing == {1: {"scar-1"}, 2: frozenset()}
    # the template decides which input facts count
    assert roots(record, "patient")[1]["patient"] == {"patient"}
    assert roots(record, "patient")[0] == {1: frozenset(), 2: {"patient"}}


def test_a_firing_with_no_pattern_rests_on_nothing():
    record = Consultation((SCAR_1,), (firing(1, (), recommend("a")),))
    assert roots(record, "scar")[0] == {1: frozenset()}


def test_roots_reach_through_a_chain_of_derived_facts():
    record = Consultation(
        (PATIENT, SCAR_1, SCAR_2, derived("finding-1", 1), derived("risk-1", 2)),
        (
            firing(1, ("scar-1",), asserts("finding-1")),
            firing(2, ("finding-1", "patient"), asserts("risk-1")),
            firing(3, ("risk-1",), recommend("alpha")),
            firing(4, ("scar-2",), recommend("beta")),
        ),
    )
    by_firing, by_fact = roots(record, "scar")
    assert by_fact["finding-1"] == by_fact["risk-1"] == {"scar-1"}
    assert by_firing == {1: {"scar-1"}, 2: {"scar-1"}, 3: {"scar-1"}, 4: {"scar-2"}}


def test_a_duplicate_assertion_widens_the_fact_and_what_used_it_even_afterwards():
    # scar-1 asserts the finding, a rule uses it, and only then does scar-2 assert it again
    record = Consultation(
        (SCAR_1, SCAR_2, SCAR_3, derived("finding-1", 1)),
        (
            firing(1, ("scar-1",), asserts("finding-1")),
            firing(2, ("finding-1",), recommend("alpha")),
            firing(3, ("scar-2",), again("finding-1")),
            firing(4, ("scar-3",), recommend("beta")),
        ),
    )
    by_firing, by_fact = roots(record, "scar")
    assert by_fact["finding-1"] == {"scar-1", "scar-2"}
    assert by_firing[2] == {"scar-1", "scar-2"}
    assert by_firing[3] == {"scar-2"} and by_firing[4] == {"scar-3"}


def test_widening_travels_down_a_chain_until_nothing_changes():
    # finding-1 -> finding-2 -> recommendation; the duplicate of finding-1 comes last of all
    record = Consultation(
        (SCAR_1, SCAR_2, derived("finding-1", 1), derived("finding-2", 2)),
        (
            firing(1, ("scar-1",), asserts("finding-1")),
            firing(2, ("finding-1",), asserts("finding-2")),
            firing(3, ("finding-2",), recommend("alpha")),
            firing(4, ("scar-2",), again("finding-1")),
        ),
    )
    by_firing, by_fact = roots(record, "scar")
    assert by_fact["finding-2"] == {"scar-1", "scar-2"}
    assert by_firing[3] == {"scar-1", "scar-2"}


def test_a_duplicate_of_an_unknown_fact_changes_nothing():
    record = Consultation((SCAR_1,), (firing(1, ("scar-1",), again("finding-9")),))
    by_firing, by_fact = roots(record, "scar")
    assert by_firing == {1: {"scar-1"}} and set(by_fact) == {"scar-1"}


# --- in a consultation: a finding drawn from two scars serves both problems -------------

FINDING_RULES = """
- id: deep-finding
  title: deep scars make a finding
  when: [{scar: {depth: deep}}]
  then: [{assert: {finding: {kind: deep}}}]
  sources: [src.txt]
- id: alpha-for-deep
  title: alpha for deep scars
  when: [{finding: {kind: deep}}]
  then:
    - recommend: alpha
      explain: alpha for deep scars.
      targets: [ice_pick, boxcar]
  sources: [src.txt]
"""


def test_a_finding_derived_from_two_scars_reaches_both_problems(make_kb):
    root = plan_kb(make_kb, FINDING_RULES, treatments="treatments:\n" + procedure("alpha"))
    deep = {"depth": "deep", "site": "cheeks"}
    result, firings = consult(root, {"scars": [{"type": "ice_pick", **deep}, {"type": "boxcar", **deep}]})
    # the rule recommending alpha fired once, on the finding the first scar asserted
    assert [f.rule for f in firings].count("alpha-for-deep") == 1
    duplicate = [a for f in firings if f.rule == "deep-finding" for a in f.actions if a.same_as]
    assert len(duplicate) == 1
    assert [(p.kind, p.choice) for p in result.plan.problems] == [("ice_pick", "alpha"), ("boxcar", "alpha")]
