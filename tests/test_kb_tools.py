"""The authoring toolkit: kb validate, lint, test, schema, list, show, graph.

The corpus below breaks a small knowledge base in one way per case and checks
the command names the file, the line and what is wrong, with exit status 2 and
never a traceback.
"""

from __future__ import annotations

import json
import shutil

import pytest

from cicatrix.engine.knowledge import schemas

from .conftest import MANIFEST, ONE_RULE, REPO, TEMPLATES, TREATMENTS

GOOD = (
    ONE_RULE
    + """\
- id: derive
  title: derive a finding
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: use-finding
  title: use the finding
  when: [{finding: {kind: deep}}]
  then: [{recommend: beta, explain: deep}]
  sources: [src.txt]
"""
)

# (what breaks, rules text, templates text, treatments text, command, expected parts)
CORPUS = [
    ("bad YAML", GOOD + "- id: [\n", None, None, "validate", ["rules.yaml:19:", "not valid YAML"]),
    (
        "tab indentation",
        GOOD.replace("  title: ok", "\ttitle: ok"),
        None,
        None,
        "validate",
        ["rules.yaml:2:", "not valid YAML"],
    ),
    (
        "unknown rule key",
        GOOD.replace("  title: ok\n", "  title: ok\n  salince: 3\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:3", "unknown key 'salince'", "did you mean 'salience'"],
    ),
    (
        "wrong type of salience",
        GOOD.replace("  title: ok\n", "  title: ok\n  salience: high\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:13", "expected a whole number, got text 'high'"],
    ),
    (
        "unknown treatment id",
        GOOD.replace("recommend: alpha", "recommend: alfa"),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "unknown treatment id 'alfa'", "did you mean 'alpha'"],
    ),
    (
        "typo'd value",
        GOOD.replace("type: ice_pick", "type: icepick"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "'icepick' can never match scar.type", "did you mean 'ice_pick'"],
    ),
    (
        "unknown template",
        GOOD.replace("{scar: {type", "{scars: {type"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "unknown template 'scars'", "did you mean 'scar'"],
    ),
    (
        "unknown field",
        GOOD.replace("{scar: {type", "{scar: {kind"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "template 'scar' has no field 'kind'"],
    ),
    (
        "duplicate rule id",
        GOOD.replace("id: derive", "id: ok"),
        None,
        None,
        "validate",
        ["rules.yaml:8:7:", "duplicate rule id 'ok'"],
    ),
    (
        "duplicate key",
        GOOD.replace("  title: ok\n", "  title: ok\n  title: again\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:3", "duplicate key 'title'"],
    ),
    (
        "missing sources",
        GOOD.replace("  sources: [src.txt]\n- id: derive", "- id: derive"),
        None,
        None,
        "validate",
        ["rules.yaml:1:", "missing required key 'sources'"],
    ),
    (
        "unknown source",
        GOOD.replace("sources: [src.txt]\n- id: derive", "sources: [sorce.txt]\n- id: derive"),
        None,
        None,
        "validate",
        ["rules.yaml:7:13:", "unknown source 'sorce.txt'", "did you mean 'src.txt'"],
    ),
    (
        "unbound variable in text",
        GOOD.replace("explain: fine", "explain: fine on the {$site}"),
        None,
        None,
        "validate",
        ["rules.yaml:6:", "{$site} is not bound"],
    ),
    (
        "no action",
        GOOD.replace("    - recommend: alpha\n      explain: fine\n", "    - explain: fine\n"),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "expected one of the keys: recommend, avoid, combine, assert, caution, note"],
    ),
    (
        "action missing its text",
        GOOD.replace("      explain: fine\n", ""),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "missing required key 'explain'"],
    ),
    (
        "unknown operator",
        GOOD.replace("{type: ice_pick}", "{type: {one_of: [ice_pick]}}"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "unknown key 'one_of'"],
    ),
    (
        "comparison on text",
        GOOD.replace("{type: ice_pick}", "{type: {gt: 3}}"),
        None,
        None,
        "validate",
        ["'gt' compares numbers, but scar.type is a string field"],
    ),
    (
        "assert of an input template",
        GOOD.replace("{finding: {kind: deep, site: $s}}", "{scar: {type: boxcar}}"),
        None,
        None,
        "validate",
        ["rules may only assert derived facts"],
    ),
    (
        "assert of an unknown value",
        GOOD.replace("{finding: {kind: deep, site: $s}}", "{finding: {kind: deeep}}"),
        None,
        None,
        "validate",
        ["'deeep' can never match finding.kind", "did you mean 'deep'"],
    ),
    (
        "unknown field type in templates",
        GOOD,
        TEMPLATES.replace("type: integer, minimum: 1", "type: int, minimum: 1"),
        None,
        "validate",
        ["templates.yaml:6:", "'int' is not allowed", "did you mean 'integer'"],
    ),
    (
        "default outside the allowed values",
        GOOD,
        TEMPLATES.replace("default: shallow}", "default: medium}"),
        None,
        "validate",
        ["templates.yaml:", "default 'medium' is not one of shallow, deep"],
    ),
    (
        "catalogue: unknown kind",
        GOOD,
        None,
        TREATMENTS.replace("kind: home_care\n    summary: A cream", "kind: homecare\n    summary: A cream"),
        "validate",
        ["treatments.yaml:", "'homecare' is not allowed", "did you mean 'home_care'"],
    ),
    (
        "catalogue: downtime backwards",
        GOOD,
        None,
        TREATMENTS.replace("{min: 5, max: 7}", "{min: 8, max: 7}"),
        "validate",
        ["treatments.yaml:", "'min' is greater than 'max'"],
    ),
    (
        "never fires: contradictory bounds",
        GOOD.replace("{type: ice_pick}", "{type: ice_pick}}, {patient: {level: {gt: 5, lt: 3}}"),
        None,
        None,
        "lint",
        ["error: ", "rules.yaml:1:3: ok: can never fire: patient.level: no number is both gt 5 and lt 3"],
    ),
    (
        "never fires: excluded value",
        GOOD.replace(
            "{type: ice_pick}", "{type: [ice_pick, boxcar], depth: deep}}, {scar: {type: {in: [boxcar], not: boxcar}}"
        ),
        None,
        None,
        "lint",
        ["can never fire: scar.type: its constraints exclude every value"],
    ),
    (
        "never fires: derived fact nobody asserts",
        GOOD.replace("{finding: {kind: deep}}", "{finding: {kind: shallow}}"),
        None,
        None,
        "lint",
        ["rules.yaml:13:3: use-finding: can never fire: no rule asserts a finding fact that matches"],
    ),
    (
        "never fires: reacting to a conclusion nobody draws",
        GOOD
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
        GOOD.replace("      explain: fine\n", "      explain: fine\n    - avoid: alpha\n      reason: not for you\n"),
        None,
        None,
        "lint",
        ["ok: recommends and avoids alpha under the same conditions"],
    ),
    (
        "cyclic assertions",
        GOOD
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
        GOOD,
        None,
        None,
        "lint --strict",
        ["warning: ", "treatments.yaml:", "no rule recommends treatment gamma"],
    ),
]


def write_kb(tmp_path, rules, templates=None, treatments=None):
    root = tmp_path / "kb"
    (root / "rules").mkdir(parents=True)
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(templates or TEMPLATES)
    (root / "treatments.yaml").write_text(treatments or TREATMENTS)
    (root / "rules" / "rules.yaml").write_text(rules)
    return root


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 25


@pytest.mark.parametrize(
    ("what", "rules", "templates", "treatments", "command", "expected"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_kb_reports_place_and_reason(tmp_path, run_cli, what, rules, templates, treatments, command, expected):
    root = write_kb(tmp_path, rules, templates, treatments)
    run = run_cli("kb", *command.split(), "--kb", str(root))
    output = run.out + run.err
    assert run.code == 2, output
    for part in expected:
        assert part in output, f"{what}: {part!r} not in\n{output}"
    assert "Traceback" not in output


def test_good_small_kb_validates_and_lints_with_warnings_only(tmp_path, run_cli):
    root = write_kb(tmp_path, GOOD)
    assert run_cli("kb", "validate", "--kb", str(root)).code == 0
    run = run_cli("kb", "lint", "--kb", str(root))
    assert run.code == 0 and "0 error(s)" in run.out


def test_bundled_kb_validates_and_lints_clean_in_strict(run_cli):
    run = run_cli("kb", "validate")
    assert run.code == 0 and run.out.startswith("ok: ")
    run = run_cli("kb", "lint", "--strict")
    assert run.code == 0, run.out
    assert "0 error(s), 0 warning(s)" in run.out


def test_bundled_kb_tests_pass_with_full_coverage(run_cli):
    run = run_cli("kb", "test", "--coverage")
    assert run.code == 0, run.out[-2000:]
    assert "(100.0%)" in run.out
    assert run.out.rstrip().endswith(" passed, 0 failed")


def test_a_broken_copy_fails_with_a_diff(tmp_path, run_cli):
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    rules = copy / "rules" / "30-procedures.yaml"
    rules.write_text(
        rules.read_text().replace(
            "    - recommend: tca_cross\n      tier: first_line",
            "    - recommend: microneedling\n      tier: first_line",
            1,
        )
    )
    run = run_cli("kb", "test", "--kb", str(copy), "-k", "E11b*")
    assert run.code == 1
    assert "FAIL E11b-low-budget-tca-cross" in run.out
    assert "expected tca_cross to be recommended" in run.out


def test_coverage_fails_when_a_rule_is_never_fired(tmp_path, run_cli):
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    with (copy / "rules" / "50-home-care.yaml").open("a") as handle:
        handle.write(
            "\n- id: never/fired\n  title: never fired\n  when: [{patient: {age: 130}}]\n"
            "  then: [{note: old}]\n  sources: [clinical-facts.md]\n"
        )
    # 130 is out of range for age: validate catches it before tests run
    assert run_cli("kb", "test", "--kb", str(copy)).code == 2
    (copy / "rules" / "50-home-care.yaml").write_text(
        (copy / "rules" / "50-home-care.yaml").read_text().replace("{age: 130}", "{age: 119}")
    )
    run = run_cli("kb", "test", "--kb", str(copy), "--coverage")
    assert run.code == 1
    assert "never/fired" in run.out and "<- never fired" in run.out
    assert run_cli("kb", "test", "--kb", str(copy), "--coverage", "--min-coverage", "90").code == 0


def test_schema_command_and_committed_schemas_agree(run_cli):
    run = run_cli("kb", "schema", "rules")
    assert run.code == 0
    assert json.loads(run.out) == schemas.RULES
    for kind in ("kb", "templates", "treatments", "rules", "tests", "questions", "patient"):
        committed = json.loads((REPO / "docs" / "schemas" / f"{kind}.json").read_text())
        printed = json.loads(run_cli("kb", "schema", kind).out)
        assert committed == printed, f"docs/schemas/{kind}.json is stale: run `cicatrix kb schema --write docs/schemas`"


def test_bundled_files_point_editors_at_their_schema():
    for path in sorted((REPO / "kb").rglob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: {target}"


def test_list_show_graph(run_cli):
    run = run_cli("kb", "list", "--treatment", "tca_cross")
    assert run.code == 0 and "ice-pick/tca-cross" in run.out and "rolling/subcision" not in run.out
    assert run_cli("kb", "list", "--treatment", "tca_cros").code == 2
    run = run_cli("kb", "list", "--scar-type", "keloid")
    assert "profile/raised-keloid" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-cross")
    assert run.code == 0
    assert "defined at  kb/rules/30-procedures.yaml:" in run.out
    assert "fed by      profile/deep-narrow" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-crss")
    assert run.code == 2 and "did you mean 'ice-pick/tca-cross'" in run.err
    run = run_cli("kb", "graph", "--treatment", "punch_excision")
    assert (
        run.out.startswith("digraph kb {")
        and "profile_isolated_deep_ice_pick -> finding_isolated_deep_scars" in run.out
    )
    run = run_cli("kb", "graph", "--format", "mermaid")
    assert run.out.startswith("flowchart LR") and "-->|recommend|" in run.out
