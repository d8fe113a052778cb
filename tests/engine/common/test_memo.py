"""Values derived once per object, kept by identity and never served for another object."""

from __future__ import annotations

from cicatrix.engine.common import memo


class Unhashable:
    __hash__ = None  # type: ignore[assignment]  # like a knowledge base, which holds dicts

    def __init__(self, n: int):
        self.n = n


def test_a_value_is_made_once_per_object_and_derivation():
    made = []

    def double(obj: Unhashable) -> int:
        made.append(obj.n)
        return obj.n * 2

    def triple(obj: Unhashable) -> int:
        return obj.n * 3

    a, b = Unhashable(1), Unhashable(5)
    assert memo.derived(a, double) == 2 and memo.derived(a, double) == 2 and memo.derived(b, double) == 10
    assert made == [1, 5]
    assert memo.derived(a, triple) == 3  # another derivation of the same object is its own


def test_another_object_never_gets_a_value_made_for_one_that_is_gone(monkeypatch):
    first = Unhashable(1)
    assert memo.derived(first, lambda o: o.n) == 1
    key = next(k for k in memo._HELD if k[0] == id(first))
    memo._HELD[key] = (Unhashable(99), "stale")  # as if Python had reused the id for another object
    assert memo.derived(first, key[1]) == 1


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(memo, "LIMIT", 3)
    monkeypatch.setattr(memo, "_HELD", {})
    kept = [Unhashable(i) for i in range(10)]
    for obj in kept:
        assert memo.derived(obj, lambda o: o.n) == obj.n
        assert len(memo._HELD) <= 3
