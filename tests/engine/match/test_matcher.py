"""Differential tests: the incremental matcher fires exactly what experta's stock one does.

Random rule sets in the project's own rule language (literal, any-of, comparison,
binding joins, unless, salience, derived facts, rules reacting to conclusions) and
random patients run through both matchers; the firings must be identical, in the
same order, with the same matched facts and bindings, and so must the plans.
"""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.match.matcher import IncrementalReteMatcher
from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session

from ...conftest import MANIFEST, TEMPLATES, TREATMENTS
from ...helpers import ALL_EXAMPLES

TYPES = ["ice_pick", "boxcar", "rolling"]
SITES = ["cheeks", "forehead"]
TREATS = ["alpha", "beta", "gamma", "delta"]

literal_scar = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True),
                          st.builds(lambda v: {"not": v}, st.sampled_from(TYPES))),
        "depth": st.sampled_from(["shallow", "deep", ["shallow", "deep"]]),
        "site": st.sampled_from([*SITES, "$s"]),
    },
)  # fmt: skip
literal_patient = st.fixed_dictionaries(
    {},
    optional={
        "level": st.one_of(st.integers(1, 6), st.builds(lambda v: {"lte": v}, st.integers(1, 6))),
        "age": st.builds(lambda v: {"gte": v}, st.integers(10, 60)),
        "pregnant": st.booleans(),
        "conditions": st.builds(lambda v: {"contains": v}, st.sampled_from(["eczema", "rosacea"])),
    },
)
literal_finding = st.fixed_dictionaries(
    {}, optional={"kind": st.sampled_from(["deep", "shallow"]), "site": st.just("$s")}
)
pattern = st.one_of(
    st.builds(lambda c: {"scar": c}, literal_scar),
    st.builds(lambda c: {"patient": c}, literal_patient),
    st.builds(lambda c: {"finding": c}, literal_finding),
    st.builds(lambda t: {"recommend": {"treatment": t}}, st.sampled_from(TREATS)),
)
action = st.one_of(
    st.builds(lambda t: {"recommend": t, "explain": f"because {t}"}, st.sampled_from(TREATS)),
    st.builds(lambda t: {"avoid": t, "reason": f"not {t}"}, st.sampled_from(TREATS)),
    st.builds(lambda k: {"assert": {"finding": {"kind": k}}}, st.sampled_from(["deep", "shallow"])),
    st.just({"combine": ["alpha", "beta"], "rationale": "together"}),
    st.just({"note": "a note"}),
)


def _rule(i: int, when: list, unless: list, then: list, salience: int) -> dict:
    bound = any("$s" in str(p) for p in when)
    if not bound:  # a variable used only in `unless` or actions must be bound in `when`
        unless = [p for p in unless if "$s" not in str(p)]
    when = [p for p in when]
    # a `$s` bound in a finding or scar pattern can be used by a derived finding
    then = [
        {"assert": {"finding": {**a["assert"]["finding"], "site": "$s"}}} if bound and "assert" in a and i % 2 else a
        for a in then
    ]
    return {"id": f"r{i}", "title": f"rule {i}", "salience": salience, "when": when, "unless": unless,
            "then": then, "sources": ["src.txt"]}  # fmt: skip


rule_sets = st.lists(
    st.tuples(
        st.lists(pattern, max_size=3),
        st.lists(pattern, max_size=2),  # `unless`: one NOT per pattern
        st.lists(action, min_size=1, max_size=2),
        st.sampled_from([-5, 0, 0, 5, 10]),
    ),
    min_size=1,
    max_size=8,
)
patients = st.fixed_dictionaries(
    {
        "patient": st.fixed_dictionaries(
            {},
            optional={
                "age": st.one_of(st.none(), st.integers(10, 70)),
                "level": st.integers(1, 6),
                "pregnant": st.booleans(),
                "conditions": st.lists(st.sampled_from(["eczema", "rosacea"]), unique=True),
            },
        ),
        "scars": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(TYPES)},
                optional={"site": st.sampled_from(SITES), "depth": st.sampled_from(["shallow", "deep"])},
            ),
            min_size=1,
            max_size=3,
        ),
    }
)


def _firings(result):
    return [
        (f.rule, f.matched, tuple(sorted(f.bindings.items())), tuple((a.kind, a.treatment, a.fact) for a in f.actions))
        for f in result.consultation.firings
    ]


@settings(
    max_examples=int(__import__("os").environ.get("CICATRIX_DIFF_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(specs=rule_sets, people=st.lists(patients, min_size=1, max_size=4))
def test_incremental_matcher_fires_exactly_like_the_stock_one(tmp_path_factory, specs, people):
    rules = [_rule(i, *spec) for i, spec in enumerate(specs)]
    root = tmp_path_factory.mktemp("kb")
    (root / "rules").mkdir()
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(TEMPLATES)
    (root / "treatments.yaml").write_text(TREATMENTS)
    (root / "rules" / "r.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    kb = load(root)
    stock = Session(compile_kb(kb), matcher="stock")
    incremental = Session(compile_kb(kb), matcher="incremental")
    assert isinstance(incremental.engine.matcher, IncrementalReteMatcher)
    for person in people:  # the same sessions, reset between patients
        patient = from_data(person, kb)
        a, b = plan(stock, patient), plan(incremental, patient)
        assert _firings(a) == _firings(b)
        assert to_dict(a) == to_dict(b)


def test_bundled_kb_and_examples_agree_under_both_matchers(kb):
    stock = Session(compile_kb(kb), matcher="stock")
    incremental = Session(compile_kb(kb), matcher="incremental")
    for path in ALL_EXAMPLES:
        patient = read(path, kb)
        a, b = plan(stock, patient), plan(incremental, patient)
        assert _firings(a) == _firings(b), path.name
        assert to_dict(a) == to_dict(b), path.name


def test_what_a_join_holds_compares_as_experta_token_infos_would():
    # A join takes a token back out of its memory by equality: equal facts and
    # equal contexts, whether or not they are the very same objects.
    import pytest

    from cicatrix.engine.compile.compat import Fact
    from cicatrix.engine.match.matcher import _Held

    a, b = Fact(x=1), Fact(x=2)
    held = _Held({a}, {"v_x": 1, "f_0": a}, True)
    assert held == _Held({Fact(x=1)}, {"f_0": Fact(x=1), "v_x": 1}, True)
    assert held == _Held(frozenset({a}), {"v_x": 1, "f_0": a}, True)
    assert held != _Held({b}, {"v_x": 1, "f_0": a}, True)
    assert held != _Held({a}, {"v_x": 2, "f_0": a}, True)
    assert held != ({a}, {"v_x": 1, "f_0": a})
    held_list = [_Held({b}, {"v_x": 2}, True), held]
    held_list.remove(_Held({a}, {"v_x": 1, "f_0": a}, True))
    assert held_list == [_Held({b}, {"v_x": 2}, True)]
    with pytest.raises(TypeError):
        hash(held)  # kept in lists only


def test_activations_of_one_node_are_equal_by_facts_and_bindings_and_do_not_collide():
    # A rule can match the same facts many ways (patterns of one template swapping
    # facts); a node's sets hold thousands of such activations, which must neither
    # be taken for one another nor share a hash (a set of them would go quadratic).
    from itertools import permutations

    from cicatrix.engine.compile.compat import Fact
    from cicatrix.engine.match.matcher import _NodeActivation

    facts = [Fact(x=i) for i in range(6)]
    data = frozenset(facts)

    def made(order, share=True):
        context = {f"f_{i}": f for i, f in enumerate(order)}
        return _NodeActivation("rule", data, context, frozenset(context.items()) if share else None)

    ways = [made(p) for p in permutations(facts)]
    assert len({hash(a) for a in ways}) == len(ways) == 720
    assert len(set(ways)) == 720
    again = made(tuple(facts), share=False)  # the same match, its frozenset not handed over
    assert again == ways[0] and hash(again) == hash(ways[0]) and again in set(ways)
