"""The order of a plan's recommendations: each sorting key decides when the ones
before it tie, and the order is total (the input order never matters)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from cicatrix.engine.resolve.rank import ranked
from cicatrix.engine.resolve.result import Recommendation

# Only the catalogue position of each treatment is read.
KB = SimpleNamespace(treatments={tid: SimpleNamespace(order=i) for i, tid in enumerate("abcdefgh")})


def rec(
    tid: str,
    kind: str = "procedure",
    tier: str = "first_line",
    rules: tuple[str, ...] = ("r",),
    cautions: tuple[str, ...] = (),
    components: tuple[str, ...] = (),
) -> Recommendation:
    return Recommendation(
        id=tid,
        title=tid,
        kind=kind,
        targets=(),
        rank=0,
        tier=tier,
        explanation="",
        rules=rules,
        sources=(),
        citations=(),
        cautions=cautions,
        components=components,
    )


def order(*recs: Recommendation, problems=(), risky=()) -> list[str]:
    return [r.id for r in ranked(recs, KB, problems, risky)]


def problem(choice: str | None, *alternatives: str) -> SimpleNamespace:
    return SimpleNamespace(choice=choice, alternatives=alternatives)


def test_ranks_are_numbered_from_one_in_order():
    result = ranked([rec("b"), rec("a")], KB)
    assert [(r.id, r.rank) for r in result] == [("a", 1), ("b", 2)]
    assert ranked([], KB) == ()


def test_sections_come_first():
    recs = [rec("a", "lifestyle"), rec("b", "home_care"), rec("c", "procedure"), rec("d", "prerequisite")]
    assert order(*recs) == ["d", "c", "b", "a"]
    # procedures and combinations share a section: a second-line combination follows first-line procedures
    combo = rec("a+b", "combination", tier="second_line", components=("a", "b"))
    assert order(combo, rec("h"), rec("g", "home_care")) == ["h", "a+b", "g"]


def test_tier_within_a_section():
    assert order(rec("a", tier="adjunct"), rec("b", tier="second_line"), rec("c")) == ["c", "b", "a"]


def test_only_a_risk_for_this_person_ranks_an_option_after_safer_ones_of_its_tier():
    # a caution that only informs never demotes an option
    assert order(rec("a", cautions=("bring a hat",)), rec("b")) == ["a", "b"]
    assert order(rec("a", cautions=("careful",)), rec("b"), risky={"a"}) == ["b", "a"]
    assert order(rec("a", cautions=("careful",)), rec("b", tier="second_line"), risky={"a"}) == ["a", "b"]
    # a risk of one component demotes the combination
    combo = rec("a+c", "combination", components=("a", "c"))
    assert order(combo, rec("b"), risky={"c"}) == ["b", "a+c"]


def test_the_plan_decides_first_choices_then_alternatives():
    recs = [rec("a"), rec("b", tier="second_line"), rec("c"), rec("d", tier="adjunct")]
    # problem 1 (most severe) chose d, problem 2 chose b with c as an alternative
    plan = (problem("d"), problem("b", "c"))
    assert order(*recs, problems=plan) == ["d", "b", "c", "a"]
    # an option chosen for one problem keeps its place even if another lists it as an alternative
    assert order(*recs, problems=(problem("a", "b"), problem("b"))) == ["a", "b", "c", "d"]
    # sections still come first: a chosen procedure never precedes a prerequisite
    assert order(rec("g", "prerequisite"), *recs, problems=plan)[0] == "g"


def test_combinations_before_single_treatments():
    assert order(rec("a"), rec("c+d", "combination", components=("c", "d"))) == ["c+d", "a"]


def test_more_supporting_rules_first():
    assert order(rec("a", rules=("r1",)), rec("b", rules=("r1", "r2"))) == ["b", "a"]


def test_catalogue_order_then_id():
    assert order(rec("h"), rec("a")) == ["a", "h"]
    # a combination sits at the catalogue position of its earliest component
    combos = [rec("h+a", "combination", components=("h", "a")), rec("c+b", "combination", components=("c", "b"))]
    assert order(*combos) == ["h+a", "c+b"]
    # equal on every key but the id
    twins = [rec("b+x", "combination", components=("b",)), rec("b+a", "combination", components=("b",))]
    assert order(*twins) == ["b+a", "b+x"]


def test_the_order_does_not_depend_on_the_input_order():
    recs = [
        rec("a", cautions=("careful",)),  # a risk for this person (below)
        rec("b", rules=("r1", "r2")),
        rec("c", tier="second_line"),
        rec("d", "home_care"),
        rec("e+f", "combination", components=("e", "f")),
        rec("g", "prerequisite"),
        rec("h"),
    ]
    expected = order(*recs, risky={"a"})
    assert expected == ["g", "e+f", "b", "h", "a", "c", "d"]
    shuffler = random.Random(0)
    for _ in range(200):
        shuffler.shuffle(recs)
        assert order(*recs, risky={"a"}) == expected
