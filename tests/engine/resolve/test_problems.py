"""engine/resolve/problems.py: input scars grouped into problems, one per kind
(scar type) and region, titled from their values, weighed by count and depth, and
ordered most severe first: grade, then burden, then input order, so one light
scar never leads. Small knowledge bases with their own plan.yaml isolate the
behaviour (the test files of the other plan modules build theirs from the same
parts); the bundled knowledge base shows it on real scars."""

from __future__ import annotations

from pathlib import Path

import pytest

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import InputFact, from_data
from cicatrix.engine.resolve.problems import groups, region_of, title
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.resolve.roots import roots
from cicatrix.engine.session.session import Session

from ...conftest import MANIFEST
from ...helpers import replace

# --- a small knowledge base with a plan, shared by the plan modules' tests ------------

PLAN_MANIFEST = MANIFEST + "targets: {template: scar, field: type}\n"

PLAN_TEMPLATES = """\
templates:
  patient:
    input: {key: patient}
    fields:
      pregnant: {type: boolean, default: false}
      level: {type: integer, minimum: 1, maximum: 6, default: 3}
  scar:
    input: {key: scars, many: true, min_items: 1}
    fields:
      type: {type: string, allowed: [ice_pick, boxcar, rolling], required: true, labels: {ice_pick: ice pick}}
      site: {type: string, allowed: [cheeks, forehead, nose, back, chest, arms], nullable: true, default: null,
             unknown: affected area}
      depth: {type: string, allowed: [shallow, moderate, deep], nullable: true, default: null}
      count: {type: integer, minimum: 1, default: 1}
  finding:
    fields:
      kind: {type: string, allowed: [deep, shallow, tethered], required: true}
      site: {type: string, allowed: [cheeks, forehead, nose, back, chest, arms], nullable: true, default: null}
  grade:
    fields:
      value: {type: integer, minimum: 1, maximum: 4, required: true}
"""

PLAN_PROBLEMS = """\
problems:
  title: "{depth} {type} scars on the {site}"
  region:
    field: site
    groups:
      - {id: face, title: the face, values: [cheeks, forehead, nose, null]}
      - {id: body, title: the body, values: [back, chest]}
  burden:
    count: count
    field: depth
    weights: {shallow: 1, moderate: 2, deep: 3}
    default: 2
  grade: {template: grade, field: value}
"""

PLAN_COURSE = """\
course:
  phases:
    - {id: work, title: Work}
"""

PLAN = PLAN_PROBLEMS + PLAN_COURSE


def procedure(tid: str, kind: str = "procedure", course: str = "{phase: work, sessions: 1}", extra: str = "") -> str:
    """One catalogue entry of the small knowledge bases, titled after its id."""
    return f"""\
  {tid}:
    title: {tid.replace("_", " ").capitalize()}
    kind: {kind}
    summary: The {tid} of the tests.
    downtime: {{min: 1, max: 2}}
    course: {course}
    sources: [src.txt]
{extra}"""


PLAN_TREATMENTS = "treatments:\n" + "".join(procedure(t) for t in ("alpha", "beta", "gamma", "delta"))


def plan_kb(
    make_kb,
    rules: str,
    plan: str = PLAN,
    treatments: str = PLAN_TREATMENTS,
    templates: str = PLAN_TEMPLATES,
    name: str = "kb",
) -> Path:
    """A small knowledge base whose targets name scar types, with this plan.yaml."""
    root = make_kb(rules, templates=templates, treatments=treatments, manifest=PLAN_MANIFEST, name=name)
    (root / "plan.yaml").write_text(plan)
    return root


NOTHING = """
- id: nothing
  title: a note only
  when: []
  then: [{note: fine}]
  sources: [src.txt]
"""

GRADES = """
- id: grade-severe
  title: deep scars are severe
  when: [{scar: {depth: deep}}]
  then: [{assert: {grade: {value: 4}}}]
  sources: [src.txt]
- id: grade-moderate
  title: moderate scars are moderate
  when: [{scar: {depth: moderate}}]
  then: [{assert: {grade: {value: 3}}}]
  sources: [src.txt]
- id: grade-mild
  title: shallow scars are mild
  when: [{scar: {depth: shallow}}]
  then: [{assert: {grade: {value: 2}}}]
  sources: [src.txt]
- id: grade-from-the-person
  title: a grade that rests on no scar
  when: [{patient: {pregnant: true}}]
  then: [{assert: {grade: {value: 1}}}]
  sources: [src.txt]
"""


@pytest.fixture
def problems_of(make_kb):
    """problems_of(scars, rules=..., plan=..., patient=...) -> the plan's problems."""

    made = []

    def run(scars, rules: str = NOTHING, plan_yaml: str = PLAN, patient=None):
        made.append(1)
        kb = load(plan_kb(make_kb, rules, plan_yaml, name=f"kb{len(made)}"))
        data = {"scars": scars, **({"patient": patient} if patient else {})}
        return plan(Session(kb), from_data(data, kb)).plan.problems

    return run


def summary(problems) -> list[tuple]:
    return [(p.id, p.kind, p.region, p.items) for p in problems]


# --- grouping ---------------------------------------------------------------------


def test_scars_are_grouped_by_type_and_region(problems_of):
    found = problems_of(
        [
            {"type": "ice_pick", "site": "cheeks"},
            {"type": "boxcar", "site": "cheeks"},
            {"type": "ice_pick", "site": "forehead"},
            {"type": "ice_pick", "site": "back"},
            {"type": "ice_pick"},  # no site: the region that lists null
            {"type": "ice_pick", "site": "arms"},  # in no region
            {"type": "ice_pick", "site": "chest"},
        ]
    )
    assert summary(found) == [
        ("problem-1", "ice_pick", "face", (1, 3, 5)),  # burden 6: three scars of unknown depth
        ("problem-2", "ice_pick", "body", (4, 7)),  # burden 4
        ("problem-3", "boxcar", "face", (2,)),  # burden 2, before the next by input order
        ("problem-4", "ice_pick", "", (6,)),
    ]


def test_region_of_follows_the_plan_data(kb):
    assert region_of(kb.plan, {"site": "cheeks"}) == "face"
    assert region_of(kb.plan, {"site": None}) == "face"  # an unknown site counts as the face
    assert region_of(kb.plan, {}) == "face"
    assert region_of(kb.plan, {"site": "shoulders"}) == "body"
    assert region_of(replace_plan(kb, region_field=""), {"site": "back"}) == ""


def replace_plan(kb, **changes):

    return replace(kb.plan, **changes)


def test_without_plan_data_scars_group_by_type_alone_and_weigh_one_each(problems_of):
    found = problems_of(
        [{"type": "boxcar", "site": "back", "count": 9}, {"type": "rolling"}, {"type": "rolling", "site": "back"}],
        plan_yaml=PLAN_COURSE,
    )
    assert [(p.kind, p.region, p.items, p.burden, p.grade) for p in found] == [
        ("rolling", "", (2, 3), 2.0, None),
        ("boxcar", "", (1,), 1.0, None),
    ]
    assert [p.title for p in found] == ["rolling", "boxcar"]  # the first field's words


# --- burden, grade and order -------------------------------------------------------


def test_burden_is_count_times_the_weight_of_the_depth(problems_of):
    found = problems_of(
        [
            {"type": "ice_pick", "depth": "shallow", "count": 4},
            {"type": "ice_pick", "depth": "deep", "count": 2, "site": "back"},
            {"type": "rolling"},  # count 1 by default, unknown depth weighs the default 2
            {"type": "boxcar", "depth": "moderate", "count": 5},
            {"type": "boxcar", "depth": "deep", "count": 1},
        ]
    )
    assert {(p.kind, p.region): p.burden for p in found} == {
        ("ice_pick", "face"): 4.0,
        ("ice_pick", "body"): 6.0,
        ("rolling", "face"): 2.0,
        ("boxcar", "face"): 13.0,
    }
    assert [p.burden for p in found] == [13.0, 6.0, 4.0, 2.0]


def test_grade_comes_before_burden(problems_of):
    found = problems_of(
        [
            {"type": "rolling", "depth": "shallow", "count": 30},  # grade 2, burden 30
            {"type": "boxcar", "depth": "moderate", "count": 10},  # grade 3, burden 20
            {"type": "ice_pick", "depth": "deep", "count": 1},  # grade 4, burden 3
        ],
        rules=GRADES,
    )
    assert [(p.kind, p.grade, p.burden) for p in found] == [
        ("ice_pick", 4, 3.0),
        ("boxcar", 3, 20.0),
        ("rolling", 2, 30.0),
    ]
    assert [p.id for p in found] == ["problem-1", "problem-2", "problem-3"]  # numbered in that order


def test_equal_grades_go_by_burden_then_input_order(problems_of):
    found = problems_of(
        [
            {"type": "boxcar", "depth": "shallow", "count": 2},
            {"type": "rolling", "depth": "shallow", "count": 5},
            {"type": "ice_pick", "depth": "shallow", "count": 2},
        ],
        rules=GRADES,
    )
    assert [(p.kind, p.burden) for p in found] == [("rolling", 5.0), ("boxcar", 2.0), ("ice_pick", 2.0)]


def test_a_problem_takes_the_highest_grade_beneath_its_own_scars(problems_of):
    found = problems_of(
        [
            {"type": "ice_pick", "depth": "shallow", "site": "cheeks"},
            {"type": "ice_pick", "depth": "deep", "site": "forehead"},  # same problem: grade 4 wins
            {"type": "boxcar", "depth": "deep", "site": "back"},  # asserts grade 4 again (kept once)
            {"type": "rolling", "site": "chest"},  # no grade rule for it
        ],
        rules=GRADES,
        patient={"pregnant": True},  # grade 1, resting on no scar: it grades no problem
    )
    assert [(p.kind, p.region, p.grade) for p in found] == [
        ("ice_pick", "face", 4),
        ("boxcar", "body", 4),
        ("rolling", "body", None),
    ]


@pytest.mark.parametrize("depth", ["moderate", "deep", None])
def test_one_shallow_scar_never_leads_by_burden(problems_of, depth):
    other = {"type": "ice_pick", "site": "forehead", **({"depth": depth} if depth else {})}
    found = problems_of([{"type": "boxcar", "depth": "shallow"}, other])
    assert [p.kind for p in found] == ["ice_pick", "boxcar"]


@pytest.mark.parametrize("depth", ["moderate", "deep", None])
def test_one_shallow_scar_never_leads_by_grade(problems_of, depth):
    # GRADES grades every known depth; nothing grades a scar of unknown depth, whose
    # problem then ranks with the most severe graded one, and burden decides
    other = {"type": "ice_pick", "site": "forehead", **({"depth": depth} if depth else {})}
    found = problems_of([{"type": "boxcar", "depth": "shallow"}, other], rules=GRADES)
    assert [p.kind for p in found] == ["ice_pick", "boxcar"]


def test_the_groups_follow_the_firing_record(kb, session):
    """groups() is a function of the input facts and the record: what replay relies on."""
    patient = from_data(
        {"scars": [{"type": "boxcar", "depth": "shallow"}, {"type": "ice_pick", "depth": "deep", "site": "nose"}]}, kb
    )
    record = session.consult(patient)
    _, fact_roots = roots(record, "scar")
    found = groups(kb, patient.facts, record, fact_roots)
    assert [(g.id, g.kind, g.region, g.items, g.grade, g.burden) for g in found] == [
        ("problem-1", "ice_pick", "face", (2,), 4.0, 3.0),
        ("problem-2", "boxcar", "face", (1,), 2.0, 1.0),
    ]
    assert found[0].fact_ids == {patient.facts[-1].id}
    # without the record's grades, burden alone orders them the same way
    assert [g.kind for g in groups(kb, patient.facts, record, {})] == ["ice_pick", "boxcar"]


def test_clinical_order_on_the_bundled_knowledge_base(kb, session):
    data = {
        "scars": [
            {"type": "boxcar", "depth": "shallow", "site": "temples", "count": 12},
            {"type": "rolling", "depth": "moderate", "site": "cheeks", "count": 3},
            {"type": "ice_pick", "depth": "deep", "site": "cheeks", "count": 2},
            {"type": "hypertrophic", "site": "chest", "count": 1},
        ]
    }
    found = plan(session, from_data(data, kb)).plan.problems
    assert [(p.title, p.grade) for p in found] == [
        ("deep ice pick scars on the cheeks", 4),
        ("moderate rolling scars on the cheeks", 3),  # burden 6
        ("hypertrophic scars on the chest", 3),  # burden 2: one scar of unknown depth
        ("shallow boxcar scars on the temples", 2),  # twelve of them, but mild
    ]


def test_one_shallow_scar_never_leads_the_bundled_plan(kb, session):
    data = {
        "scars": [
            {"type": "boxcar", "depth": "shallow", "site": "cheeks", "count": 1},
            {"type": "boxcar", "depth": "moderate", "site": "back", "count": 10},
        ]
    }
    found = plan(session, from_data(data, kb)).plan.problems
    assert found[0].title == "moderate boxcar scars on the back"


# --- titles ----------------------------------------------------------------------------


@pytest.fixture
def titled(make_kb):
    kb = load(plan_kb(make_kb, NOTHING))

    def run(*scars: dict, plan_spec=None) -> str:
        facts = tuple(
            InputFact(f"scar-{i}", "scar", {"site": None, "depth": None, **s}) for i, s in enumerate(scars, 1)
        )
        return title(plan_spec or kb.plan, kb.templates["scar"], facts)

    run.kb = kb
    return run


def test_a_title_names_shared_values_once(titled):
    same = {"type": "ice_pick", "depth": "deep", "site": "cheeks"}
    assert titled(same) == "deep ice pick scars on the cheeks"  # the field's label for ice_pick
    assert titled(same, same, same) == "deep ice pick scars on the cheeks"


def test_a_title_joins_different_values_in_input_order(titled):
    assert (
        titled(
            {"type": "boxcar", "depth": "deep", "site": "forehead"},
            {"type": "boxcar", "depth": "shallow", "site": "cheeks"},
        )
        == "deep and shallow boxcar scars on the forehead and cheeks"
    )
    assert (
        titled(
            {"type": "boxcar", "site": "cheeks"},
            {"type": "boxcar", "site": "nose"},
            {"type": "boxcar", "site": "cheeks"},
            {"type": "boxcar", "site": "forehead"},
        )
        == "boxcar scars on the cheeks, nose and forehead"
    )


def test_a_title_words_unknown_values(titled):
    # a field with words for "unknown" uses them; one without drops out, spaces and all
    assert titled({"type": "rolling"}) == "rolling scars on the affected area"
    # when some items give a value, the title names those
    assert titled({"type": "rolling", "depth": "deep"}, {"type": "rolling", "site": "nose"}) == (
        "deep rolling scars on the nose"
    )


def test_a_plan_without_a_title_names_the_first_field(titled):
    spec = replace_plan(titled.kb, title="")
    assert titled({"type": "ice_pick", "site": "nose"}, {"type": "ice_pick"}, plan_spec=spec) == "ice pick"


def test_titles_in_a_consultation(problems_of):
    found = problems_of(
        [
            {"type": "ice_pick", "depth": "deep", "site": "cheeks"},
            {"type": "rolling", "site": "back"},
            {"type": "ice_pick", "depth": "deep", "site": "nose"},
            {"type": "rolling", "site": "chest", "depth": "shallow"},
        ]
    )
    assert [p.title for p in found] == [
        "deep ice pick scars on the cheeks and nose",
        "shallow rolling scars on the back and chest",
    ]
