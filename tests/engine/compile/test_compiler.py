"""Each condition form of the rule language, proven on a throw-away knowledge base."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.knowledge.loader import load

from ...conftest import TEMPLATES
from ...helpers import consult, fired, rule

ONE_SCAR = {"scars": [{"type": "ice_pick", "site": "cheeks", "depth": "deep"}]}


# Asserts a `finding` for every deep scar, before other rules (salience 10).
DERIVE_DEEP_FINDING = rule(
    "derive",
    "[{scar: {depth: deep, site: $s}}]",
    "- assert: {finding: {kind: deep, site: $s}}",
    "salience: 10",
)


def test_literal_matches_and_mismatches(make_kb):
    root = make_kb(rule("hit", "[{scar: {type: ice_pick}}]") + rule("miss", "[{scar: {type: boxcar}}]"))
    _, firings = consult(root, ONE_SCAR)
    assert fired(firings) == ["hit"]


def test_any_of_list(make_kb):
    root = make_kb(
        rule("hit", "[{scar: {type: [boxcar, ice_pick]}}]") + rule("miss", "[{scar: {type: [boxcar, rolling]}}]")
    )
    _, firings = consult(root, ONE_SCAR)
    assert fired(firings) == ["hit"]


@pytest.mark.parametrize(
    ("op", "bound", "fires"),
    [
        ("lt", 4, True),
        ("lt", 3, False),
        ("lte", 3, True),
        ("lte", 2, False),
        ("gt", 2, True),
        ("gt", 3, False),
        ("gte", 3, True),
        ("gte", 4, False),
    ],
)
def test_comparisons(make_kb, op, bound, fires):
    root = make_kb(rule("cmp", f"[{{patient: {{level: {{{op}: {bound}}}}}}}]"))
    _, firings = consult(root, {"patient": {"level": 3}, **ONE_SCAR})
    assert (fired(firings) == ["cmp"]) is fires


def test_comparison_never_matches_null(make_kb):
    root = make_kb(rule("young", "[{patient: {age: {lt: 30}}}]"))
    _, firings = consult(root, ONE_SCAR)  # age defaults to null: unknown is not "under 30"
    assert fired(firings) == []
    _, firings = consult(root, {"patient": {"age": 20}, **ONE_SCAR})
    assert fired(firings) == ["young"]


def test_in_and_not(make_kb):
    root = make_kb(
        rule("in-hit", "[{scar: {depth: {in: [deep]}}}]")
        + rule("not-hit", "[{scar: {depth: {not: shallow}}}]")
        + rule("not-miss", "[{scar: {depth: {not: [deep, shallow]}}}]")
    )
    _, firings = consult(root, ONE_SCAR)
    assert sorted(fired(firings)) == ["in-hit", "not-hit"]


def test_contains_on_list_field(make_kb):
    root = make_kb(rule("eczema", "[{patient: {conditions: {contains: eczema}}}]"))
    _, firings = consult(root, ONE_SCAR)
    assert fired(firings) == []
    _, firings = consult(root, {"patient": {"conditions": ["rosacea", "eczema"]}, **ONE_SCAR})
    assert fired(firings) == ["eczema"]


# --- true is not 1 -------------------------------------------------------------------
# A derived template with an integer and a boolean field: the parser must refuse any
# rule that would store or join a boolean with a number, because Python's == (and so
# the Rete network's joins) takes true for 1.

FLAG_TEMPLATES = (
    TEMPLATES
    + """\
  flag:
    fields:
      tag: {type: string, allowed: [a, b], required: true}
      n: {type: integer, nullable: true, default: null}
      set: {type: boolean, nullable: true, default: null}
"""
)


def _rejected(make_kb, rules: str) -> str:
    with pytest.raises(CicatrixError) as caught:
        load(make_kb(rules, templates=FLAG_TEMPLATES))
    return caught.value.render()


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            rule("copy", "[{patient: {pregnant: $p}}]", "- assert: {flag: {tag: a, n: $p}}"),
            "$p cannot be stored in flag.n: it holds a boolean, but the field holds an integer",
        ),
        (
            rule("copy", "[{patient: {age: $n}}]", "- assert: {flag: {tag: a, set: $n}}"),
            "$n cannot be stored in flag.set",
        ),
        (rule("join", "[{patient: {age: $n}}, {flag: {set: $n}}]"), "$n joins an integer"),
        (
            rule("join", "[{patient: {pregnant: $p}}, {patient: {age: {gt: $p}}}]"),
            "$p is compared as a number but holds",
        ),
    ],
)
def test_booleans_and_numbers_never_meet(make_kb, rules, expected):
    """Python (and the Rete network's joins) count true as 1: a boolean stored in, or
    joined with, a number field would match the number 1, so the rule file is refused."""
    assert expected in _rejected(make_kb, rules)


def test_a_value_outside_the_fields_allowed_values_is_never_stored(make_kb):
    message = _rejected(make_kb, rule("copy", "[{scar: {type: $t}}]", "- assert: {flag: {tag: $t}}"))
    assert "$t cannot be stored in flag.tag: it may hold" in message


@pytest.mark.parametrize("literal", ["{patient: {age: true}}", "{patient: {pregnant: 1}}"])
def test_a_literal_of_the_other_type_is_refused(make_kb, literal):
    with pytest.raises(CicatrixError, match="can never match"):
        load(make_kb(rule("r", f"[{literal}]")))


def test_numbers_of_both_kinds_still_join(make_kb):
    root = make_kb(
        rule("copy", "[{patient: {age: $n}}]", "- assert: {flag: {tag: a, n: $n}}", "salience: 10")
        + rule("join", "[{flag: {n: $n}}, {patient: {age: $n}}]"),
        templates=FLAG_TEMPLATES,
    )
    _, firings = consult(root, {"patient": {"age": 1}, **ONE_SCAR})
    assert fired(firings) == ["copy", "join"]


def test_binding_joins_across_patterns(make_kb):
    root = make_kb(
        DERIVE_DEEP_FINDING
        + rule(
            "join",
            "[{finding: {kind: deep, site: $s}}, {scar: {type: $t, site: $s}}]",
            '- note: "{$t} on the {$s}"',
        )
    )
    data = {
        "scars": [
            {"type": "ice_pick", "site": "cheeks", "depth": "deep"},
            {"type": "boxcar", "site": "forehead", "depth": "shallow"},
        ]
    }
    result, firings = consult(root, data)
    joins = [f for f in firings if f.rule == "join"]
    assert len(joins) == 1
    assert joins[0].bindings == {"s": "cheeks", "t": "ice_pick"}
    assert joins[0].matched == ("finding-1", "scar-1")
    # the explanation uses the template's label for the value
    assert result.notes == ("ice pick on the cheeks",)


def test_comparison_between_variables(make_kb):
    root = make_kb(
        rule(
            "too-long",
            "[{patient: {tolerance: $tol}}, {treatment: {id: $t, downtime_min: {gt: $tol}}}]",
            '- avoid: $t\n      reason: "needs more than {$tol} days"',
        )
    )
    result, _ = consult(root, {"patient": {"tolerance": 2}, **ONE_SCAR})
    assert [a.id for a in result.avoid] == ["beta"]
    assert result.avoid[0].reason == "needs more than 2 days"


def test_unless_blocks_and_allows(make_kb):
    root = make_kb(
        rule(
            "unless-preg",
            "[{scar: {type: ice_pick}}]",
            "- note: not pregnant",
            "unless: [{patient: {pregnant: true}}]",
        )
    )
    _, firings = consult(root, ONE_SCAR)
    assert fired(firings) == ["unless-preg"]
    _, firings = consult(root, {"patient": {"pregnant": True}, **ONE_SCAR})
    assert fired(firings) == []


def test_unless_with_a_joined_variable(make_kb):
    root = make_kb(
        DERIVE_DEEP_FINDING
        + rule(
            "no-finding-here",
            "[{scar: {site: $s}}]",
            '- note: "nothing deep on the {$s}"',
            "unless: [{finding: {site: $s}}]",
        )
    )
    data = {
        "scars": [
            {"type": "ice_pick", "site": "cheeks", "depth": "deep"},
            {"type": "boxcar", "site": "forehead"},
        ]
    }
    result, _ = consult(root, data)
    assert result.notes == ("nothing deep on the forehead",)


def test_salience_orders_firings_and_ties_follow_file_order(make_kb):
    root = make_kb(
        rule("low", "[]", extra="salience: -5")
        + rule("tie-a", "[]")
        + rule("high", "[]", extra="salience: 50")
        + rule("tie-b", "[]")
    )
    _, firings = consult(root, ONE_SCAR)
    assert fired(firings) == ["high", "tie-a", "tie-b", "low"]


def test_rules_chain_on_recommend_facts(make_kb):
    root = make_kb(
        rule("first", "[]", "- recommend: alpha\n      explain: because")
        + rule("second", "[{recommend: {treatment: alpha}}]", "- note: alpha was recommended")
    )
    result, firings = consult(root, ONE_SCAR)
    assert fired(firings) == ["first", "second"]
    assert firings[1].matched == ("recommend-1",)
    assert result.notes == ("alpha was recommended",)


def test_identical_input_facts_stay_distinct(make_kb):
    root = make_kb(rule("each", "[{scar: {type: ice_pick}}]"))
    scar = {"type": "ice_pick", "site": "cheeks"}
    _, firings = consult(root, {"scars": [scar, dict(scar)]})
    assert [f.matched for f in firings] == [("scar-2",), ("scar-1",)]


def test_assert_fills_defaults_and_records_the_fact(make_kb):
    root = make_kb(rule("d", "[]", "- assert: {finding: {kind: shallow}}"))
    result, firings = consult(root, ONE_SCAR)
    facts = {f.id: f for f in result.consultation.facts}
    assert firings[0].asserted == ("finding-1",)
    assert facts["finding-1"].values == {"kind": "shallow", "site": None}
    assert facts["finding-1"].rule == "d"


@pytest.mark.parametrize(
    "values",
    [
        {"type": "ice_pick", "site": None, "depth": "deep"},
        {"age": 30, "level": 2, "pregnant": False, "tolerance": 7.5, "conditions": ["eczema", "rosacea"]},
        {"nested": {"a": [1, {"b": 2}]}, "set": {1, 2}},
        {},
    ],
)
def test_a_fact_made_fast_is_the_fact_experta_makes(values):
    from cicatrix.engine.compile.compat import Fact
    from cicatrix.engine.compile.compiler import new_fact

    cls = type("T_x", (Fact,), {})
    fast, stock = new_fact(cls, values), cls(**values)
    assert type(fast) is cls
    assert dict(fast) == dict(stock) and hash(fast) == hash(stock) and fast == stock
    assert [type(v) for v in fast.values()] == [type(v) for v in stock.values()]  # lists frozen as experta freezes them
    assert fast.as_dict() == stock.as_dict()
    with pytest.raises(KeyError):
        fast["missing"]  # experta's __missing__ works: it reads the private defaults new_fact sets


def test_the_run_loop_fires_in_the_strategys_order_and_stops_at_steps(make_kb):
    from cicatrix.engine.patient.reader import from_data
    from cicatrix.engine.session.session import Session

    kb = load(
        make_kb(
            rule("low", "[{scar: {type: ice_pick}}]", "- note: low")
            + rule("high", "[{scar: {type: ice_pick}}]", "- note: high", "salience: 5")
        )
    )
    session = Session(kb)
    patient = from_data({"scars": [{"type": "ice_pick"}]}, kb)
    assert fired(session.consult(patient).firings) == ["high", "low"]

    engine = session.engine
    engine.run = lambda steps=float("inf"), run=engine.run: run(steps=1)  # a run of one step
    assert fired(session.consult(patient).firings) == ["high"]
    assert [a.rule.cx_rule.id for a in engine.agenda.activations] == ["low"]  # still waiting


def test_the_compiled_fact_list_numbers_and_refuses_duplicates_as_experta_does():
    from cicatrix.engine.compile.compat import Fact, FactList
    from cicatrix.engine.compile.compiler import CompiledFactList, new_fact

    a_class, b_class = type("T_a", (Fact,), {}), type("T_b", (Fact,), {})
    values = [(a_class, {"x": 1}), (b_class, {"x": 1}), (a_class, {"x": 1}), (a_class, {"x": [1, 2]}), (a_class, {})]
    stock, compiled = FactList(), CompiledFactList()
    out_stock = [stock.declare(cls(**v)) for cls, v in values]
    out_compiled = [compiled.declare(new_fact(cls, v)) for cls, v in values]
    assert (
        [f and f["__factid__"] for f in out_compiled]
        == [f and f["__factid__"] for f in out_stock]
        == [0, 1, None, 2, 3]
    )
    assert compiled.reference_counter == stock.reference_counter and compiled.last_index == stock.last_index
    assert [dict(f) for f in compiled.added] == [dict(f) for f in stock.added]
