"""Differential tests of the alpha indexes and the linear-time builder.

The incremental matcher finds the alpha tests a fact passes by looking its value
up (literals of any type, the compiler's equal-to, any-of and contains checks)
or by bisecting sorted bounds (numeric comparisons and ranges), and hands the
token on without testing each child. An index that is off by one bound, that
takes ``True`` for ``1`` or NaN for anything, fires a rule experta would not. So
random rules over values chosen to be awkward (booleans beside integers, 1.0
beside 1, -0.0, infinity, NaN, null, strings of digits, lists holding any of
them) run through both matchers with the index on from the first child, and
everything they fire, in order, and the agenda after every step must agree.

The builder is checked apart: for the same prepared rules it must wire the very
network experta's own builder wires, node for node and port for port.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cicatrix.engine.compile.compat import (
    MATCH,
    NOT,
    BusNode,
    Fact,
    FactCapture,
    KnowledgeEngine,
    L,
    P,
    ReteMatcher,
    TypeCheck,
)
from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.constraints import predicate
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import Test as Constraint
from cicatrix.engine.match import matcher
from cicatrix.engine.match.matcher import IncrementalReteMatcher, _Ranges, _walk
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session

from ...conftest import MANIFEST, TEMPLATES, TREATMENTS
from .test_matcher import _firings
from .test_matcher_conditional_elements import BROKEN, FINALE, RULES, _build, _namespace, _outcome

EXAMPLES = int(os.environ.get("CICATRIX_DIFF_EXAMPLES", "300"))


class A(Fact):
    pass


class B(Fact):
    pass


NAN = float("nan")  # one object, as a value read once would be
# Values side by side that a careless index would confuse.
SCALAR = st.one_of(
    st.booleans(),
    st.integers(-1, 2),
    st.sampled_from([0.5, 1.0, -0.0, 2.5, float("inf"), NAN]),
    st.sampled_from(["a", "1"]),
    st.none(),
)
NUMBER = st.one_of(st.integers(-1, 2), st.sampled_from([0.5, 1.0, -0.0, 2.5, float("inf"), float("-inf"), NAN]))
ITEMS = st.lists(SCALAR, max_size=3).map(tuple)  # experta freezes lists into tuples
COMPARE = st.sampled_from(["lt", "lte", "gt", "gte"])


def _checked(op: str, value: Any) -> Any:
    return P(predicate(Constraint(op, value)))


def _range(*bounds: tuple[str, Any]) -> Any:
    first, *others = bounds
    out = _checked(*first)
    for other in others:
        out = out & _checked(*other)
    return out


SCALAR_TEST = st.one_of(
    st.builds(L, SCALAR),  # experta's own literal equality
    st.builds(lambda v: _checked("eq", v), SCALAR),
    st.builds(lambda vs: _checked("any", tuple(vs)), st.lists(SCALAR, min_size=1, max_size=3)),
    st.builds(lambda vs: _checked("not", tuple(vs)), st.lists(SCALAR, min_size=1, max_size=2)),
    st.builds(_checked, COMPARE, NUMBER),
    st.builds(_checked, COMPARE, st.booleans()),  # a boolean bound: left to each child's own test
    st.builds(_range, st.tuples(st.sampled_from(["gt", "gte"]), NUMBER), st.tuples(st.sampled_from(["lt", "lte"]),
                                                                                  NUMBER)),
    st.builds(lambda bounds: _range(*bounds), st.lists(st.tuples(COMPARE, st.integers(-1, 2)), min_size=2, max_size=3)),
    st.builds(lambda v: _checked("gte", v) & MATCH.x, NUMBER),  # a test that binds: never indexed
    st.just(MATCH.x),
)  # fmt: skip
LIST_TEST = st.one_of(
    st.builds(lambda v: _checked("contains", v), SCALAR),
    st.builds(L, ITEMS),
    st.just(MATCH.y),
)
PATTERN = st.one_of(
    st.builds(lambda n: A(n=n), SCALAR_TEST),
    st.builds(lambda t: A(t=t), LIST_TEST),
    st.builds(lambda n, t: A(n=n, t=t), SCALAR_TEST, LIST_TEST),
    st.builds(lambda n: B(n=n), SCALAR_TEST),
)
LHS = st.one_of(
    st.builds(lambda p: [p], PATTERN),
    st.builds(lambda p: [p], PATTERN),
    st.builds(lambda p, q: [p, q], PATTERN, PATTERN),
    st.builds(lambda p, q: [p, NOT(q)], PATTERN, PATTERN),
)
INDEXED_RULES = st.lists(
    st.tuples(LHS, st.sampled_from([0, 0, 5]), st.sampled_from([None, None, "x"])), min_size=3, max_size=14
)
FACT = st.one_of(
    st.tuples(st.just(A), st.fixed_dictionaries({"n": SCALAR}, optional={"t": ITEMS})),
    st.tuples(st.just(A), st.fixed_dictionaries({"t": ITEMS}, optional={"n": SCALAR})),
    st.tuples(st.just(A), st.fixed_dictionaries({})),
    st.tuples(st.just(B), st.fixed_dictionaries({"n": SCALAR})),
)
STEP = st.one_of(
    st.builds(lambda fact: ("declare", *fact), FACT),
    st.builds(lambda fact: ("declare", *fact), FACT),
    st.builds(lambda fact: ("declare", *fact), FACT),
    st.tuples(st.just("retract"), st.integers(0, 20)),
    st.tuples(st.just("modify"), st.integers(0, 20), st.just("n"), SCALAR),
    st.tuples(st.just("modify"), st.integers(0, 20), st.just("t"), ITEMS),
    st.tuples(st.just("run")),
    st.tuples(st.just("reset")),
)


# After the random steps, a reset and facts of every awkward value, which most random rules can use.
AWKWARD = [0, 1, True, False, 1.0, -0.0, 2.5, "1", None, NAN, float("inf")]
ALL_VALUES = [
    ("reset",),
    *[("declare", A, {"n": v, "t": (v, 1)}) for v in AWKWARD],
    *[("declare", B, {"n": v}) for v in (1, True, 0.5)],
    ("run",),
]


def _same_run(stock: Any, incremental: Any, steps: list[tuple[Any, ...]]) -> None:
    for engine in (stock, incremental):
        engine.reset()
    for step in [*steps, ("run",), ("reset",), *steps, ("run",), *FINALE, *ALL_VALUES]:
        outcome = _outcome(stock, step)
        assert _outcome(incremental, step) == outcome, step
        assert stock.fired == incremental.fired, step
        if outcome[0] == "raised":  # pragma: no cover - these rules raise nowhere
            return
        assert stock.agenda_now() == incremental.agenda_now(), step


@settings(max_examples=EXAMPLES, deadline=None)
@given(rules=INDEXED_RULES, steps=st.lists(STEP, min_size=3, max_size=16), index_from=st.sampled_from([1, 2, 3]))
def test_indexed_tests_fire_exactly_like_the_stock_matcher(rules, steps, index_from):
    built = _build(rules, index_from)
    assert built is not None  # every rule here is one experta builds
    stock, incremental = built
    for kind in sorted({i[0] for n in _walk(incremental.matcher.root_node) for i in getattr(n, "cx_indexes", ())}):
        event(f"indexed: {kind}")
    _same_run(stock, incremental, steps)
    event(f"fired {min(len(stock.fired), 10)}")


def test_awkward_values_reach_exactly_their_children():
    """Spelled out: each value meets lookalikes it must not be taken for."""
    tests = [
        _checked("eq", 1),
        _checked("eq", True),
        _checked("eq", 1.0),
        _checked("eq", "1"),
        _checked("eq", None),
        _checked("any", (0, False)),
        _checked("contains", 1),
        _checked("contains", True),
        _checked("gte", 1),
        _checked("gt", 1),
        _checked("lt", 1.0),
        _range(("gte", -0.0), ("lte", 0)),
        _range(("gt", 2), ("lt", 1)),  # empty: holds for nothing
        *[_range((a, 1), (b, 1)) for a in ("gt", "gte", "lt", "lte") for b in ("gt", "gte", "lt", "lte") if a != b],
        _range(("gte", 0), ("gt", 0.5), ("lte", 2)),
        L(1),
        L(True),
        L(NAN),
    ]
    rules = [([A(n=t)], 0, None) for t in tests] + [([A(t=t)], 0, None) for t in tests[6:8]]
    values = [1, True, 1.0, 0, -0.0, False, "1", None, NAN, 2, 0.5, 0.75, float("inf"), (1,), (True, 1), (NAN,)]
    steps = [("declare", A, {"n": v}) for v in values] + [("declare", A, {"t": v}) for v in values[-3:]]
    stock, incremental = _build(rules, 1)
    kinds = {i[0] for n in _walk(incremental.matcher.root_node) for i in getattr(n, "cx_indexes", ())}
    assert kinds == {"literal", "same", "contains", "range"}
    _same_run(stock, incremental, [*steps, ("run",)])
    assert len(stock.fired) > len(values)


def test_ranges_nested_too_deep_are_left_to_their_own_tests(monkeypatch):
    """Cells for 60 nested ranges would hold 60 x 120 entries: past the limit, each range tests itself."""
    monkeypatch.setattr(matcher, "RANGE_CELLS", 0)  # the limit is then 1,024 entries
    rules = [([A(n=_range(("gte", i), ("lte", 120 - i)))], 0, None) for i in range(60)]
    rules += [([A(n=_checked("lt", i))], 0, None) for i in range(5)]
    stock, incremental = _build(rules, 3)
    assert not [i for n in _walk(incremental.matcher.root_node) for i in getattr(n, "cx_indexes", ())]
    steps = [("declare", A, {"n": v}) for v in (-1, 0, 1, 30.5, 60, 61, 120, 121, NAN, None, True)]
    _same_run(stock, incremental, [*steps, ("run",)])


# -- the project's own rules, with many tests of one field ----------------------------

LEVEL = st.one_of(
    st.integers(1, 6),
    st.builds(lambda op, v: {op: v}, COMPARE, st.integers(1, 6)),
    st.builds(lambda a, b: {"gte": a, "lt": b}, st.integers(1, 6), st.integers(1, 7)),
    st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True),
    st.builds(lambda v: {"not": v}, st.integers(1, 6)),
)
TOLERANCE = st.one_of(
    st.builds(lambda op, v: {op: v}, COMPARE, st.sampled_from([0, 0.5, 2, 2.5, 7, 7.5])),
    st.builds(lambda a, b: {"gt": a, "lte": b}, st.sampled_from([0, 1.5, 3]), st.sampled_from([2, 7, 9.5])),
    st.sampled_from([0, 2.5, 7]),
)
AGE = st.one_of(
    st.builds(lambda op, v: {op: v}, COMPARE, st.integers(10, 60)),
    st.builds(lambda a, b: {"gte": a, "lte": b}, st.integers(10, 40), st.integers(20, 70)),
)
PATIENT_PATTERN = st.fixed_dictionaries(
    {},
    optional={
        "level": LEVEL,
        "tolerance": TOLERANCE,
        "age": AGE,
        "pregnant": st.booleans(),
        "conditions": st.builds(lambda v: {"contains": v}, st.sampled_from(["eczema", "rosacea"])),
    },
)
PROJECT_RULES = st.lists(
    st.tuples(PATIENT_PATTERN, st.sampled_from(["alpha", "beta", "gamma"]), st.sampled_from([0, 5])),
    min_size=3,
    max_size=16,
)
PATIENTS = st.lists(
    st.fixed_dictionaries(
        {"scars": st.just([{"type": "boxcar"}])},
        optional={
            "patient": st.fixed_dictionaries(
                {},
                optional={
                    "age": st.one_of(st.none(), st.integers(10, 70)),
                    "level": st.integers(1, 6),
                    "pregnant": st.booleans(),
                    "tolerance": st.one_of(st.integers(0, 9), st.sampled_from([0.5, 2.5, 7.0, 7.5, 9.5])),
                    "conditions": st.lists(st.sampled_from(["eczema", "rosacea"]), unique=True),
                },
            )
        },
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=int(os.environ.get("CICATRIX_DIFF_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(specs=PROJECT_RULES, people=PATIENTS, index_from=st.sampled_from([1, 3]))
def test_compiled_numeric_boolean_and_list_tests_fire_like_the_stock_matcher(
    tmp_path_factory, monkeypatch, specs, people, index_from
):
    rules = [
        {"id": f"r{i}", "title": f"rule {i}", "salience": salience, "when": [{"patient": tests}],
         "then": [{"recommend": treatment, "explain": "because"}], "sources": ["src.txt"]}
        for i, (tests, treatment, salience) in enumerate(specs)
    ]  # fmt: skip
    root = tmp_path_factory.mktemp("kb")
    (root / "rules").mkdir()
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(TEMPLATES)
    (root / "treatments.yaml").write_text(TREATMENTS)
    (root / "rules" / "r.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    kb = load(root)
    monkeypatch.setattr(matcher, "INDEX_THRESHOLD", index_from)
    stock = Session(compile_kb(kb), matcher="stock")
    incremental = Session(compile_kb(kb), matcher="incremental")
    for person in people:
        patient = from_data(person, kb)
        a, b = plan(stock, patient), plan(incremental, patient)
        assert _firings(a) == _firings(b)
        assert to_dict(a) == to_dict(b)


# -- the range index on its own -------------------------------------------------------

BOUND = st.one_of(st.none(), st.tuples(st.sampled_from([-1, 0, 0.5, 1, 2, 2.0, 3]), st.booleans()))


@given(
    intervals=st.lists(st.tuples(BOUND, BOUND), max_size=8),
    values=st.lists(st.one_of(NUMBER, st.booleans(), st.none(), st.just("1")), max_size=10),
)
def test_ranges_find_exactly_the_intervals_holding_a_value(intervals, values):
    spans = [
        (i, (lo[0] if lo else None, lo[1] if lo else True, hi[0] if hi else None, hi[1] if hi else True))
        for i, (lo, hi) in enumerate(intervals)
    ]
    ranges = _Ranges(spans)

    def holds(value: Any, span: tuple[Any, bool, Any, bool]) -> bool:
        lo, lo_closed, hi, hi_closed = span
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return False
        above = lo is None or (value >= lo if lo_closed else value > lo)
        below = hi is None or (value <= hi if hi_closed else value < hi)
        return above and below

    for value in values:
        assert sorted(ranges.cell(value)) == [i for i, span in spans if holds(value, span)]


# -- the builder ----------------------------------------------------------------------


def _network(root: Any) -> list[tuple[Any, ...]]:
    """The network as a list: per node in walk order, its kind, its test and its children by position."""
    nodes = _walk(root)
    where = {id(n): i for i, n in enumerate(nodes)}
    out = []
    for node in nodes:
        check = getattr(node, "matcher", None)
        test = id(check) if check is not None and type(check).__name__ != "SameContextCheck" else None
        if isinstance(check, FactCapture) and check.bind.startswith("__pattern_"):
            test = "an unnamed pattern"  # named after the pattern's id: each build adds its own InitialFact()
        rule = id(node.rule) if hasattr(node, "rule") else None
        children = [(where[id(c.node)], c.callback.__name__) for c in node.children]
        out.append((type(node).__name__, test, rule, children))
    return out


class _NoNetwork(ReteMatcher):
    """A matcher that builds nothing: an engine to prepare rules from, whatever its rules."""

    def build_network(self) -> None:
        pass


def _built(builder: type, ruleset: set[Any]) -> list[Any] | str:
    """The network a builder wires for prepared rules, or the name of the exception it raises."""
    root = BusNode()
    try:
        builder.build_beta_part(ruleset, builder.build_alpha_part(ruleset, root))
    except Exception as exc:  # experta's builder raises whatever it hits; ours must raise the same
        return type(exc).__name__
    return _network(root)


def _both_networks(engine_class: type) -> tuple[list[Any] | str, list[Any] | str]:
    engine = type("Prepared", (engine_class,), {"__matcher__": _NoNetwork})()
    ruleset = IncrementalReteMatcher.prepare_ruleset(engine)
    return _built(ReteMatcher, ruleset), _built(IncrementalReteMatcher, ruleset)


def test_the_bundled_knowledge_base_gets_experta_s_own_network(kb):
    theirs, ours = _both_networks(compile_kb(kb).engine_class)
    assert ours == theirs
    assert sum(1 for kind, *_ in ours if kind == "ConflictSetNode") == len(kb.rules)


@settings(max_examples=int(os.environ.get("CICATRIX_DIFF_EXAMPLES", "100")), deadline=None)
@given(rules=RULES, broken=BROKEN)
def test_any_rules_get_experta_s_own_network(rules, broken):
    """OR, EXISTS, FORALL, NOT over AND, TEST...: the builder wires what experta wires,
    and fails where experta fails, with the same exception (the matcher then names the rule)."""
    if broken is not None:
        (lhs, salience, derive), *others = rules
        rules = [([*lhs, broken], salience, derive), *others]
    try:
        theirs, ours = _both_networks(type("E", (KnowledgeEngine,), _namespace(rules)))
    except Exception:  # experta's preparation itself fails: nothing of the builder to compare
        event("experta cannot prepare these rules")
        return
    event("experta cannot build these rules" if isinstance(theirs, str) else "built")
    assert ours == theirs


def test_a_class_node_with_thousands_of_children_builds_in_linear_time():
    """The class node of a template tested by every rule: experta scans its children for
    each new test (quadratic); the builder finds them in a dict."""
    namespace = _namespace([([A(n=_checked("eq", i))], 0, None) for i in range(3000)])
    engine = type("Wide", (KnowledgeEngine,), {**namespace, "__matcher__": IncrementalReteMatcher})()
    (by_class,) = [c.node for c in engine.matcher.root_node.children if c.node.cx_check == TypeCheck(A)]
    assert len(by_class.children) == 3000
