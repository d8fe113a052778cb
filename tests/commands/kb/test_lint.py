"""kb lint: rules that can never fire, contradictions and cycles, each reported
with its place; the bundled knowledge base lints clean."""

from __future__ import annotations

import pytest

from ...helpers import GOOD_RULES, check_broken_kb, located_files, write_kb

# (what breaks, rules text, templates text, treatments text, command, expected parts)
CORPUS = [
    (
        "never fires: contradictory bounds",
        GOOD_RULES.replace("{type: ice_pick}", "{type: ice_pick}}, {patient: {level: {gt: 5, lt: 3}}"),
        None,
        None,
        "lint",
        ["error: ", "rules.yaml:1:3: ok: can never fire: patient.level: no number is both gt 5 and lt 3"],
    ),
    (
        "never fires: excluded value",
        GOOD_RULES.replace(
            "{type: ice_pick}", "{type: [ice_pick, boxcar], depth: deep}}, {scar: {type: {in: [boxcar], not: boxcar}}"
        ),
        None,
        None,
        "lint",
        ["can never fire: scar.type: its constraints exclude every value"],
    ),
    (
        "never fires: derived fact nobody asserts",
        GOOD_RULES.replace("{finding: {kind: deep}}", "{finding: {kind: shallow}}"),
        None,
        None,
        "lint",
        ["rules.yaml:13:3: use-finding: can never fire: no rule asserts a finding fact that matches"],
    ),
    (
        "never fires: reacting to a conclusion nobody draws",
        GOOD_RULES
        + """\
- id: react
  title: react
  when: [{recommend: {treatment: gamma}}]
  then: [{note: gamma}]
  sources: [src.txt]
""",
        None,
        None,
        "lint",
        ["react: can never fire: no rule concludes recommend gamma"],
    ),
    (
        "recommends what it avoids",
        GOOD_RULES.replace(
            "      explain: fine\n", "      explain: fine\n    - avoid: alpha\n      reason: not for you\n"
        ),
        None,
        None,
        "lint",
        ["ok: recommends and avoids alpha under the same conditions"],
    ),
    (
        "cyclic assertions",
        GOOD_RULES
        + """\
- id: loop
  title: loop back
  when: [{finding: {kind: deep}}]
  then: [{assert: {finding: {kind: deep, site: cheeks}}}]
  sources: [src.txt]
""",
        None,
        None,
        "lint --strict",
        ["warning: ", "rules feed each other in a cycle: loop -> loop"],
    ),
    (
        "treatment no rule recommends",
        GOOD_RULES,
        None,
        None,
        "lint --strict",
        ["warning: ", "treatments.yaml:", "no rule recommends treatment gamma"],
    ),
]


@pytest.mark.parametrize(
    ("what", "rules", "templates", "treatments", "command", "expected"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_kb_reports_place_and_reason(tmp_path, run_cli, what, rules, templates, treatments, command, expected):
    check_broken_kb(tmp_path, run_cli, what, rules, templates, treatments, command, expected)


def test_every_lint_message_is_located(tmp_path, run_cli):
    for n, (what, rules, templates, treatments, command, _) in enumerate(CORPUS):
        root = write_kb(tmp_path / str(n), rules, templates, treatments)
        run = run_cli("kb", *command.split(), "--kb", str(root))
        assert run.code == 2, what
        files = located_files(run.out + run.err, root)
        if rules == GOOD_RULES:  # the strict lint of the unchanged rules warns about the unused catalogue
            assert "kb/treatments.yaml" in files, what
        else:  # the broken rule comes first
            assert files[0] == "kb/rules/rules.yaml", f"{what}:\n{run.out}{run.err}"


def test_good_small_kb_validates_and_lints_with_warnings_only(tmp_path, run_cli):
    root = write_kb(tmp_path, GOOD_RULES)
    assert run_cli("kb", "validate", "--kb", str(root)).code == 0
    run = run_cli("kb", "lint", "--kb", str(root))
    assert run.code == 0 and "0 error(s)" in run.out


def test_bundled_kb_validates_and_lints_clean_in_strict(run_cli):
    run = run_cli("kb", "validate")
    assert run.code == 0 and run.out.startswith("ok: ")
    run = run_cli("kb", "lint", "--strict")
    assert run.code == 0, run.out
    assert "0 error(s), 0 warning(s)" in run.out


def plan_kb(tmp_path, plan: str):
    """The lint tests' planned knowledge base with this plan.yaml; its folder."""
    from ...engine.authoring.test_lint import PLAN_TREATMENTS_ALL, PLANNED
    from ...engine.knowledge.test_plan_parser import PLAN_MANIFEST

    root = write_kb(tmp_path, PLANNED, treatments=PLAN_TREATMENTS_ALL)
    (root / "kb.yaml").write_text(PLAN_MANIFEST)
    (root / "plan.yaml").write_text(plan)
    return root


def test_plan_findings_are_located_and_set_the_exit_status(tmp_path, run_cli):
    from ...engine.authoring.test_lint import LINT_PLAN, with_order_rule

    assert run_cli("kb", "lint", "--strict", "--kb", str(plan_kb(tmp_path / "clean", LINT_PLAN))).code == 0
    # an order rule the phase order defeats is an error
    root = plan_kb(tmp_path / "inverted", with_order_rule("{ids: [beta]}", "{ids: [alpha]}"))
    run = run_cli("kb", "lint", "--kb", str(root))
    assert run.code == 2
    assert located_files(run.out, root) == ["kb/plan.yaml"]
    assert "error: kb/plan.yaml:19:7: course.order[0]: can never be honoured: alpha (phase 'early')" in run.out
    # an option no rule proposes is a warning: it fails only with --strict
    root = plan_kb(tmp_path / "reordered", LINT_PLAN.replace("      - alpha+beta\n", "      - beta+alpha\n"))
    run = run_cli("kb", "lint", "--kb", str(root))
    assert run.code == 0 and "0 error(s), 1 warning(s)" in run.out
    assert "warning: kb/plan.yaml:6:9: priorities[0].order[0]: no combine action makes beta+alpha" in run.out
    assert run_cli("kb", "lint", "--strict", "--kb", str(root)).code == 2
