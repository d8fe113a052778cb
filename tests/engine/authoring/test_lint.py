"""lint(): each kind of finding on a small knowledge base that is otherwise clean,
where it is reported, and the order of the findings. (The `kb lint` command's
output and exit status are tested in tests/commands/kb/test_lint.py.)"""

from __future__ import annotations

import pytest

from cicatrix.engine.authoring.lint import lint
from cicatrix.engine.knowledge.loader import load

from ...conftest import TEMPLATES, TREATMENTS
from ...helpers import rule
from ..knowledge.test_plan_parser import PLAN_MANIFEST, PLAN_TREATMENTS

# Every treatment recommended (beta only in a combination) or avoided, every
# derived template asserted and matched, every derived field read: no findings.
CLEAN = """\
- id: derive
  title: derive
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: use-finding
  title: use
  when: [{finding: {kind: deep, site: $s}}]
  then:
    - recommend: alpha
      explain: a
    - combine: [alpha, beta]
      rationale: both
  sources: [src.txt]
- id: home
  title: home
  when: [{patient: {level: {gte: 2}}}]
  then:
    - recommend: gamma
      explain: g
    - recommend: delta
      explain: d
    - caution: gamma
      text: c
    - avoid: never
      reason: n
  sources: [src.txt]
"""


def findings(make_kb, rules: str, **files) -> list[tuple[str, str, str]]:
    """(where, severity, message) of every finding; where is file:line:column and the rule or treatment id."""
    out = []
    for p in lint(load(make_kb(rules, **files))):
        out.append((f"{p.file}:{p.line}:{p.column} {p.path}".rstrip(), p.severity, p.message))
    return out


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_the_small_kb_is_clean(make_kb):
    assert findings(make_kb, CLEAN) == []


def test_the_bundled_kb_is_clean(kb):
    assert lint(kb) == []


# --- rules that can never fire ------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "why"),
    [
        ("{patient: {level: {gt: 5, lt: 3}}}", "patient.level: no number is both gt 5 and lt 3"),
        ("{patient: {level: {gt: 3, lte: 3}}}", "patient.level: no number is both gt 3 and lte 3"),
        ("{patient: {level: {gte: 3, lt: 3}}}", "patient.level: no number is both gte 3 and lt 3"),
        ("{patient: {level: {lte: 2, gte: 4}}}", "patient.level: no number is both gte 4 and lte 2"),
        (
            "{scar: {type: {in: [boxcar, rolling], not: [rolling, boxcar]}}}",
            "scar.type: its constraints exclude every value",
        ),
    ],
)
def test_contradictory_tests(make_kb, constraint, why):
    rules = CLEAN + rule("never-fires", f"[{constraint}]")
    line = line_of(rules, "- id: never-fires")
    assert findings(make_kb, rules) == [
        (f"kb/rules/rules.yaml:{line}:3 never-fires", "error", f"can never fire: {why}"),
    ]


@pytest.mark.parametrize(
    "constraint",
    [
        "{patient: {level: {gte: 3, lte: 3}}}",  # exactly 3
        "{patient: {level: {gt: 2, lt: 4}}}",
        "{scar: {type: {in: [boxcar, rolling], not: rolling}}}",
        "{scar: {type: [boxcar, rolling]}}",
        "{scar: {type: {not: [boxcar, rolling]}}}",
    ],
)
def test_satisfiable_tests_are_not_reported(make_kb, constraint):
    assert findings(make_kb, CLEAN + rule("fires", f"[{constraint}]")) == []


def test_tests_against_variables_are_not_judged(make_kb):
    rules = CLEAN + rule("var", "[{patient: {tolerance: $t, level: {gt: $t, lt: 1}}}]")
    assert findings(make_kb, rules) == []


def test_a_derived_fact_nobody_asserts(make_kb):
    rules = CLEAN + rule("wants-shallow", "[{finding: {kind: shallow}}]")
    line = line_of(rules, "- id: wants-shallow")
    assert findings(make_kb, rules) == [
        (
            f"kb/rules/rules.yaml:{line}:3 wants-shallow",
            "error",
            "can never fire: no rule asserts a finding fact that matches this pattern (add one, or fix the values)",
        )
    ]
    # a value the asserting rule takes from a variable could be anything
    assert findings(make_kb, CLEAN + rule("on-cheeks", "[{finding: {site: cheeks}}]"), name="b") == []
    # nor is an `unless` pattern that can never match a reason the rule cannot fire
    assert findings(make_kb, CLEAN + rule("unless", "[]", extra="unless: [{finding: {kind: shallow}}]"), name="c") == []


@pytest.mark.parametrize(
    ("pattern", "kind", "treatment"),
    [("{recommend: {treatment: never}}", "recommend", "never"), ("{avoid: {treatment: alpha}}", "avoid", "alpha")],
)
def test_reacting_to_a_conclusion_nobody_draws(make_kb, pattern, kind, treatment):
    rules = CLEAN + rule("react", f"[{pattern}]")
    line = line_of(rules, "- id: react")
    assert findings(make_kb, rules) == [
        (f"kb/rules/rules.yaml:{line}:3 react", "error", f"can never fire: no rule concludes {kind} {treatment}")
    ]


def test_reacting_to_a_conclusion_some_rule_draws(make_kb):
    # beta is recommended only as part of a combination; never is avoided
    rules = CLEAN + rule("react", "[{recommend: {treatment: beta}}, {avoid: {treatment: never}}]")
    assert findings(make_kb, rules) == []


# --- rules that contradict themselves ------------------------------------------------------


def test_a_rule_that_recommends_and_avoids_the_same(make_kb):
    rules = CLEAN + rule("both", "[]", "- recommend: alpha\n      explain: x\n    - avoid: alpha\n      reason: y")
    line = line_of(rules, "- id: both")
    assert findings(make_kb, rules) == [
        (f"kb/rules/rules.yaml:{line}:3 both", "error", "recommends and avoids alpha under the same conditions")
    ]
    # across two rules it is avoid-wins, not a contradiction
    rules = CLEAN + rule("avoid-alpha", "[]", "- avoid: alpha\n      reason: y")
    assert findings(make_kb, rules, name="b") == []


def test_a_caution_about_a_treatment_no_rule_recommends(make_kb):
    rules = CLEAN + rule("warn", "[]", "- caution: never\n      text: careful")
    line = line_of(rules, "- id: warn")
    assert findings(make_kb, rules) == [
        (f"kb/rules/rules.yaml:{line}:3 warn", "warning", "cautions about never, which no rule recommends")
    ]
    # a caution about whatever a variable names is not judged
    rules = CLEAN + rule("warn", "[{treatment: {id: $t, kind: unsafe}}]", "- caution: $t\n      text: careful")
    assert findings(make_kb, rules, name="b") == []


# --- the catalogue -------------------------------------------------------------------------


def test_an_unsafe_treatment_no_rule_avoids(make_kb):
    rules = CLEAN.replace("    - avoid: never\n      reason: n\n", "")
    line = line_of(TREATMENTS, "  never:")
    assert findings(make_kb, rules) == [
        (
            f"kb/treatments.yaml:{line}:3 never",
            "warning",
            "treatment never is catalogued as unsafe but no rule avoids it",
        )
    ]


def test_a_treatment_no_rule_recommends(make_kb):
    rules = CLEAN.replace("    - recommend: delta\n      explain: d\n", "")
    line = line_of(TREATMENTS, "  delta:")
    assert findings(make_kb, rules) == [
        (f"kb/treatments.yaml:{line}:3 delta", "warning", "no rule recommends treatment delta")
    ]
    # avoiding an ordinary treatment is not recommending it
    rules += rule("no-delta", "[]", "- avoid: delta\n      reason: not this")
    assert [f[2] for f in findings(make_kb, rules, name="b")] == ["no rule recommends treatment delta"]


def test_a_conclusion_by_tag_or_kind_concludes_every_entry_it_reaches(make_kb):
    # never is avoided only as "every unsafe entry": it is avoided, and a rule may react to that
    rules = CLEAN.replace("    - avoid: never\n      reason: n\n", "") + rule(
        "by-kind", "[{treatment: {id: $t, kind: unsafe}}]", "- avoid: $t\n      reason: unsafe"
    )
    assert findings(make_kb, rules + rule("react", "[{avoid: {treatment: never}}]")) == []
    # delta is recommended only as "every home-care entry", gamma literally too
    rules = CLEAN.replace("    - recommend: delta\n      explain: d\n", "") + rule(
        "by-kind", "[{treatment: {id: $t, kind: home_care}}]", "- recommend: $t\n      explain: home"
    )
    assert findings(make_kb, rules + rule("react", "[{recommend: {treatment: delta}}]"), name="b") == []
    # a variable only a recommendation binds names nothing new: delta is still never recommended
    rules = CLEAN.replace("    - recommend: delta\n      explain: d\n", "") + rule(
        "again", "[{recommend: {treatment: $t}}]", "- recommend: $t\n      explain: again"
    )
    assert [f[2] for f in findings(make_kb, rules, name="c")] == ["no rule recommends treatment delta"]


# --- templates -----------------------------------------------------------------------------


def test_a_template_no_rule_matches_and_a_field_no_rule_reads(make_kb):
    templates = (
        TEMPLATES.replace(
            "      kind: {type: string, allowed: [deep, shallow], required: true}\n",
            "      kind: {type: string, allowed: [deep, shallow], required: true}\n"
            "      grade: {type: integer, nullable: true, default: null}\n",
        )
        + "  spare:\n    fields:\n      x: {type: integer, default: 0}\n"
    )
    assert "grade" in templates
    assert findings(make_kb, CLEAN, templates=templates) == [
        (f"kb/templates.yaml:{line_of(templates, '  finding:')}:3", "warning", "no rule reads finding.grade"),
        (f"kb/templates.yaml:{line_of(templates, '  spare:')}:3", "warning", "no rule matches template spare"),
    ]
    # reading it in an `unless` pattern is reading it
    rules = CLEAN + rule("unless", "[]", extra="unless: [{finding: {grade: 2}}, {spare: {x: 1}}]")
    assert findings(make_kb, rules, templates=templates, name="b") == []


def test_unread_fields_of_input_templates_are_fine(make_kb):
    # CLEAN reads patient.level only, and scar.depth and scar.site; the rest are input
    assert findings(make_kb, CLEAN) == []


def test_an_input_template_no_rule_matches(make_kb):
    rules = CLEAN.replace("[{patient: {level: {gte: 2}}}]", "[]")
    assert findings(make_kb, rules) == [
        (f"kb/templates.yaml:{line_of(TEMPLATES, '  patient:')}:3", "warning", "no rule matches template patient")
    ]


# --- cycles --------------------------------------------------------------------------------


def test_a_rule_that_feeds_itself(make_kb):
    rules = CLEAN + rule("loop", "[{finding: {kind: deep}}]", "- assert: {finding: {kind: deep, site: cheeks}}")
    line = line_of(rules, "- id: loop")
    assert findings(make_kb, rules) == [
        (f"kb/rules/rules.yaml:{line}:3 loop", "warning", "rules feed each other in a cycle: loop -> loop")
    ]


def test_two_rules_that_feed_each_other_are_reported_once(make_kb):
    rules = (
        CLEAN
        + rule("deep-to-shallow", "[{finding: {kind: deep}}]", "- assert: {finding: {kind: shallow}}")
        + rule("shallow-to-deep", "[{finding: {kind: shallow}}]", "- assert: {finding: {kind: deep}}")
    )
    line = line_of(rules, "- id: deep-to-shallow")
    assert findings(make_kb, rules) == [
        (
            f"kb/rules/rules.yaml:{line}:3 deep-to-shallow",
            "warning",
            "rules feed each other in a cycle: deep-to-shallow -> shallow-to-deep -> deep-to-shallow",
        )
    ]


def test_reacting_to_a_recommendation_is_not_a_derivation_cycle(make_kb):
    rules = CLEAN + rule("again", "[{recommend: {treatment: alpha}}]", "- recommend: alpha\n      explain: again")
    assert findings(make_kb, rules) == []


# --- order ---------------------------------------------------------------------------------


def test_findings_are_sorted_by_file_line_and_message(make_kb):
    rules = (
        rule("loop", "[{finding: {kind: deep}}]", "- assert: {finding: {kind: deep, site: cheeks}}")
        + CLEAN.replace("    - avoid: never\n      reason: n\n", "")
        + rule("two", "[{patient: {level: {gt: 5, lt: 3}}}, {avoid: {treatment: alpha}}]")
    )
    templates = TEMPLATES + "  spare:\n    fields:\n      x: {type: integer, default: 0}\n"
    found = lint(load(make_kb(rules, templates=templates)))
    two = line_of(rules, "- id: two")
    assert [(p.file, p.line, p.message) for p in found] == [
        ("kb/rules/rules.yaml", line_of(rules, "- id: loop"), "rules feed each other in a cycle: loop -> loop"),
        ("kb/rules/rules.yaml", two, "can never fire: no rule concludes avoid alpha"),
        ("kb/rules/rules.yaml", two, "can never fire: patient.level: no number is both gt 5 and lt 3"),
        ("kb/templates.yaml", line_of(templates, "  spare:"), "no rule matches template spare"),
        (
            "kb/treatments.yaml",
            line_of(TREATMENTS, "  never:"),
            "treatment never is catalogued as unsafe but no rule avoids it",
        ),
    ]


# --- the plan (plan.yaml) ------------------------------------------------------------------
#
# A plan over the small knowledge base: alpha (early phase, 3 sessions) and beta (late
# phase, 1 session) are procedures, gamma and delta home care beside them, epsilon an
# add-on procedure that folds into alpha (so it needs no course of its own).

PLAN_TREATMENTS_ALL = (
    PLAN_TREATMENTS
    + """\
  epsilon:
    title: Epsilon
    kind: procedure
    summary: An add-on.
    downtime: {min: 0, max: 1}
    sources: [src.txt]
"""
)

PLANNED = """\
- id: derive
  title: derive
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: use-finding
  title: use
  when: [{finding: {kind: deep, site: $s}}]
  then:
    - recommend: alpha
      explain: a
      targets: [ice_pick]
    - recommend: beta
      explain: b
      targets: [ice_pick]
    - recommend: epsilon
      explain: e
      tier: adjunct
      targets: [ice_pick]
    - combine: [alpha, beta]
      rationale: both
      targets: [ice_pick]
  sources: [src.txt]
- id: home
  title: home
  when: [{patient: {level: {gte: 2}}}]
  then:
    - recommend: gamma
      explain: g
    - recommend: delta
      explain: d
    - caution: gamma
      text: c
    - avoid: never
      reason: n
  sources: [src.txt]
"""

LINT_PLAN = """\
problems:
  title: "{type} on the {site}"
priorities:
  - when: {type: ice_pick}
    order:
      - alpha+beta
      - alpha
      - beta
    why: w
    sources: [src.txt]
adjuncts:
  epsilon: [alpha]
course:
  phases:
    - {id: early, title: Early}
    - {id: home, title: Home, alongside: true}
    - {id: late, title: Late}
  order:
    - first: {ids: [alpha]}
      then: {ids: [beta]}
      gap_weeks: 4
      why: w
      sources: [src.txt]
"""


@pytest.fixture
def plan_findings(make_kb):
    """(where, severity, message) of every plan finding of a knowledge base with a plan (each in its own
    folder, named kb/ in the findings)."""
    counter = iter(range(100))

    def run(
        plan: str = LINT_PLAN, rules: str = PLANNED, treatments: str = PLAN_TREATMENTS_ALL
    ) -> list[tuple[str, str, str]]:
        root = make_kb(rules, treatments=treatments, manifest=PLAN_MANIFEST, name=f"kb{next(counter)}")
        (root / "plan.yaml").write_text(plan)
        return [
            (f"kb/{p.file.split('/', 1)[1]}:{p.line}:{p.column} {p.path}".rstrip(), p.severity, p.message)
            for p in lint(load(root))
            if p.file.endswith("plan.yaml") or "course" in p.message
        ]

    return run


def at(text: str, needle: str) -> str:
    """``line:column`` of ``needle`` in ``text``, as a finding names it."""
    index = text.index(needle)
    return f"{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


def entry_at(plan: str, option: str) -> str:
    """``line:column`` of an option listed in a priority's block-style ``order``."""
    line, column = at(plan, f"- {option}\n").split(":")
    return f"{line}:{int(column) + 2}"


def with_order_rule(first: str, then: str) -> str:
    return LINT_PLAN.replace("first: {ids: [alpha]}", f"first: {first}").replace("then: {ids: [beta]}", f"then: {then}")


def test_a_plan_that_fits_the_rules_is_clean(make_kb):
    root = make_kb(PLANNED, treatments=PLAN_TREATMENTS_ALL, manifest=PLAN_MANIFEST)
    (root / "plan.yaml").write_text(LINT_PLAN)
    assert lint(load(root)) == []


def test_an_order_rule_the_phase_order_defeats(plan_findings):
    plan = with_order_rule("{ids: [beta]}", "{ids: [alpha]}")
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, 'first: {ids: [beta]')} course.order[0]",
            "error",
            "can never be honoured: alpha (phase 'early') must wait for beta (phase 'late'), but phases run in "
            "the order course.phases lists them and 'early' comes first; expected every 'first' treatment in the "
            "same phase as its 'then' treatments or an earlier one",
        )
    ]
    # the same two treatments in one phase: the scheduler moves the later one
    same_phase = PLAN_TREATMENTS_ALL.replace("phase: late", "phase: early")
    unused_late = plan_findings(plan, treatments=same_phase)
    assert [f[2].split(";")[0] for f in unused_late] == [
        "no treatment's course names phase 'late', so it is always empty"
    ]


def test_the_phase_order_counts_for_alongside_phases_too(plan_findings):
    # gamma (home, listed second) cannot come before alpha (early, listed first)
    plan = with_order_rule("{ids: [gamma]}", "{ids: [alpha]}")
    treatments = PLAN_TREATMENTS_ALL.replace("{phase: home, gradual: true}", "{phase: home, weeks: 2}")
    (found,) = plan_findings(plan, treatments=treatments)
    assert found[1] == "error"
    assert found[2].startswith("can never be honoured: alpha (phase 'early') must wait for gamma (phase 'home')")


def test_an_order_rule_whose_sides_overlap(plan_findings):
    plan = with_order_rule("{ids: [alpha]}", "{tags: [elective]}")
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, 'then: {tags')} course.order[0].then",
            "error",
            "'first' and 'then' both select alpha: a treatment cannot start after it ends itself; expected "
            "selections with nothing in common (narrow one of them)",
        )
    ]


def test_a_first_treatment_with_no_length(plan_findings):
    # gamma runs beside the whole course (alongside, no sessions or weeks): nothing starts after it
    plan = with_order_rule("{ids: [gamma]}", "{ids: [beta]}")
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, 'first: {ids: [gamma]')} course.order[0]",
            "error",
            "can never be honoured: gamma has no length ('sessions' or 'weeks' in its course), so it runs beside "
            "the whole course and beta cannot start after it ends; expected a 'first' treatment with a length",
        )
    ]
    # in an ordinary phase it runs to the end of that phase: a problem for its own phase only
    in_early = PLAN_TREATMENTS_ALL.replace("{phase: home, gradual: true}", "{phase: early}")
    (found,) = plan_findings(with_order_rule("{ids: [gamma]}", "{ids: [alpha]}"), treatments=in_early)
    assert found[2].startswith("can never be honoured: gamma has no length")
    assert "runs to the end of its phase 'early' and alpha cannot start" in found[2]
    assert plan_findings(plan, treatments=in_early) == []  # beta is in a later phase
    # with a length it is an ordinary ordering
    timed = PLAN_TREATMENTS_ALL.replace("{phase: home, gradual: true}", "{phase: home, weeks: 4}")
    assert plan_findings(plan, treatments=timed) == []


@pytest.mark.parametrize(
    ("first", "then", "side", "words"),
    [
        ("{ids: [never]}", "{ids: [beta]}", "first", "'first' (never)"),
        ("{ids: [alpha]}", "{kinds: [lifestyle]}", "then", "'then' (kind lifestyle)"),
    ],
)
def test_an_order_rule_that_never_applies(plan_findings, first, then, side, words):
    plan = with_order_rule(first, then)
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, side + ': {')} course.order[0].{side}",
            "warning",
            f"{words} selects no treatment with a 'course', so this rule never applies; expected ids, kinds or "
            "tags of scheduled treatments",
        )
    ]


def test_a_phase_no_treatment_uses(plan_findings):
    plan = LINT_PLAN.replace(
        "    - {id: late, title: Late}\n", "    - {id: late, title: Late}\n    - {id: spare, title: S}\n"
    )
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, 'spare')} course.phases[3].id",
            "warning",
            "no treatment's course names phase 'spare', so it is always empty; expected a catalogue entry with "
            "course: {phase: spare} (or remove the phase)",
        )
    ]


ZETA = """\
  zeta:
    title: Zeta
    kind: procedure
    summary: A procedure with no course.
    downtime: {min: 0, max: 1}
    sources: [src.txt]
"""


@pytest.mark.parametrize(
    "proposes",
    [
        "    - recommend: zeta\n      explain: z\n",
        "    - combine: [alpha, zeta]\n      rationale: both\n",  # a part of a combination is scheduled too
    ],
)
def test_a_recommended_procedure_without_a_course(plan_findings, proposes):
    rules = PLANNED.replace("    - recommend: epsilon\n", proposes + "    - recommend: epsilon\n")
    treatments = PLAN_TREATMENTS_ALL + ZETA
    assert plan_findings(rules=rules, treatments=treatments) == [
        (
            f"kb/treatments.yaml:{line_of(treatments, '  zeta:')}:3 zeta",
            "warning",
            "procedure zeta is recommended but has no 'course', so the course of care never schedules it; "
            "expected course: {phase: ...} with one of early, home, late (or list it under adjuncts in plan.yaml)",
        )
    ]
    # epsilon is an add-on, scheduled with what it joins; without phases nothing is scheduled at all
    plan = LINT_PLAN.split("course:\n")[0]
    no_courses = "\n".join(line for line in treatments.splitlines() if "course:" not in line) + "\n"
    assert plan_findings(plan, rules=rules, treatments=no_courses) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "beta+alpha",
            "no combine action makes beta+alpha: a combination's id lists its parts in the order the rule does; "
            "did you mean 'alpha+beta'?",
        ),
        ("alpha+epsilon", "no combine action makes alpha+epsilon; did you mean 'alpha+beta'?"),
        (
            "gamma",
            "gamma is home_care: a problem's options are procedure entries and combinations, so it never ranks here",
        ),
        ("epsilon", "epsilon is an add-on (adjuncts): it folds into what it joins and is never an option on its own"),
    ],
)
def test_a_priority_option_no_rule_can_produce(plan_findings, entry, message):
    plan = LINT_PLAN.replace("      - beta\n", f"      - beta\n      - {entry}\n")
    assert plan_findings(plan) == [(f"kb/plan.yaml:{entry_at(plan, entry)} priorities[0].order[3]", "warning", message)]


def test_a_priority_option_only_ever_combined(plan_findings):
    rules = PLANNED.replace("    - recommend: beta\n      explain: b\n      targets: [ice_pick]\n", "")
    assert [(f[0].split()[1], f[2]) for f in plan_findings(rules=rules)] == [
        (
            "priorities[0].order[2]",
            "no rule recommends beta on its own (only as part of a combination), so it is never an option",
        )
    ]


def test_a_priority_option_proposed_for_other_problems_or_none(plan_findings):
    plan = LINT_PLAN.replace("when: {type: ice_pick}", "when: {type: [boxcar, rolling]}")
    found = plan_findings(plan)
    assert [f[2] for f in found] == [
        f"no rule proposes {oid} for type boxcar, rolling: the rules that propose it target ice_pick"
        for oid in ("alpha+beta", "alpha", "beta")
    ]
    assert [f[0] for f in found] == [
        f"kb/plan.yaml:{entry_at(plan, oid)} priorities[0].order[{n}]"
        for n, oid in enumerate(("alpha+beta", "alpha", "beta"))
    ]
    # a priority without a condition on the target field applies to any problem
    assert plan_findings(LINT_PLAN.replace("when: {type: ice_pick}", "when: {site: cheeks}")) == []
    # an option recommended without targets reaches no problem
    rules = PLANNED.replace("      explain: a\n      targets: [ice_pick]\n", "      explain: a\n")
    assert [f[2] for f in plan_findings(rules=rules)] == [
        "the rules that recommend alpha give no 'targets', so it reaches no problem; expected targets"
    ]


def test_a_variable_recommendation_proposes_what_its_pattern_can_match(plan_findings):
    by_tag = """\
- id: by-tag
  title: by tag
  when: [{treatment: {id: $t, tags: {contains: focal_work}}}, {scar: {type: $k}}]
  then:
    - recommend: $t
      explain: v
      targets: [$k]
  sources: [src.txt]
"""
    plan = LINT_PLAN.replace("when: {type: ice_pick}", "when: {type: boxcar}")
    found = plan_findings(plan, rules=PLANNED + by_tag)
    # alpha carries the tag, so the variable rule proposes it for any type; beta and the combination it does not
    assert [f[2].split(":")[0] for f in found] == [
        "no rule proposes alpha+beta for type boxcar",
        "no rule proposes beta for type boxcar",
    ]
    # a variable bound from a recommendation could hold any id: nothing it might propose is reported
    again = """\
- id: again
  title: again
  when: [{recommend: {treatment: $t}}]
  then:
    - recommend: $t
      explain: again
      targets: [boxcar]
  sources: [src.txt]
"""
    assert [f[2].split(":")[0] for f in plan_findings(plan, rules=PLANNED + again)] == [
        "no rule proposes alpha+beta for type boxcar"
    ]


def test_a_variable_recommendation_proposes_only_what_all_its_patterns_can_match(plan_findings):
    # zeta (a procedure with no course) carries one of the two tags the rule asks for: never proposed
    treatments = PLAN_TREATMENTS_ALL + ZETA.replace("    sources:", "    tags: [elective]\n    sources:")
    both = """\
- id: both-tags
  title: both tags
  when: [{treatment: {id: $t, tags: {contains: elective}}}, {treatment: {id: $t, tags: {contains: focal_work}}}]
  then:
    - recommend: $t
      explain: v
      targets: [ice_pick]
  sources: [src.txt]
"""
    assert plan_findings(rules=PLANNED + both, treatments=treatments) == []
    one = both.replace(", {treatment: {id: $t, tags: {contains: focal_work}}}", "")
    assert [f[2].split(";")[0] for f in plan_findings(rules=PLANNED + one, treatments=treatments)] == [
        "procedure zeta is recommended but has no 'course', so the course of care never schedules it"
    ]


def test_a_variable_only_a_recommendation_binds_proposes_nothing_new(plan_findings):
    # it re-recommends what another rule proposes: zeta, which no rule recommends, is not counted as proposed
    again = """\
- id: again
  title: again
  when: [{recommend: {treatment: $t}}]
  then:
    - recommend: $t
      explain: again
      targets: [ice_pick]
  sources: [src.txt]
"""
    assert plan_findings(rules=PLANNED + again, treatments=PLAN_TREATMENTS_ALL + ZETA) == []


def test_an_add_on_whose_treatments_no_rule_recommends(plan_findings):
    plan = LINT_PLAN.replace("  epsilon: [alpha]", "  epsilon: [never]")
    assert plan_findings(plan) == [
        (
            f"kb/plan.yaml:{at(plan, 'epsilon: [never]')} adjuncts.epsilon",
            "warning",
            "add-on epsilon joins never, which no rule recommends (alone or combined), so it never joins "
            "anything; expected at least one treatment some rule recommends",
        )
    ]
    # one treatment it can join is enough
    assert plan_findings(LINT_PLAN.replace("  epsilon: [alpha]", "  epsilon: [never, beta]")) == []


def test_plan_findings_need_a_plan(make_kb):
    # the same rules and a catalogue without courses, no plan.yaml: nothing about a plan to say
    treatments = "\n".join(line for line in PLAN_TREATMENTS_ALL.splitlines() if "course:" not in line) + "\n"
    assert lint(load(make_kb(PLANNED, treatments=treatments, manifest=PLAN_MANIFEST))) == []


def test_an_unless_that_looks_before_its_facts_are_drawn(make_kb):
    # 'derive' (salience 0) draws the finding; a rule at 10 fires first and its
    # unless sees nothing yet
    early = rule("early", "[{patient: {level: 1}}]", extra="salience: 10\n  unless: [{finding: {kind: deep}}]")
    found = findings(make_kb, CLEAN + early)
    assert [(sev, msg) for _, sev, msg in found] == [
        (
            "warning",
            "unless finding: may look before its facts exist, since derive (salience lower than 10) "
            "can draw them later; lower this rule's salience",
        )
    ]
    late = rule("late", "[{patient: {level: 1}}]", extra="salience: -5\n  unless: [{finding: {kind: deep}}]")
    assert findings(make_kb, CLEAN + late, name="b") == []
    # an avoid drawn at a lower salience, and an input fact (never too early)
    avoid = rule("early-avoid", "[]", extra="salience: 10\n  unless: [{avoid: {treatment: never}}]")
    assert [m for _, _, m in findings(make_kb, CLEAN + avoid, name="c")] == [
        "unless avoid: may look before its facts exist, since home (salience lower than 10) "
        "can draw them later; lower this rule's salience"
    ]
    on_input = rule("input", "[]", extra="salience: 10\n  unless: [{patient: {level: 3}}]")
    assert findings(make_kb, CLEAN + on_input, name="d") == []


def test_a_rule_that_joins_one_template_many_ways(make_kb):
    three = rule("three", "[{scar: {type: $a}}, {scar: {type: $b}}, {scar: {type: $c}}]")
    (found,) = [m for _, _, m in findings(make_kb, CLEAN + three)]
    assert found.startswith("matches scar 3 times: its matches grow as n^3 with the scar facts")
    two = rule("two", "[{scar: {type: $a}}, {scar: {type: $b}}]")
    assert findings(make_kb, CLEAN + two, name="b") == []
