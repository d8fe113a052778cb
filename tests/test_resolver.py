"""Central safety: whatever the rules say, avoided treatments never reach the plan."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.routine import same_night_violations

from .helpers import consult


def test_avoid_wins_whatever_the_firing_order(make_kb):
    # The recommend rule fires first (higher salience) and is never told about the avoid.
    root = make_kb(
        """
- id: rec
  title: rec
  salience: 10
  when: []
  then:
    - recommend: alpha
      explain: first
    - recommend: beta
      explain: second
    - combine: [alpha, beta]
      rationale: together
  sources: [src.txt]
- id: no-alpha
  title: no alpha
  when: []
  then:
    - avoid: alpha
      reason: not for you
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    assert [r.id for r in result.recommendations] == ["beta"]
    assert [a.id for a in result.avoid] == ["alpha"]
    assert result.avoid[0].proposed_by == ("rec",)
    assert [d.id for d in result.dropped] == ["alpha+beta"]
    assert "alpha" in result.dropped[0].reason


def test_combination_needs_every_component_recommended(make_kb):
    root = make_kb(
        """
- id: rec
  title: rec
  when: []
  then:
    - recommend: alpha
      explain: first
    - combine: [alpha, beta]
      rationale: together
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    assert [r.id for r in result.recommendations] == ["alpha"]
    assert result.dropped[0].reason == "not recommended on their own: beta"


def test_routine_keeps_incompatible_items_apart(make_kb):
    root = make_kb(
        """
- id: care
  title: care
  when: []
  then:
    - recommend: gamma
      explain: cream
    - recommend: delta
      explain: acid
  sources: [src.txt]
"""
    )
    result, _ = consult(root, {"scars": [{"type": "boxcar"}]})
    evening = result.routine.evening
    assert sum("gamma" in ids for ids in evening.values()) == 3
    assert sum("delta" in ids for ids in evening.values()) == 2
    assert not any({"gamma", "delta"} <= set(ids) for ids in evening.values())


SCAR_TYPES = ["ice_pick", "boxcar", "rolling", "hypertrophic", "keloid", "atrophic"]
SITES = [
    "forehead",
    "temples",
    "cheeks",
    "nose",
    "chin",
    "jaw",
    "neck",
    "back",
    "chest",
    "shoulders",
]

scars = st.fixed_dictionaries(
    {"type": st.sampled_from(SCAR_TYPES)},
    optional={
        "site": st.sampled_from(SITES),
        "count": st.integers(1, 40),
        "depth": st.sampled_from(["shallow", "moderate", "deep"]),
        "width_mm": st.floats(0.2, 10, allow_nan=False),
    },
)
patients = st.fixed_dictionaries(
    {
        "patient": st.fixed_dictionaries(
            {},
            optional={
                "age": st.one_of(st.none(), st.integers(12, 90)),
                "fitzpatrick": st.one_of(st.none(), st.integers(1, 6)),
                "pregnant": st.booleans(),
                "breastfeeding": st.booleans(),
                "active_acne": st.booleans(),
                "isotretinoin_months_ago": st.one_of(st.none(), st.integers(0, 36)),
                "keloid_history": st.booleans(),
                "skin_sensitivity": st.sampled_from(["normal", "sensitive", "very_sensitive"]),
                "conditions": st.lists(
                    st.sampled_from(["eczema", "rosacea", "broken_skin", "herpes_simplex"]),
                    unique=True,
                ),
                "downtime_days": st.integers(0, 21),
                "budget": st.sampled_from(["low", "medium", "high"]),
            },
        ),
        "scars": st.lists(scars, min_size=1, max_size=4),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_plan_invariants_over_generated_patients(kb, session, data):
    result = plan(session, from_data(data, kb))
    avoided = {a.id for a in result.avoid}
    recommended = {r.id for r in result.recommendations}
    singles = {i for i in recommended if "+" not in i}
    p = result.patient["patient"]
    for r in result.recommendations:
        # nothing avoided is recommended, alone or inside a combination
        assert not ({r.id, *r.components} & avoided)
        if r.kind == "combination":
            assert set(r.components) <= recommended
        # every recommendation is explained, attributed and sourced
        assert r.explanation.strip()
        assert r.rules
        assert r.sources
        # nothing needs more downtime than the person accepts
        for part in r.components or (r.id,):
            assert kb.treatments[part].downtime_min <= p["downtime_days"]
    if p["pregnant"] or p["breastfeeding"]:
        assert "retinoid" not in recommended
    if p["skin_sensitivity"] == "very_sensitive" or {"eczema", "rosacea", "broken_skin"} & set(p["conditions"]):
        assert not ({"aha", "bha"} & recommended)
    if p["active_acne"]:
        assert "treat_active_acne" in recommended
        assert not any("defer_with_active_acne" in kb.treatments[i].tags for i in singles)
    if p["pregnant"]:
        assert not any("defer_in_pregnancy" in kb.treatments[i].tags for i in singles)
    for never in ("lemon_juice", "baking_soda"):
        assert never in avoided
    assert "sunscreen" in recommended
    assert result.routine.morning[-1] == "sunscreen"
    assert same_night_violations(result.routine, kb.treatments) == []
    assert result.disclaimer
