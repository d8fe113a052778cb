"""The knowledge base's own test cases (kb/tests/*.yaml), one pytest test each; the
coverage rule (every rule of the bundled knowledge base is fired by some case); and
the case runner itself: unique ids, no vacuous expectations, every unmet
expectation reported."""

from __future__ import annotations

import shutil

import pytest

from cicatrix.engine.authoring.cases import check, load_cases, run_case
from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.resolver import plan

from ...conftest import EXAMPLES, REPO

KB = load()
CASES = load_cases(KB)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(session, case):
    outcome = run_case(session, case)
    assert outcome.passed, f"{case.where}: {case.id}\n  " + "\n  ".join(outcome.failures)


def test_case_ids_are_unique_and_every_vignette_is_a_case():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    # the design card's 24 vignettes, each once, numbered V01..V24
    vignettes = [i.split("-")[0] for i in ids if i.startswith("V")]
    assert sorted(vignettes) == [f"V{n:02d}" for n in range(1, 25)]


def test_every_rule_is_fired_by_some_case(session):
    fired: set[str] = set()
    for case in CASES:
        fired.update(run_case(session, case).fired)
    never = [r.id for r in KB.rules if r.id not in fired]
    assert not never, "rules no test case fires: " + ", ".join(never)


def kb_with_cases(tmp_path, text: str):
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    (copy / "tests" / "zz-extra.yaml").write_text(text)
    return load(copy)


def test_a_duplicate_case_id_is_rejected(tmp_path):
    kb = kb_with_cases(
        tmp_path,
        "cases:\n  - id: E01-narrow-boxcar-tca-cross\n    patient: {scars: [{type: boxcar}]}\n"
        "    expect: {recommend: [tca_cross]}\n",
    )
    with pytest.raises(CicatrixError) as info:
        load_cases(kb)
    text = info.value.render()
    assert "kb/tests/zz-extra.yaml:2:" in text and "duplicate case id (first at kb/tests/edge-cases.yaml:" in text


def test_an_unknown_expected_id_is_rejected_not_passed(tmp_path):
    # a typo would otherwise make "not_recommend" pass whatever the plan
    kb = kb_with_cases(
        tmp_path,
        "cases:\n  - id: X1\n    patient: {scars: [{type: boxcar}]}\n"
        "    expect: {not_recommend: [tca_cros], routine: {nights: {retinod: 3}}}\n",
    )
    with pytest.raises(CicatrixError) as info:
        load_cases(kb)
    text = info.value.render()
    assert "unknown treatment id 'tca_cros'; did you mean 'tca_cross'" in text
    assert "unknown treatment id 'retinod'; did you mean 'retinoid'" in text


@pytest.fixture(scope="module")
def mixed(kb, session):
    return plan(session, read(EXAMPLES / "mixed-facial-scars.yaml", kb))


def test_met_expectations_report_nothing(mixed):
    expect = {
        "recommend": ["tca_cross", "tca_cross+microneedling"],
        "recommend_any": [["punch_excision", "tca_cross"]],
        "not_recommend": ["punch_excision"],
        "avoid": ["lemon_juice"],
        "not_avoid": ["tca_cross"],
        "first": "tca_cross",
        "choice": {"ice_pick": "tca_cross", "rolling/face": "subcision", "boxcar": "rf_microneedling"},
        "alternatives": {"rolling": ["rf_microneedling"]},
        "course_order": ["tca_cross", "rf_microneedling"],
        "not_in_course": ["punch_excision"],
        "routine": {"morning_last": "sunscreen", "evening_includes": ["retinoid"], "nights": {"retinoid": 3}},
    }
    assert check(mixed, expect) == []


def test_every_unmet_expectation_is_reported(mixed):
    expect = {
        "recommend": ["punch_excision"],
        "recommend_any": [["punch_excision", "cryotherapy"]],
        "not_recommend": ["microneedling", "tca_cross"],
        "avoid": ["retinoid"],
        "not_avoid": ["lemon_juice"],
        "first": "subcision",
        "notes": ["no such note"],
        "cautions": {"tca_cross": "no such caution"},
        "choice": {"ice_pick": "punch_excision", "keloid": None},
        "alternatives": {"rolling": ["tca_cross"]},
        "ruled_out": {"boxcar/face": ["subcision"]},
        "course_order": ["rf_microneedling", "tca_cross", "prp"],
        "not_in_course": ["subcision"],
        "routine": {
            "morning_last": "moisturizer",
            "evening_includes": ["bha"],
            "evening_excludes": ["retinoid"],
            "nights": {"retinoid": 2},
        },
        "not_notes": ["cannot physically fill"],
        "alerts": {"isotretinoin-pregnancy": "urgent"},
        "explains": {"tca_cross": "no such words", "punch_graft": "anything"},
        "not_explains": {"tca_cross": "gold standard"},
        "not_cautions": {"retinoid": "pause it"},
    }
    failures = check(mixed, expect)
    starts = [
        "expected punch_excision to be recommended; recommended: tca_cross, ",
        "expected one of punch_excision, cryotherapy to be recommended",
        "expected microneedling not to be recommended, but it is (by ",
        "expected tca_cross not to be recommended, but it is (by ",
        "expected retinoid in the avoid list; avoided: ",
        "expected lemon_juice not to be avoided, but: ",
        "expected subcision ranked first among procedures, got tca_cross",
        "expected a note containing 'no such note'",
        "expected no note containing 'cannot physically fill', but: At-home products",
        "expected an urgent alert isotretinoin-pregnancy; alerts: none",
        "expected the explanation of tca_cross to contain 'no such words'; it says: You have deep",
        "expected the explanation of punch_graft to contain 'anything'; it says: not recommended",
        "expected the explanation of tca_cross not to contain 'gold standard'; it says: You have deep",
        "expected a caution on tca_cross containing 'no such caution'",
        "expected no caution on retinoid containing 'pause it', but: Ask your clinician",
        "expected punch_excision chosen for deep ice pick scars on the cheeks, got tca_cross: TCA CROSS: ",
        "expected a problem 'keloid'; problems: ice_pick/face, rolling/face, boxcar/face",
        "expected tca_cross among the alternatives for moderate rolling scars on the cheeks; got rf_microneedling",
        "expected subcision ruled out for shallow boxcar scars on the temples; ruled out: nothing",
        "expected prp in the course; the course holds ",
        "expected tca_cross to start no earlier than rf_microneedling (week 0 < week 16)",
        "expected subcision not in the course, but it starts at week 0",
        "expected moisturizer last in the morning; morning: [",
        "expected bha in the evening routine",
        "expected retinoid not in the evening routine",
        "expected retinoid on 2 evenings a week, got 3",
    ]
    assert len(failures) == len(starts), failures
    for failure, start in zip(failures, starts, strict=True):
        assert failure.startswith(start), (failure, start)


def test_left_out_expectations(run_cli, tmp_path, kb, session):
    from cicatrix.engine.patient.reader import from_data
    from cicatrix.engine.resolve.resolver import plan

    result = plan(session, from_data({"patient": {"downtime_days": 3}, "scars": [{"type": "rolling"}]}, kb))
    assert "subcision" in {x.id for x in result.left_out}
    assert check(result, {"left_out": ["subcision"], "not_left_out": ["lemon_juice"]}) == []
    failures = check(result, {"left_out": ["lemon_juice"], "not_left_out": ["subcision"]})
    assert failures[0].startswith("expected lemon_juice left out for a preference; left out: ")
    assert failures[1].startswith("expected subcision not to be left out, but: It needs at least")
