"""benchmarks/shapes.py and benchmarks/clips_fair.py: the rule shapes compared with CLIPS.

Every shape, at a few rules, must load as a cicatrix knowledge base and fire, for
every patient, exactly the activations a brute-force reading of the same neutral
rules predicts (a third implementation, so CI checks the shapes without CLIPS).
Where clipspy is installed (``pip install -e '.[bench]'``; CI installs only
``.[dev]``), CLIPS must fire the same activations, and the benchmark must refuse
to time engines that disagree.
"""

from __future__ import annotations

import operator
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.session.session import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import clips_fair
import shapes
from shapes import SHAPES, Activation, Pattern, Shape, Var

OPS = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}
Fact = tuple[str, dict[str, Any]]


def _bind(pattern: Pattern, fact: Fact, bindings: Mapping[str, Any]) -> dict[str, Any] | None:
    template, values = fact
    if template != pattern.template:
        return None
    out = dict(bindings)
    for name, constraint in pattern.fields.items():
        value = values.get(name)
        if isinstance(constraint, Var):
            if constraint.name in out and out[constraint.name] != value:
                return None
            out[constraint.name] = value
        elif isinstance(constraint, tuple):
            if value is None or not all(OPS[c.op](value, c.value) for c in constraint):
                return None
        elif type(value) is not type(constraint) or value != constraint:
            return None
    return out


def _matches(
    patterns: Sequence[Pattern], facts: Sequence[Fact], bindings: Mapping[str, Any]
) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    if not patterns:
        yield (), dict(bindings)
        return
    for i, fact in enumerate(facts):
        bound = _bind(patterns[0], fact, bindings)
        if bound is not None:
            for rest, final in _matches(patterns[1:], facts, bound):
                yield (i, *rest), final


def reference_activations(shape: Shape, n: int, patient: Mapping[str, Any]) -> Counter[Activation]:
    """Every (rule, matched facts) by brute force, to a fixpoint. Negations read input
    facts only and nothing is retracted, so the order rules fire in does not matter."""
    facts: list[Fact] = list(shape_facts(shape, n, patient))
    rules = shape.rules(n)
    fired: set[tuple[str, tuple[int, ...]]] = set()
    changed = True
    while changed:
        changed = False
        for rule in rules:
            for idxs, bindings in list(_matches(rule.when, facts, {})):
                if (rule.id, idxs) in fired or any(
                    next(_matches((u,), facts, bindings), None) is not None for u in rule.unless
                ):
                    continue
                fired.add((rule.id, idxs))
                changed = True
                if rule.asserts is not None:
                    fields = rule.asserts.fields.items()
                    new: Fact = (
                        rule.asserts.template,
                        {k: bindings[v.name] if isinstance(v, Var) else v for k, v in fields},
                    )
                else:
                    new = ("recommend", {"treatment": rule.recommend})
                if new not in facts:  # an identical derived fact is kept once, by both engines
                    facts.append(new)
    slots = shapes.slots_by_template(shape, n)
    canon = [shapes.canonical_fact(t, v, slots[t]) for t, v in facts]
    return Counter((rule, tuple(canon[i] for i in idxs)) for rule, idxs in fired)


def shape_facts(shape: Shape, n: int, patient: Mapping[str, Any]) -> list[Fact]:
    return [(t, dict(v)) for t, v in shapes.patient_facts(shape, n, patient)]


@pytest.fixture(scope="module", params=[(5, 3), (40, 10)], ids=["5-rules", "40-rules"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param


@pytest.mark.parametrize("name", list(SHAPES))
def test_cicatrix_fires_what_the_rules_say(name: str, size: tuple[int, int], tmp_path: Path) -> None:
    n, count = size
    shape = SHAPES[name]
    kb = load(shapes.write_kb(shape, tmp_path / "kb", n))
    assert len(kb.rules) == n
    session = Session(compile_kb(kb))
    slots = shapes.slots_by_template(shape, n)
    total = 0
    for i, patient in enumerate(shape.patients(n, count, 7)):
        consultation = session.consult(from_data(patient, kb))
        ours = shapes.cicatrix_activations(consultation, slots)
        expected = reference_activations(shape, n, patient)
        assert not shapes.diff_activations(name, n, i, ours, expected)
        assert len(consultation.firings) == sum(expected.values())
        total += len(consultation.firings)
    assert total > 0, "a shape whose rules never fire measures nothing"


def test_a_difference_is_spelled_out() -> None:
    fact = ("obs", "k0", "low", 1, True)
    text = shapes.diff_activations("literals", 5, 2, Counter({("r0", (fact,)): 1}), Counter())
    assert "patient 2" in text and "cicatrix only: r0" in text
    assert shapes.diff_activations("literals", 5, 2, Counter(), Counter()) == ""


def test_both_rule_languages_say_the_same() -> None:
    rule = SHAPES["ranges"].rules(6)[1]
    assert shapes.yaml_rule(rule)["when"][1] == {"person": {"age": {"gte": 19, "lte": 61}, "level": {"gt": 1}}}
    assert "(person (age ?N1&:(>= ?N1 19)&:(<= ?N1 61)) (level ?N2&:(> ?N2 1)))" in shapes.clips_rule(rule)
    assert "(not (mark (zone ?z)))" in shapes.clips_rule(SHAPES["negation"].rules(4)[0])


# --- against CLIPS, where clipspy is installed --------------------------------------------


@pytest.mark.parametrize("name", list(SHAPES))
def test_clips_fires_the_same(name: str) -> None:
    pytest.importorskip("clips")
    n, shape = 5, SHAPES[name]
    env, fired = clips_fair._clips_check_env(name, n)
    for patient in shape.patients(n, 3, 7):
        fired.clear()
        env.reset()
        for fact in shapes.clips_facts(shape, n, patient):
            env.assert_string(fact)
        assert env.run() == len(fired)
        assert Counter(fired) == reference_activations(shape, n, patient)


def test_measure_times_engines_that_agree() -> None:
    pytest.importorskip("clips")
    row = clips_fair.measure("chains", 10, 3, 1, "string", router_on=False)
    assert row["firings"] > 0 and row["cicatrix_ms"] > 0 and row["clips_ms"] > 0
    row = clips_fair.measure("joins", 10, 3, 1, "fact", router_on=False)
    assert row["ratio"] > 0


def test_measure_refuses_engines_that_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("clips")
    program = shapes.clips_program

    def without_rules(shape: Shape, n: int, record: bool = False) -> list[str]:
        return [c for c in program(shape, n, record) if not c.startswith("(defrule")]

    monkeypatch.setattr(clips_fair, "clips_program", without_rules)
    with pytest.raises(clips_fair.FiringMismatch, match="cicatrix only"):
        clips_fair.measure("literals", 5, 3, 1, "string", router_on=False)
