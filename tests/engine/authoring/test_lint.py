"""lint(): each kind of finding on a small knowledge base that is otherwise clean,
where it is reported, and the order of the findings. (The `kb lint` command's
output and exit status are tested in tests/commands/kb/test_lint.py.)"""

from __future__ import annotations

import pytest

from cicatrix.engine.authoring.lint import lint
from cicatrix.engine.knowledge.loader import load

from ...conftest import TEMPLATES, TREATMENTS
from ...helpers import rule

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
