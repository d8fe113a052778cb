"""engine/knowledge/plan_parser.py: plan.yaml becomes a PlanSpec with every name
resolved (fields of the target template, values, treatment and combination ids,
tags, phases, sources), or each wrong name is a load error at its line and
column with a "did you mean". The catalogue's `course` blocks are checked against
the declared phases. Without plan.yaml a knowledge base has an empty plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.knowledge.files import PLAN_FILE
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import (
    CourseSpec,
    FieldConstraint,
    OrderRule,
    Phase,
    PlanSpec,
    Priority,
    Region,
    Selector,
    Where,
)
from cicatrix.engine.knowledge.model import Test as Constraint

from ...conftest import MANIFEST, ONE_RULE, TEMPLATES

# The test knowledge base, with what a plan needs: targets in kb.yaml, a count on
# the target template to weigh problems by, a derived numeric grade, and a course
# for each catalogue entry.
PLAN_MANIFEST = MANIFEST + "targets: {template: scar, field: type}\n"

PLAN_TEMPLATES = (
    TEMPLATES.replace(
        "      depth: {type: string, allowed: [shallow, deep], default: shallow}\n",
        "      depth: {type: string, allowed: [shallow, deep], default: shallow}\n"
        "      count: {type: integer, minimum: 1, default: 1}\n",
    )
    + """\
  grade:
    fields:
      value: {type: integer, required: true}
"""
)

PLAN_TREATMENTS = """\
treatments:
  alpha:
    title: Alpha
    kind: procedure
    summary: First test procedure.
    downtime: {min: 1, max: 3}
    tags: [elective, focal_work]
    course: {phase: early, sessions: 3, interval_weeks: 4}
    sources: [src.txt]
  beta:
    title: Beta
    kind: procedure
    summary: Second test procedure.
    downtime: {min: 5, max: 7}
    tags: [elective]
    course: {phase: late, sessions: 1}
    sources: [src.txt]
  gamma:
    title: Gamma
    kind: home_care
    summary: A cream.
    downtime: {min: 0, max: 0}
    routine: {evening: true, nights_per_week: 3, not_same_night_as: [delta]}
    course: {phase: home, gradual: true}
    sources: [src.txt]
  delta:
    title: Delta
    kind: home_care
    summary: An acid.
    downtime: {min: 0, max: 0}
    routine: {evening: true, nights_per_week: 2}
    course: {phase: home, gradual: true, only_with: [alpha]}
    sources: [src.txt]
  never:
    title: Never
    kind: unsafe
    summary: Never put this on skin.
    downtime: {min: 0, max: 0}
    sources: [src.txt]
"""

PLAN = """\
problems:
  title: "{depth}   {type} on the {site}"
  region:
    field: site
    groups:
      - {id: upper, title: the upper face, values: [forehead]}
      - {id: lower, title: the lower face, values: [cheeks, null]}
  burden:
    count: count
    field: depth
    weights: {shallow: 1, deep: 3}
    default: 2
  grade: {template: grade, field: value}
priorities:
  - when: {type: ice_pick, depth: {not: shallow}}
    order: [alpha, alpha+beta]
    why: >
      Alpha first,
      then both.
    sources: [src.txt]
adjuncts:
  gamma: [alpha, beta]
course:
  gradual_weeks: 3
  phases:
    - {id: early, title: Early work, reassess_after_weeks: 0}
    - {id: home, title: At home, alongside: true}
    - {id: late, title: Later work, gap_weeks: 4}
  order:
    - first: {ids: [alpha]}
      then: {kinds: [home_care], tags: [elective]}
      gap_weeks: 2
      why: Alpha before the rest.
      sources: [src.txt]
"""


def write(tmp_path, plan: str | None = PLAN, *, manifest: str = PLAN_MANIFEST, treatments: str = PLAN_TREATMENTS):
    """A small knowledge base with this plan.yaml (none when ``plan`` is None); its folder."""
    root = tmp_path / "kb"
    (root / "rules").mkdir(parents=True)
    (root / "kb.yaml").write_text(manifest)
    (root / "templates.yaml").write_text(PLAN_TEMPLATES)
    (root / "treatments.yaml").write_text(treatments)
    (root / "rules" / "rules.yaml").write_text(ONE_RULE)
    if plan is not None:
        (root / PLAN_FILE).write_text(plan)
    return root


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """The 1-based (line, column) where ``needle`` starts in ``text`` (its nth occurrence)."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_errors(root) -> list[str]:
    with pytest.raises(CicatrixError) as caught:
        load(root)
    return [p.render() for p in caught.value.problems]


# --- what parses ---------------------------------------------------------------------------


def test_a_plan_becomes_a_plan_spec(tmp_path):
    plan = load(write(tmp_path)).plan
    assert plan.title == "{depth} {type} on the {site}"  # white space folded
    assert (plan.region_field, plan.regions) == (
        "site",
        (Region("upper", "the upper face", ("forehead",)), Region("lower", "the lower face", ("cheeks", None))),
    )
    assert (plan.burden_count, plan.burden_field, plan.burden_weights, plan.burden_default) == (
        "count",
        "depth",
        {"shallow": 1.0, "deep": 3.0},
        2.0,
    )
    assert plan.grade == ("grade", "value")
    assert plan.priorities == (
        Priority(
            when=(
                FieldConstraint("type", (Constraint("eq", "ice_pick"),)),
                FieldConstraint("depth", (Constraint("not", ("shallow",)),)),
            ),
            order=("alpha", "alpha+beta"),
            why="Alpha first, then both.",
            sources=("src.txt",),
            where=Where("kb/plan.yaml", *at(PLAN, "when: {type")),
        ),
    )
    assert plan.adjuncts == {"gamma": ("alpha", "beta")}
    assert plan.phases == (
        Phase("early", "Early work", False, 0, 0, Where("kb/plan.yaml", *at(PLAN, "{id: early"))),
        Phase("home", "At home", True, 0, None, Where("kb/plan.yaml", *at(PLAN, "{id: home"))),
        Phase("late", "Later work", False, 4, None, Where("kb/plan.yaml", *at(PLAN, "{id: late"))),
    )
    assert plan.order == (
        OrderRule(
            first=Selector(ids=("alpha",)),
            then=Selector(kinds=("home_care",), tags=("elective",)),
            gap_weeks=2,
            why="Alpha before the rest.",
            sources=("src.txt",),
            where=Where("kb/plan.yaml", *at(PLAN, "first: {ids")),
        ),
    )
    assert plan.gradual_weeks == 3


def test_defaults_fill_what_the_plan_leaves_out(tmp_path):
    text = """\
course:
  phases: [{id: early, title: Early}]
  order:
    - {first: {ids: [alpha]}, then: {ids: [beta]}, why: w, sources: [src.txt]}
"""
    treatments = PLAN_TREATMENTS.replace("phase: late", "phase: early").replace("phase: home", "phase: early")
    plan = load(write(tmp_path, text, treatments=treatments)).plan
    (phase,) = plan.phases
    assert (phase.alongside, phase.gap_weeks, phase.reassess_after_weeks) == (False, 0, None)
    assert plan.order[0].gap_weeks == 0
    assert (plan.gradual_weeks, plan.priorities, plan.adjuncts, plan.grade, plan.regions) == (2, (), {}, None, ())


def test_catalogue_courses_are_read(tmp_path):
    kb = load(write(tmp_path))
    assert kb.treatments["alpha"].course == CourseSpec("early", sessions=3, interval_weeks=4)
    assert kb.treatments["delta"].course == CourseSpec("home", gradual=True, only_with=("alpha",))
    assert kb.treatments["never"].course is None


def test_without_plan_yaml_the_plan_is_empty(tmp_path):
    treatments = PLAN_TREATMENTS.replace("    course: {phase: early, sessions: 3, interval_weeks: 4}\n", "")
    for line in ("    course: {phase: late, sessions: 1}\n", "    course: {phase: home, gradual: true}\n"):
        treatments = treatments.replace(line, "")
    treatments = treatments.replace("    course: {phase: home, gradual: true, only_with: [alpha]}\n", "")
    assert "course:" not in treatments
    assert load(write(tmp_path, None, treatments=treatments)).plan == PlanSpec()


def test_an_empty_mapping_is_an_empty_plan(tmp_path):
    treatments = "\n".join(line for line in PLAN_TREATMENTS.splitlines() if "course:" not in line) + "\n"
    plan = load(write(tmp_path, "{}\n", treatments=treatments)).plan
    assert plan == PlanSpec(where=Where("kb/plan.yaml", 1, 1))


def test_a_plan_file_with_only_comments_is_an_empty_plan(tmp_path):
    # plan.yaml is optional, so a file an author has only started is not an error
    treatments = "\n".join(line for line in PLAN_TREATMENTS.splitlines() if "course:" not in line) + "\n"
    plan = load(write(tmp_path, "# the plan comes later\n", treatments=treatments)).plan
    assert plan.phases == () and plan.priorities == ()


def test_the_bundled_plan_loads(kb):
    import yaml

    raw = yaml.safe_load((Path(kb.root) / PLAN_FILE).read_text())
    plan = kb.plan
    assert plan.where == Where("kb/plan.yaml", 1, 1)
    assert plan.region_field == raw["problems"]["region"]["field"]
    assert [p.order for p in plan.priorities] == [tuple(p["order"]) for p in raw["priorities"]]
    assert [p.id for p in plan.phases] == [p["id"] for p in raw["course"]["phases"]]
    assert len(plan.order) == len(raw["course"]["order"]) > 0
    assert dict(plan.adjuncts) == {k: tuple(v) for k, v in raw["adjuncts"].items()}
    phases = {p.id for p in plan.phases}
    assert all(t.course.phase in phases for t in kb.treatments.values() if t.course is not None)


# --- what is refused: every wrong name, located, with a suggestion ----------------------------


def refused(tmp_path, old: str, new: str, *, manifest: str = PLAN_MANIFEST, treatments: str = PLAN_TREATMENTS):
    """Load the plan with ``old`` replaced by ``new``; the rendered problems and the new text."""
    assert PLAN.count(old) == 1, old
    text = PLAN.replace(old, new)
    return load_errors(write(tmp_path, text, manifest=manifest, treatments=treatments)), text


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "{depth}   {type}",
            "{dept}   {type}",
            '"{dept}',
            "problems.title",
            "template 'scar' has no field 'dept'; did you mean 'depth'?",
        ),
        (
            "field: site",
            "field: sit",
            "sit\n",
            "problems.region.field",
            "template 'scar' has no field 'sit'; did you mean 'site'?",
        ),
        (
            "values: [cheeks, null]",
            "values: [cheek, null]",
            "cheek,",
            "problems.region.groups[1].values[0]",
            "'cheek' is not a value of 'site', which is one of cheeks, forehead or null; did you mean 'cheeks'?",
        ),
        (
            "values: [cheeks, null]",
            "values: [forehead, null]",
            "forehead, null",
            "problems.region.groups[1].values[0]",
            "'forehead' is already in region 'upper'",
        ),
        (
            "count: count",
            "count: cout",
            "cout",
            "problems.burden.count",
            "template 'scar' has no field 'cout'; did you mean 'count'?",
        ),
        (
            "count: count",
            "count: depth",
            "depth\n    field",
            "problems.burden.count",
            "'depth' is not an integer field, so it cannot count items",
        ),
        (
            "field: depth",
            "field: deep",
            "deep\n",
            "problems.burden.field",
            "template 'scar' has no field 'deep'; did you mean 'depth'?",
        ),
        (
            "{shallow: 1, deep: 3}",
            "{shalow: 1, deep: 3}",
            "shalow",
            "problems.burden.weights.shalow",
            "'shalow' is not a value of 'depth'; did you mean 'shallow'?",
        ),
        (
            "{template: grade, field: value}",
            "{template: grad, field: value}",
            "grad,",
            "problems.grade.template",
            "unknown template 'grad'; did you mean 'grade'?",
        ),
        (
            "{template: grade, field: value}",
            "{template: grade, field: valu}",
            "valu}",
            "problems.grade.field",
            "grade.valu has no such field; did you mean 'value'?",
        ),
        (
            "{template: grade, field: value}",
            "{template: finding, field: kind}",
            "kind}",
            "problems.grade.field",
            "finding.kind holds no number; expected a number field (it has none)",
        ),
    ],
)
def test_problems_errors_are_located(tmp_path, old, new, needle, path, message):
    errors, text = refused(tmp_path, old, new)
    line, column = at(text, needle)
    assert errors == [f"kb/plan.yaml:{line}:{column}: {path}: {message}"]


def test_a_region_of_a_field_that_is_never_null_cannot_hold_null(tmp_path):
    text = PLAN.replace("field: site", "field: depth").replace(
        "      - {id: upper, title: the upper face, values: [forehead]}\n"
        "      - {id: lower, title: the lower face, values: [cheeks, null]}\n",
        "      - {id: all, title: everywhere, values: [shallow, deep, null]}\n",
    )
    line, column = at(text, "null]")
    assert load_errors(write(tmp_path, text)) == [
        f"kb/plan.yaml:{line}:{column}: problems.region.groups[0].values[2]: 'depth' is never null (not given)"
    ]


def test_problems_need_targets_in_the_manifest(tmp_path):
    errors = load_errors(write(tmp_path, manifest=MANIFEST))
    expected = "problems need 'targets' in kb.yaml (the input template and field they group by)"
    assert errors and all(e.startswith("kb/plan.yaml:") and e.endswith(expected) for e in errors)
    # one for each place that names a field of the target template (title placeholders count once each)
    assert [e.split(": ")[1] for e in errors] == [
        "problems.title",
        "problems.title",
        "problems.title",
        "problems.region.field",
        "problems.burden.count",
        "problems.burden.field",
        "priorities[0].when.type",
        "priorities[0].when.depth",
    ]


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "{type: ice_pick, depth",
            "{tpye: ice_pick, depth",
            "tpye",
            "priorities[0].when.tpye",
            "template 'scar' has no field 'tpye'; did you mean 'type'?",
        ),
        (
            "{type: ice_pick, depth",
            "{type: icepick, depth",
            "icepick",
            "priorities[0].when.type",
            "'icepick' can never match scar.type",
        ),
        (
            "{type: ice_pick, depth",
            "{type: $t, depth",
            "$t",
            "priorities[0].when.type",
            "a priority matches values, not variables",
        ),
        (
            "order: [alpha, alpha+beta]",
            "order: [alpah, alpha+beta]",
            "alpah",
            "priorities[0].order[0]",
            "unknown treatment id 'alpah'; did you mean 'alpha'?",
        ),
        (
            "order: [alpha, alpha+beta]",
            "order: [alpha, alpha+beat]",
            "alpha+beat",
            "priorities[0].order[1]",
            "unknown treatment id 'beat'; did you mean 'beta'?",
        ),
        (
            "      then both.\n    sources: [src.txt]",
            "      then both.\n    sources: [scr.txt]",
            "scr.txt",
            "priorities[0].sources[0]",
            "unknown source 'scr.txt'; declare it under 'sources' in kb.yaml; did you mean 'src.txt'?",
        ),
        (
            "  gamma: [alpha, beta]",
            "  gamm: [alpha, beta]",
            "gamm:",
            "adjuncts.gamm",
            "unknown treatment id 'gamm'; did you mean 'gamma'?",
        ),
        (
            "  gamma: [alpha, beta]",
            "  gamma: [alpha, bta]",
            "bta",
            "adjuncts.gamma[1]",
            "unknown treatment id 'bta'; did you mean 'beta'?",
        ),
        (
            "{id: late, title: Later work, gap_weeks: 4}",
            "{id: early, title: Later work, gap_weeks: 4}",
            "early, title: Later",
            "course.phases[2].id",
            "duplicate phase id 'early'",
        ),
        (
            "first: {ids: [alpha]}",
            "first: {ids: [alpa]}",
            "alpa",
            "course.order[0].first.ids[0]",
            "unknown treatment id 'alpa'; did you mean 'alpha'?",
        ),
        (
            "tags: [elective]}",
            "tags: [elective, focal]}",
            "focal]",
            "course.order[0].then.tags[1]",
            "no treatment has the tag 'focal'; did you mean 'focal_work'?",
        ),
        (
            "      why: Alpha before the rest.\n      sources: [src.txt]",
            "      why: Alpha before the rest.\n      sources: [src.txt, source.txt]",
            "source.txt",
            "course.order[0].sources[1]",
            "unknown source 'source.txt'; declare it under 'sources' in kb.yaml",
        ),
    ],
)
def test_priority_adjunct_and_course_errors_are_located(tmp_path, old, new, needle, path, message):
    errors, text = refused(tmp_path, old, new, treatments=PLAN_TREATMENTS.replace("phase: late", "phase: early"))
    line, column = at(text, needle)
    assert len(errors) == 1 and errors[0].startswith(f"kb/plan.yaml:{line}:{column}: {path}: {message}"), errors


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "phase: early, sessions: 3",
            "phase: erly, sessions: 3",
            "erly",
            "treatments.alpha.course.phase",
            "unknown phase 'erly'; known: early, home, late; did you mean 'early'?",
        ),
        (
            "only_with: [alpha]",
            "only_with: [alpah]",
            "alpah",
            "treatments.delta.course.only_with[0]",
            "unknown treatment id 'alpah'; did you mean 'alpha'?",
        ),
        (
            "sessions: 3, interval_weeks: 4}",
            "sessions: 3}",
            "3}\n    sources",
            "treatments.alpha.course.sessions",
            "several sessions need 'interval_weeks'",
        ),
    ],
)
def test_catalogue_course_errors_are_located(tmp_path, old, new, needle, path, message):
    treatments = PLAN_TREATMENTS.replace(old, new)
    line, column = at(treatments, needle)
    assert load_errors(write(tmp_path, treatments=treatments)) == [
        f"kb/treatments.yaml:{line}:{column}: {path}: {message}"
    ]


def test_a_course_without_declared_phases(tmp_path):
    errors = load_errors(write(tmp_path, None))
    line, column = at(PLAN_TREATMENTS, "early, sessions")
    assert errors[0] == (
        f"kb/treatments.yaml:{line}:{column}: treatments.alpha.course.phase: "
        "unknown phase 'early'; declare phases under course.phases in plan.yaml"
    )
    assert len(errors) == 4  # one per catalogue entry with a course


def test_every_problem_of_the_plan_in_one_pass(tmp_path):
    text = PLAN.replace("field: site", "field: sit").replace("[alpha, alpha+beta]", "[alpah, alpha+beta]")
    text = text.replace("first: {ids: [alpha]}", "first: {ids: [alpa]}")
    errors = load_errors(write(tmp_path, text))
    assert [e.split(": ")[1] for e in errors] == [
        "problems.region.field",
        "priorities[0].order[0]",
        "course.order[0].first.ids[0]",
    ]


def test_load_errors_reach_kb_validate(tmp_path, run_cli):
    text = PLAN.replace("order: [alpha, alpha+beta]", "order: [alpah, alpha+beta]")
    run = run_cli("kb", "validate", "--kb", str(write(tmp_path, text)))
    line, column = at(text, "alpah")
    assert run.code == 2
    assert (
        f"kb/plan.yaml:{line}:{column}: priorities[0].order[0]: unknown treatment id 'alpah'; did you mean 'alpha'?"
        in run.out + run.err
    )
