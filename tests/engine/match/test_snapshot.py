"""Restoring the state after the catalogue: the same firings, in the same order, as declaring it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from cicatrix.engine.match.snapshot import logical_ids
from cicatrix.engine.patient.reader import from_data, read
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import resolve
from cicatrix.engine.session.session import Session

from ...conftest import EXAMPLES
from ...helpers import patients


def test_logical_ids_put_the_constant_facts_back_after_the_input():
    # before: 0 initial, 1-2 input, 3-5 constant, 6.. derived; now constant 1-3, input 4-5
    order = logical_ids(constant=3, first_constant=1, inputs=2)
    assert [order(i) for i in range(8)] == [0, 3, 4, 5, 1, 2, 6, 7]
    assert logical_ids(constant=0, first_constant=1, inputs=2)(1) == 1  # no constant facts: ids as they are


@pytest.fixture(scope="module")
def pair(kb):
    """A session restoring the catalogue's snapshot, and one declaring the catalogue every time."""
    from cicatrix.engine.compile.compiler import compile_kb

    compiled = compile_kb(kb)
    fast, slow = Session(compiled), Session(compiled)
    slow._snapshots = lambda: False  # type: ignore[method-assign]
    return fast, slow


def _same(kb, fast, slow, patient) -> None:
    a, b = fast.consult(patient), slow.consult(patient)
    assert a.facts == b.facts
    assert [(f.seq, f.rule, f.matched, f.bindings) for f in a.firings] == [
        (f.seq, f.rule, f.matched, f.bindings) for f in b.firings
    ]
    assert a == b
    assert to_dict(resolve(kb, patient, a)) == to_dict(resolve(kb, patient, b))


def test_every_example_fires_alike_from_the_snapshot(kb, pair):
    fast, slow = pair
    for path in sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("*.json")):
        _same(kb, fast, slow, read(path, kb))
    assert fast._snapshot is not None and slow._snapshot is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_generated_patients_fire_alike_from_the_snapshot(kb, pair, data):
    fast, slow = pair
    _same(kb, fast, slow, from_data(data, kb))


def test_a_patient_after_another_sees_nothing_of_the_first(kb, pair):
    fast, _ = pair
    first = read(EXAMPLES / "pregnant.yaml", kb)
    second = read(EXAMPLES / "mixed-facial-scars.yaml", kb)
    alone = Session(fast.compiled).consult(second)
    fast.consult(first)
    assert fast.consult(second) == alone


def test_experta_s_own_matcher_declares_the_catalogue_each_time(kb):
    session = Session(kb, matcher="stock")
    session.consult(read(EXAMPLES / "pregnant.yaml", kb))
    assert session._snapshot is None
