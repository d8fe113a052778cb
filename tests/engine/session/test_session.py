"""One consultation: the facts a session declares, the firings it records and what
each action did, and that a session starts afresh for every patient."""

from __future__ import annotations

import pytest

from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.session.records import ActionRecord, FactRecord
from cicatrix.engine.session.session import Session

from ...conftest import EXAMPLES, TEMPLATES
from ...helpers import rule


def session_for(make_kb, rules: str, **kwargs) -> Session:
    return Session(load(make_kb(rules, **kwargs)))


def consult(session: Session, data: dict):
    return session.consult(from_data(data, session.kb))


DEEP = {"type": "ice_pick", "site": "cheeks", "depth": "deep"}
SHALLOW = {"type": "boxcar", "site": "forehead", "depth": "shallow"}

# A finding for every deep scar, and a recommendation (with the scar type worded) for every finding.
CHAIN = rule(
    "derive",
    "[{scar: {depth: deep, site: $s}}]",
    "- assert: {finding: {kind: deep, site: $s}}",
    "salience: 10",
) + rule(
    "use",
    "[{finding: {kind: deep, site: $s}}, {scar: {type: $t, site: $s}}]",
    '- recommend: alpha\n      explain: "{$t} on the {$s}"',
)


# --- input facts -----------------------------------------------------------------------


def test_input_facts_are_named_after_their_template(make_kb):
    session = session_for(make_kb, rule("r", "[]"))
    consultation = consult(session, {"patient": {"level": 5}, "scars": [DEEP, SHALLOW]})
    assert [(f.id, f.template, f.origin) for f in consultation.facts] == [
        ("patient", "patient", "input"),  # one mapping: the template's name
        ("scar-1", "scar", "input"),  # a list: template-N, from 1, in file order
        ("scar-2", "scar", "input"),
    ]
    patient, scar1, scar2 = consultation.facts
    # the values are the normalised input, defaults filled in
    assert patient.values == {"age": None, "level": 5, "pregnant": False, "tolerance": 7, "conditions": []}
    assert scar1.values == DEEP and scar2.values == SHALLOW
    assert patient.rule is None and patient.firing is None


def test_a_session_takes_a_knowledge_base_or_a_compiled_one(make_kb):
    kb = load(make_kb(rule("r", "[{scar: {type: ice_pick}}]")))
    data = {"scars": [DEEP]}
    from_kb = consult(Session(kb), data)
    from_compiled = consult(Session(compile_kb(kb)), data)
    assert from_kb == from_compiled
    assert [f.rule for f in from_kb.firings] == ["r"]


# --- the catalogue ---------------------------------------------------------------------


def test_no_catalogue_facts_unless_a_rule_matches_treatments(make_kb):
    session = session_for(make_kb, rule("r", "[{scar: {type: ice_pick}}]"))
    assert session.compiled.uses_catalogue is False
    consultation = consult(session, {"scars": [DEEP]})
    assert [f.origin for f in consultation.facts] == ["input", "input"]


def test_catalogue_facts_when_a_rule_matches_treatments(make_kb):
    session = session_for(
        make_kb,
        rule("slow", "[{treatment: {id: $t, downtime_min: {gte: 5}}}]", "- avoid: $t\n      reason: too slow"),
    )
    assert session.compiled.uses_catalogue is True
    consultation = consult(session, {"scars": [DEEP]})
    catalogue = [f for f in consultation.facts if f.origin == "catalogue"]
    # every entry, in catalogue order, after the input facts
    assert [f.id for f in catalogue] == [f"treatment/{t}" for t in ("alpha", "beta", "gamma", "delta", "never")]
    assert consultation.facts[:2] == tuple(f for f in consultation.facts if f.origin == "input")
    assert catalogue[0] == FactRecord(
        "treatment/alpha",
        "treatment",
        {
            "id": "alpha",
            "kind": "procedure",
            "downtime_min": 1,
            "downtime_max": 3,
            "cost": "none",
            "tags": ["elective"],
        },
        "catalogue",
    )
    # the rule matched the catalogue fact: its id is the one recorded
    (firing,) = consultation.firings
    assert firing.matched == ("treatment/beta",)
    assert firing.bindings == {"t": "beta"}


def test_the_bundled_kb_declares_its_catalogue(kb, session):
    consultation = session.consult(read(EXAMPLES / "pregnant.yaml", kb))
    catalogue = [f.id for f in consultation.facts if f.origin == "catalogue"]
    assert catalogue == [f"treatment/{t}" for t in kb.treatments]
    inputs = [f.id for f in consultation.facts if f.origin == "input"]
    assert inputs[0] == "patient" and inputs[1:] == [f"scar-{i}" for i in range(1, len(inputs))]
    # every fact a firing matched is one the consultation recorded
    known = {f.id for f in consultation.facts}
    assert consultation.firings and all(set(f.matched) <= known for f in consultation.firings)


# --- firings ---------------------------------------------------------------------------


def test_firings_are_numbered_from_one_with_rule_and_salience(make_kb):
    session = session_for(make_kb, CHAIN)
    consultation = consult(session, {"scars": [DEEP, SHALLOW]})
    assert [(f.seq, f.rule, f.salience) for f in consultation.firings] == [(1, "derive", 10), (2, "use", 0)]


def test_matched_facts_follow_the_order_of_the_when_patterns(make_kb):
    session = session_for(
        make_kb,
        rule("scar-first", "[{scar: {type: ice_pick}}, {patient: {level: 3}}]")
        + rule("patient-first", "[{patient: {level: 3}}, {scar: {type: ice_pick}}]"),
    )
    firings = {f.rule: f for f in consult(session, {"scars": [SHALLOW, DEEP]}).firings}
    assert firings["scar-first"].matched == ("scar-2", "patient")
    assert firings["patient-first"].matched == ("patient", "scar-2")


def test_bindings_are_plain_values_and_lists(make_kb):
    session = session_for(make_kb, rule("r", "[{patient: {conditions: $c, level: $n}}, {scar: {site: $s}}]"))
    (firing,) = consult(session, {"patient": {"conditions": ["rosacea", "eczema"]}, "scars": [DEEP]}).firings
    assert firing.bindings == {"c": ["rosacea", "eczema"], "n": 3, "s": "cheeks"}
    assert type(firing.bindings["c"]) is list  # the engine's frozen list, thawed
    assert list(firing.bindings) == ["c", "n", "s"]


def test_actions_record_their_filled_text_and_the_words_used(make_kb):
    session = session_for(
        make_kb,
        rule(
            "all",
            "[{scar: {type: $t, site: $s}}]",
            """- recommend: alpha
      explain: "{$t} scars on the {$s}"
      tier: second_line
      targets: [$t]
    - caution: alpha
      text: "mind the {$s}"
    - combine: [alpha, beta]
      rationale: both together
      sequence: "alpha first on the {$s}"
    - note: "{$t} seen\"""",
        ),
    )
    (firing,) = consult(session, {"scars": [DEEP]}).firings
    recommend, caution, combine, note = firing.actions
    assert recommend == ActionRecord(
        "recommend",
        "alpha",
        "ice pick scars on the cheeks",  # the field's label for ice_pick
        "second_line",
        ("ice_pick",),
        fact="recommend-1",
        template="{$t} scars on the {$s}",
        labels={"t": "ice pick", "s": "cheeks"},
    )
    assert caution == ActionRecord(
        "caution", "alpha", "mind the cheeks", "", fact=None, template="mind the {$s}", labels={"s": "cheeks"}
    )
    assert combine == ActionRecord(
        "combine",
        text="both together",
        tier="first_line",
        components=("alpha", "beta"),
        sequence="alpha first on the cheeks",
        template="both together",
    )
    assert note == ActionRecord("note", text="ice pick seen", template="{$t} seen", labels={"t": "ice pick"})


# --- facts the rules assert ------------------------------------------------------------


def test_recommend_and_avoid_assert_facts_recorded_with_their_firing(make_kb):
    session = session_for(
        make_kb,
        rule(
            "r", "[]", "- recommend: alpha\n      explain: a\n      tier: adjunct\n    - avoid: never\n      reason: b"
        ),
    )
    consultation = consult(session, {"scars": [DEEP]})
    (firing,) = consultation.firings
    assert [a.fact for a in firing.actions] == ["recommend-1", "avoid-1"]
    assert firing.asserted == ("recommend-1", "avoid-1")
    facts = {f.id: f for f in consultation.facts}
    assert facts["recommend-1"] == FactRecord(
        "recommend-1", "recommend", {"treatment": "alpha", "tier": "adjunct"}, "rule", "r", 1
    )
    assert facts["avoid-1"] == FactRecord("avoid-1", "avoid", {"treatment": "never"}, "rule", "r", 1)


def test_an_identical_fact_is_kept_once(make_kb):
    session = session_for(
        make_kb,
        rule(
            "each-scar",
            "[{scar: {type: $t}}]",
            "- recommend: alpha\n      explain: a\n    - avoid: never\n      reason: b\n"
            "    - assert: {finding: {kind: deep}}",
        )
        + rule("other-tier", "[]", "- recommend: alpha\n      explain: c\n      tier: adjunct", "salience: -1")
        + rule("reads", "[{finding: {kind: deep}}]", extra="salience: -2"),
    )
    consultation = consult(session, {"scars": [DEEP, SHALLOW]})
    first, second, other, reads = consultation.firings
    assert [a.fact for a in first.actions] == ["recommend-1", "avoid-1", "finding-1"]
    # the same facts again: the engine keeps one, the record says nothing new was asserted
    assert [a.fact for a in second.actions] == [None, None, None]
    assert second.asserted == ()
    # a different tier is a different fact
    assert other.asserted == ("recommend-2",)
    assert reads.matched == ("finding-1",)
    derived = [f.id for f in consultation.facts if f.origin == "rule"]
    assert derived == ["recommend-1", "avoid-1", "finding-1", "recommend-2"]


def test_asserted_values_are_thawed_and_counted_per_template(make_kb):
    templates = TEMPLATES + (
        "  flag:\n    fields:\n      items: {type: list, allowed: [eczema, rosacea], default: []}\n"
        "      n: {type: integer, nullable: true, default: null}\n"
    )
    session = session_for(
        make_kb,
        rule(
            "copy",
            "[{patient: {conditions: $c}}, {scar: {site: $s}}]",
            "- assert: {flag: {items: $c}}\n    - assert: {finding: {kind: shallow, site: $s}}",
        )
        + rule("read", "[{flag: {items: {contains: eczema}, n: $n}}, {finding: {site: $s}}]"),
        templates=templates,
    )
    consultation = consult(session, {"patient": {"conditions": ["eczema"]}, "scars": [DEEP, SHALLOW]})
    facts = {f.id: f for f in consultation.facts if f.origin == "rule"}
    # each template counts its own facts; the second flag is identical to the first
    assert list(facts) == ["flag-1", "finding-1", "finding-2"]
    assert facts["flag-1"].values == {"items": ["eczema"], "n": None}
    assert type(facts["flag-1"].values["items"]) is list


# --- one session, many patients ----------------------------------------------------------


def test_a_session_starts_afresh_for_every_patient(make_kb):
    session = session_for(make_kb, CHAIN)
    two_deep = {"scars": [DEEP, {**DEEP, "site": "forehead"}]}
    first = consult(session, two_deep)
    assert [f.id for f in first.facts if f.origin == "rule"] == ["finding-1", "finding-2", "recommend-1"]

    second = consult(session, {"patient": {"level": 2}, "scars": [{**DEEP, "site": "forehead"}]})
    # nothing of the first patient: ids and counters start again, firings from 1
    assert [f.id for f in second.facts] == ["patient", "scar-1", "finding-1", "recommend-1"]
    assert second.facts[0].values["level"] == 2
    assert second.facts[2].values == {"kind": "deep", "site": "forehead"}
    assert [f.seq for f in second.firings] == [1, 2]
    assert second.firings[1].matched == ("finding-1", "scar-1")
    assert second.firings[1].actions[0].fact == "recommend-1"

    # the first record is untouched, and the same patient gives the same record again
    assert len(first.firings) == 4
    assert consult(session, two_deep) == first


@pytest.mark.parametrize("matcher", ["stock", "incremental"])
def test_both_matchers_record_the_same_consultation(make_kb, matcher):
    kb = load(make_kb(CHAIN))
    data = {"scars": [DEEP, SHALLOW, {**DEEP, "site": "forehead"}]}
    assert consult(Session(kb, matcher=matcher), data) == consult(Session(kb), data)


def test_a_rule_that_joins_too_many_ways_stops_with_a_located_error(make_kb, monkeypatch):
    from cicatrix.engine.common.errors import CicatrixError
    from cicatrix.engine.match import matcher

    monkeypatch.setattr(matcher, "MAX_MATCHES", 500)
    # four patterns on the scars: 8 scars make 4,096 matches, past the (lowered) budget
    wide = rule("wide", "[{scar: {type: $a}}, {scar: {type: $b}}, {scar: {type: $c}}, {scar: {type: $d}}]")
    session = session_for(make_kb, wide)
    scars = [{"type": t} for t in ("boxcar", "rolling", "ice_pick") * 3][:8]
    with pytest.raises(CicatrixError) as caught:
        consult(session, {"scars": scars})
    (found,) = caught.value.problems
    assert found.path == "wide" and found.file.endswith(".yaml") and found.line
    assert "more than 500 rule matches in one consultation" in found.message
    # the budget is per consultation: a small patient afterwards runs normally
    assert consult(session, {"scars": scars[:2]}).firings
