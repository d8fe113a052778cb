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
    assert line.startswith(
        "avoid $t (each of 8: punch_excision, punch_elevation, punch_graft, subcision and 4 more) "
        "[only where scar.site is $site]: You have a keloid tendency"
    )
    (line,) = then_lines(run_cli("kb", "show", "downtime/beyond-tolerance").out)
    assert line.startswith("leave_out $t (each of 21: ")
    assert line.split(") ", 1)[1].startswith(
        "[preference downtime_days; only where scar.site is any of [forehead, temples, cheeks, nose,"
        " chin, jaw, neck, null]]: It needs"
    )
    (line,) = then_lines(run_cli("kb", "show", "anticoagulant/bleeding-caution").out)
    assert line.startswith("caution $t (each of 9: ")
    assert line.split(") ", 1)[1].startswith("[risk: ranks it after options without one]: On an anticoagulant")
    # a caution that only informs is shown without the mark, an unscoped avoid without a scope
    (line,) = then_lines(run_cli("kb", "show", "downtime/may-exceed-tolerance").out)
    assert line.startswith("caution $t (each of 21: ") and line.split("): ", 1)[1].startswith("Downtime can last")
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


# --- rules that act on every treatment with a tag --------------------------------------------

BY_TAG = """\
- id: by-tag
  title: avoid every elective entry
  when: [{patient: {pregnant: true}}, {treatment: {id: $t, tags: {contains: elective}}}]
  then: [{avoid: $t, reason: not now}]
  sources: [src.txt]
- id: home-care
  title: every home-care entry
  when: [{treatment: {id: $t, kind: home_care}}, {patient: {level: {gte: 5}}}]
  then: [{caution: $t, text: gently}]
  sources: [src.txt]
- id: one-entry
  title: the unsafe one
  when: [{treatment: {id: $t, kind: unsafe}}]
  then: [{avoid: $t, reason: never}]
  sources: [src.txt]
- id: recommended-only
  title: whatever is recommended
  when: [{recommend: {treatment: $t}}]
  then: [{caution: $t, text: anything}]
  sources: [src.txt]
- id: literal
  title: gamma by name
  when: [{patient: {level: {gte: 2}}}]
  then: [{recommend: gamma, explain: g}, {combine: [alpha, beta], rationale: both}]
  sources: [src.txt]
"""


def listed(run) -> list[str]:
    return [line.split()[0] for line in run.out.splitlines()[:-1]]


def test_list_by_treatment_includes_rules_that_reach_it_by_a_tag(make_kb, run_cli):
    root = str(make_kb(BY_TAG))

    def rules_about(tid: str) -> list[str]:
        return listed(run_cli("kb", "list", "--treatment", tid, "--kb", root))

    # alpha carries the tag (and is part of a combination); gamma and delta do not, but are home care;
    # a variable only a recommendation binds could be any entry
    assert rules_about("alpha") == ["by-tag", "recommended-only", "literal"]
    assert rules_about("gamma") == ["home-care", "recommended-only", "literal"]
    assert rules_about("delta") == ["home-care", "recommended-only"]
    assert rules_about("never") == ["one-entry", "recommended-only"]


def test_list_by_treatment_in_the_bundled_kb_matches_the_tags(kb, run_cli):
    # the pregnancy rule avoids every treatment tagged defer_in_pregnancy: tca_cross, not sunscreen
    assert "defer_in_pregnancy" in kb.treatments["tca_cross"].tags
    assert "defer_in_pregnancy" not in kb.treatments["sunscreen"].tags
    assert "pregnancy/defer-procedures" in listed(run_cli("kb", "list", "--treatment", "tca_cross"))
    assert "pregnancy/defer-procedures" not in listed(run_cli("kb", "list", "--treatment", "sunscreen"))


def test_list_by_treatment_lists_the_rules_the_graph_joins_to_it(kb, run_cli):
    from cicatrix.engine.authoring.rulegraph import PART_OF, build, rule_key, treatment_key

    picture = build(kb)
    rules = {rule_key(r.id) for r in kb.rules}
    for tid in ("tca_cross", "sunscreen", "dermabrasion", "retinoid"):
        me = treatment_key(tid)
        wholes = {e.target for e in picture.edges if e.source == me and e.label == PART_OF}
        drawn = {e.source for e in picture.edges if e.source in rules and (e.target == me or e.target in wholes)}
        assert {rule_key(r) for r in listed(run_cli("kb", "list", "--treatment", tid))} == drawn, tid


def test_show_names_the_treatments_a_variable_target_stands_for(make_kb, run_cli):
    root = str(make_kb(BY_TAG))
    assert then_lines(run_cli("kb", "show", "by-tag", "--kb", root).out) == ["avoid $t (each of: alpha, beta): not now"]
    assert then_lines(run_cli("kb", "show", "home-care", "--kb", root).out) == [
        "caution $t (each of: gamma, delta): gently"
    ]
    assert then_lines(run_cli("kb", "show", "one-entry", "--kb", root).out) == ["avoid $t (only never): never"]
    assert then_lines(run_cli("kb", "show", "recommended-only", "--kb", root).out) == [
        "caution $t (each of: alpha, beta, gamma, delta, never): anything"
    ]
    # a long list is cut short
    (line,) = then_lines(run_cli("kb", "show", "pregnancy/defer-procedures").out)
    assert line.startswith(
        "avoid $t (each of 20: tca_cross, punch_excision, punch_elevation, punch_graft and 16 more):"
    )
