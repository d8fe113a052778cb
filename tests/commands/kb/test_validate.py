"""kb validate: a small knowledge base broken in one way per case; the command
names the file, the line and what is wrong, with exit status 2 and never a traceback."""

from __future__ import annotations

import pytest

from ...conftest import TEMPLATES, TREATMENTS
from ...helpers import GOOD_RULES, check_broken_kb, located_files, write_kb

# (what breaks, rules text, templates text, treatments text, command, expected parts)
CORPUS = [
    ("bad YAML", GOOD_RULES + "- id: [\n", None, None, "validate", ["rules.yaml:19:", "not valid YAML"]),
    (
        "tab indentation",
        GOOD_RULES.replace("  title: ok", "\ttitle: ok"),
        None,
        None,
        "validate",
        ["rules.yaml:2:", "not valid YAML"],
    ),
    (
        "unknown rule key",
        GOOD_RULES.replace("  title: ok\n", "  title: ok\n  salince: 3\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:3", "unknown key 'salince'", "did you mean 'salience'"],
    ),
    (
        "wrong type of salience",
        GOOD_RULES.replace("  title: ok\n", "  title: ok\n  salience: high\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:13", "expected a whole number, got text 'high'"],
    ),
    (
        "unknown treatment id",
        GOOD_RULES.replace("recommend: alpha", "recommend: alfa"),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "unknown treatment id 'alfa'", "did you mean 'alpha'"],
    ),
    (
        "typo'd value",
        GOOD_RULES.replace("type: ice_pick", "type: icepick"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "'icepick' can never match scar.type", "did you mean 'ice_pick'"],
    ),
    (
        "unknown template",
        GOOD_RULES.replace("{scar: {type", "{scars: {type"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "unknown template 'scars'", "did you mean 'scar'"],
    ),
    (
        "unknown field",
        GOOD_RULES.replace("{scar: {type", "{scar: {kind"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "template 'scar' has no field 'kind'"],
    ),
    (
        "duplicate rule id",
        GOOD_RULES.replace("id: derive", "id: ok"),
        None,
        None,
        "validate",
        ["rules.yaml:8:7:", "duplicate rule id 'ok'"],
    ),
    (
        "duplicate key",
        GOOD_RULES.replace("  title: ok\n", "  title: ok\n  title: again\n"),
        None,
        None,
        "validate",
        ["rules.yaml:3:3", "duplicate key 'title'"],
    ),
    (
        "missing sources",
        GOOD_RULES.replace("  sources: [src.txt]\n- id: derive", "- id: derive"),
        None,
        None,
        "validate",
        ["rules.yaml:1:", "missing required key 'sources'"],
    ),
    (
        "unknown source",
        GOOD_RULES.replace("sources: [src.txt]\n- id: derive", "sources: [sorce.txt]\n- id: derive"),
        None,
        None,
        "validate",
        ["rules.yaml:7:13:", "unknown source 'sorce.txt'", "did you mean 'src.txt'"],
    ),
    (
        "unbound variable in text",
        GOOD_RULES.replace("explain: fine", "explain: fine on the {$site}"),
        None,
        None,
        "validate",
        ["rules.yaml:6:", "{$site} is not bound"],
    ),
    (
        "no action",
        GOOD_RULES.replace("    - recommend: alpha\n      explain: fine\n", "    - explain: fine\n"),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "expected one of the keys: recommend, avoid, combine, assert, caution, note"],
    ),
    (
        "action missing its text",
        GOOD_RULES.replace("      explain: fine\n", ""),
        None,
        None,
        "validate",
        ["rules.yaml:5:", "missing required key 'explain'"],
    ),
    (
        "unknown operator",
        GOOD_RULES.replace("{type: ice_pick}", "{type: {one_of: [ice_pick]}}"),
        None,
        None,
        "validate",
        ["rules.yaml:3:", "unknown key 'one_of'"],
    ),
    (
        "comparison on text",
        GOOD_RULES.replace("{type: ice_pick}", "{type: {gt: 3}}"),
        None,
        None,
        "validate",
        ["'gt' compares numbers, but scar.type is a string field"],
    ),
    (
        "assert of an input template",
        GOOD_RULES.replace("{finding: {kind: deep, site: $s}}", "{scar: {type: boxcar}}"),
        None,
        None,
        "validate",
        ["rules may only assert derived facts"],
    ),
    (
        "assert of an unknown value",
        GOOD_RULES.replace("{finding: {kind: deep, site: $s}}", "{finding: {kind: deeep}}"),
        None,
        None,
        "validate",
        ["'deeep' can never match finding.kind", "did you mean 'deep'"],
    ),
    (
        "unknown field type in templates",
        GOOD_RULES,
        TEMPLATES.replace("type: integer, minimum: 1", "type: int, minimum: 1"),
        None,
        "validate",
        ["templates.yaml:6:", "'int' is not allowed", "did you mean 'integer'"],
    ),
    (
        "default outside the allowed values",
        GOOD_RULES,
        TEMPLATES.replace("default: shallow}", "default: medium}"),
        None,
        "validate",
        ["templates.yaml:", "default 'medium' is not one of shallow, deep"],
    ),
    (
        "catalogue: unknown kind",
        GOOD_RULES,
        None,
        TREATMENTS.replace("kind: home_care\n    summary: A cream", "kind: homecare\n    summary: A cream"),
        "validate",
        ["treatments.yaml:", "'homecare' is not allowed", "did you mean 'home_care'"],
    ),
    (
        "catalogue: downtime backwards",
        GOOD_RULES,
        None,
        TREATMENTS.replace("{min: 5, max: 7}", "{min: 8, max: 7}"),
        "validate",
        ["treatments.yaml:", "'min' is greater than 'max'"],
    ),
]


@pytest.mark.parametrize(
    ("what", "rules", "templates", "treatments", "command", "expected"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_kb_reports_place_and_reason(tmp_path, run_cli, what, rules, templates, treatments, command, expected):
    check_broken_kb(tmp_path, run_cli, what, rules, templates, treatments, command, expected)


def test_every_problem_is_located_in_the_file_that_is_broken(tmp_path, run_cli):
    for n, (what, rules, templates, treatments, command, _) in enumerate(CORPUS):
        root = write_kb(tmp_path / str(n), rules, templates, treatments)
        run = run_cli("kb", *command.split(), "--kb", str(root))
        assert run.code == 2 and run.out == "", what
        broken = "kb/templates.yaml" if templates else "kb/treatments.yaml" if treatments else "kb/rules/rules.yaml"
        assert located_files(run.err, root)[0] == broken, f"{what}:\n{run.err}"


def test_a_good_kb_validates(tmp_path, run_cli):
    run = run_cli("kb", "validate", "--kb", str(write_kb(tmp_path, GOOD_RULES)))
    assert run.code == 0 and run.out.startswith("ok: ") and run.err == ""


def test_the_patients_of_the_test_cases_are_checked(tmp_path, run_cli):
    root = write_kb(tmp_path, GOOD_RULES)
    (root / "tests").mkdir()
    (root / "tests" / "cases.yaml").write_text(
        "cases:\n"
        "  - id: C1\n"
        "    patient:\n"
        "      scars: [{type: rolling, depth: shalow}]\n"
        "    expect: {recommend: [alpha]}\n",
        encoding="utf-8",
    )
    run = run_cli("kb", "validate", "--kb", str(root))
    assert run.code == 2 and "Traceback" not in run.err
    assert "kb/tests/cases.yaml:4:" in run.err and "'shalow' is not allowed" in run.err


def test_bounds_on_knowledge_base_files(tmp_path, run_cli):
    root = write_kb(tmp_path, GOOD_RULES)
    (root / "rules" / "rules.yaml").write_bytes(b"# " + b"x" * (9 * 1024 * 1024))
    run = run_cli("kb", "validate", "--kb", str(root))
    assert run.code == 2 and "kb/rules/rules.yaml: larger than the 8 MB limit for one file" in run.err
    (root / "rules" / "rules.yaml").write_text(
        GOOD_RULES.replace("  title: ok\n", "  title: ok\n  salience: .inf\n"), encoding="utf-8"
    )
    run = run_cli("kb", "validate", "--kb", str(root))
    assert run.code == 2 and "expected a finite number, got .inf" in run.err
