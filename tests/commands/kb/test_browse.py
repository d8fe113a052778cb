"""kb list and kb show: finding rules and reading one."""

from __future__ import annotations


def test_list_and_show(run_cli):
    run = run_cli("kb", "list", "--treatment", "tca_cross")
    assert run.code == 0 and "ice-pick/tca-cross" in run.out and "rolling/subcision" not in run.out
    assert run_cli("kb", "list", "--treatment", "tca_cros").code == 2
    run = run_cli("kb", "list", "--where", "scar.type=keloid")
    assert "profile/raised-keloid" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-cross")
    assert run.code == 0
    assert "defined at  kb/rules/30-procedures.yaml:" in run.out
    assert "fed by      profile/deep-narrow" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-crss")
    assert run.code == 2 and "did you mean 'ice-pick/tca-cross'" in run.err


def then_lines(output: str) -> list[str]:
    return [line.split("then", 1)[1].strip() for line in output.splitlines() if line.startswith("  then ")]


def test_show_says_where_an_exclusion_applies_and_which_cautions_are_risks(run_cli):
    run = run_cli("kb", "show", "keloid/avoid-wounding-on-prone-sites")
    assert run.code == 0
    (line,) = then_lines(run.out)
    assert line.startswith("avoid $t [only where scar.site is $site]: You have a keloid tendency")
    (line,) = then_lines(run_cli("kb", "show", "downtime/beyond-tolerance").out)
    assert line.startswith(
        "leave_out $t [preference downtime_days; only where scar.site is any of [forehead, temples, cheeks, nose,"
        " chin, jaw, neck, null]]: It needs"
    )
    (line,) = then_lines(run_cli("kb", "show", "anticoagulant/bleeding-caution").out)
    assert line.startswith("caution $t [risk: ranks it after options without one]: On an anticoagulant")
    # a caution that only informs is shown without the mark, an unscoped avoid without a scope
    (line,) = then_lines(run_cli("kb", "show", "downtime/may-exceed-tolerance").out)
    assert line.startswith("caution $t: Downtime can last")
    (line,) = then_lines(run_cli("kb", "show", "everyone/no-lemon-juice").out)
    assert line.startswith("avoid lemon_juice: Lemon juice")


def test_show_words_literal_scopes_and_alerts(make_kb, run_cli):
    from ...conftest import MANIFEST
    from ...helpers import ALERT_RULES, rule

    rules = ALERT_RULES + rule(
        "scoped",
        "[{scar: {site: cheeks}}]",
        "- avoid: alpha\n      scope: {site: cheeks, depth: deep}\n      reason: not there\n"
        "    - leave_out: beta\n      scope: {site: null}\n      constraint: level\n      reason: slow",
    )
    root = make_kb(rules, manifest=MANIFEST + "targets: {template: scar, field: type}\n")
    run = run_cli("kb", "show", "scoped", "--kb", str(root))
    assert run.code == 0, run.err
    assert then_lines(run.out) == [
        "avoid alpha [only where scar.site is cheeks and scar.depth is deep]: not there",
        "leave_out beta [preference level; only where scar.site is null]: slow",
    ]
    assert then_lines(run_cli("kb", "show", "urgent", "--kb", str(root)).out) == ["alert stop-now [urgent]: stop now."]


def test_list_refuses_a_file_pattern_that_matches_no_rule_file(run_cli):
    run = run_cli("kb", "list", "--file", "30-procedure.yaml")
    assert run.code == 2 and run.out == ""
    assert "--file: no rule file matches '30-procedure.yaml'" in run.err
    assert "did you mean '30-procedures.yaml'?" in run.err
    last = run_cli("kb", "list", "--file", "*combinations*").out.splitlines()[-1]
    assert last.endswith(" rules") and not last.startswith("0 of ")
