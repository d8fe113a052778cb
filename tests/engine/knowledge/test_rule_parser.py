"""engine/knowledge/rule_parser.py: rule files (already checked against their
schema) become Rule objects with every reference resolved, or located problems
with a suggestion: unknown names and values, list and comparison misuse,
unbound variables, duplicate ids, unknown sources, bad asserts, and values that
could never fit where a variable puts them (true is not 1)."""

from __future__ import annotations

import textwrap

import pytest

from cicatrix.engine.common.errors import Problem
from cicatrix.engine.documents import validate, yamlio
from cicatrix.engine.knowledge import schemas
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import Test as Constraint
from cicatrix.engine.knowledge.model import Var, Where
from cicatrix.engine.knowledge.rule_parser import is_var, parse_rules

from ...conftest import MANIFEST, ONE_RULE, TEMPLATES, TREATMENTS
from ...helpers import rule

# The test templates, plus a derived template with a field of every kind for asserts.
DERIVED = (
    TEMPLATES
    + """\
  flag:
    fields:
      tag: {type: string, allowed: [a, b], required: true}
      n: {type: integer, nullable: true, default: null}
      x: {type: number, nullable: true, default: null}
      set: {type: boolean, nullable: true, default: null}
      word: {type: string, default: ""}
      place: {type: string, allowed: [cheeks, forehead], default: cheeks}
      depth: {type: string, allowed: [shallow, deep, none], default: none}
      items: {type: list, allowed: [eczema, rosacea, acne], default: []}
      maybe: {type: list, allowed: [eczema], nullable: true, default: []}
"""
)


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory):
    """The parts of a small knowledge base the parser resolves names against."""
    root = tmp_path_factory.mktemp("parser") / "kb"
    (root / "rules").mkdir(parents=True)
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(DERIVED)
    (root / "treatments.yaml").write_text(TREATMENTS)
    (root / "rules" / "rules.yaml").write_text(ONE_RULE)
    return load(root)


def parse(small_kb, *texts: str, schema: bool = True):
    """Parse rule files as the loader does (after their schema check); return (rules, problems)."""
    docs = []
    for i, text in enumerate(texts):
        doc = yamlio.parse(textwrap.dedent(text), "rules.yaml" if len(texts) == 1 else f"r{i}.yaml")
        if schema:
            assert validate.check(doc, schemas.RULES) == [], "the test's rule file must fit the schema"
        docs.append(doc)
    problems: list[Problem] = []
    rules = parse_rules(docs, small_kb.templates, small_kb.treatments, small_kb.sources, problems)
    return rules, problems


def problems_of(small_kb, *texts: str, schema: bool = True) -> list[str]:
    rules, problems = parse(small_kb, *texts, schema=schema)
    assert problems, "expected the rule file to be refused"
    assert rules == (), "a rule with a problem is left out"
    return [p.render() for p in problems]


def one_problem(small_kb, text: str, schema: bool = True) -> str:
    (problem,) = problems_of(small_kb, text, schema=schema)
    return problem


def parsed(small_kb, text: str):
    rules, problems = parse(small_kb, text)
    assert problems == [], [p.render() for p in problems]
    (only,) = rules
    return only


# --- a rule that parses ------------------------------------------------------------------


def test_a_rule_becomes_a_rule_object(small_kb):
    text = rule(
        "group/first-rule",
        "[{scar: {type: ice_pick, site: $s}}]",
        '- recommend: alpha\n      explain: "fine on\n        the {$s}"\n'
        "      tier: adjunct\n      targets: [$s, cheeks]",
        "salience: 7",
    ).replace("title: group/first-rule", "title: '  A   title  '")
    r = parsed(small_kb, text)
    assert (r.id, r.title, r.salience, r.sources, r.index) == ("group/first-rule", "A title", 7, ("src.txt",), 0)
    assert r.where == Where("rules.yaml", 2, 3)
    (pattern,) = r.when
    assert (pattern.template, pattern.negated, pattern.where) == ("scar", False, Where("rules.yaml", 5, 10))
    assert [(c.field, c.tests) for c in pattern.constraints] == [
        ("type", (Constraint("eq", "ice_pick"),)),
        ("site", (Constraint("eq", Var("s")),)),
    ]
    (action,) = r.then
    assert (action.kind, action.target, action.tier) == ("recommend", "alpha", "adjunct")
    assert action.text == "fine on the {$s}"  # white space folded, the placeholder kept for the session
    assert action.targets == (Var("s"), "cheeks")
    assert action.where == Where("rules.yaml", 7, 7)


def test_each_constraint_form_becomes_its_test(small_kb):
    r = parsed(
        small_kb,
        rule(
            "r",
            "[{scar: {type: [ice_pick, boxcar], depth: {not: shallow}, site: {bind: $s}}},"
            " {patient: {level: {lte: 3, gt: 1}, tolerance: {in: [1, 2.5]}, conditions: {contains: eczema}}},"
            " {treatment: {downtime_min: {gte: $l}}}, {patient: {tolerance: $l}}]",
        ),
    )
    tests = [(p.template, c.field, c.tests) for p in r.when for c in p.constraints]
    assert tests == [
        ("scar", "type", (Constraint("any", ("ice_pick", "boxcar")),)),
        ("scar", "depth", (Constraint("not", ("shallow",)),)),
        ("scar", "site", (Constraint("bind", Var("s")),)),
        ("patient", "level", (Constraint("lte", 3), Constraint("gt", 1))),
        ("patient", "tolerance", (Constraint("any", (1, 2.5)),)),
        ("patient", "conditions", (Constraint("contains", "eczema"),)),
        ("treatment", "downtime_min", (Constraint("gte", Var("l")),)),
        ("patient", "tolerance", (Constraint("eq", Var("l")),)),
    ]


def test_unless_patterns_are_negated(small_kb):
    r = parsed(small_kb, rule("r", "[{scar: {site: $s}}]", extra="unless: [{finding: {site: $s}}]"))
    (pattern,) = r.unless
    assert pattern.negated and pattern.template == "finding"
    assert pattern.constraints[0].tests == (Constraint("eq", Var("s")),)


def test_null_matches_a_nullable_field(small_kb):
    r = parsed(small_kb, rule("r", "[{patient: {age: null}}]"))
    assert r.when[0].constraints[0].tests == (Constraint("eq", None),)


def test_actions_of_every_kind(small_kb):
    r = parsed(
        small_kb,
        rule(
            "r",
            "[{treatment: {id: $t, kind: procedure}}]",
            "- avoid: never\n      reason: unsafe\n"
            "    - caution: $t\n      text: careful with {$t}\n"
            "    - combine: [alpha, beta]\n      rationale: ' two  words '\n      sequence: alpha first\n"
            "    - assert: {finding: {kind: deep}}\n"
            "    - note: a note",
        ),
    )
    avoid, caution, combine, assertion, note = r.then
    assert (avoid.kind, avoid.target, avoid.text) == ("avoid", "never", "unsafe")  # an unsafe entry can be avoided
    assert (caution.kind, caution.target, caution.text) == ("caution", Var("t"), "careful with {$t}")
    assert (combine.components, combine.text, combine.sequence) == (("alpha", "beta"), "two words", "alpha first")
    assert combine.tier == schemas.ACTION_DEFAULTS["tier"]
    assert (assertion.template, assertion.values) == ("finding", {"kind": "deep", "site": None})  # default filled in
    assert (note.kind, note.text) == ("note", "a note")


def test_a_treatment_variable_bound_from_the_catalogue_can_be_recommended(small_kb):
    r = parsed(small_kb, rule("r", "[{treatment: {id: $t}}]", "- recommend: $t\n      explain: try {$t}"))
    assert r.then[0].target == Var("t")


def test_rules_are_numbered_in_file_order_across_files(small_kb):
    rules, problems = parse(small_kb, rule("a", "[]") + rule("b", "[{scra: {}}]") + rule("c", "[]"), rule("d", "[]"))
    assert len(problems) == 1
    assert [(r.id, r.index) for r in rules] == [("a", 0), ("c", 2), ("d", 3)]
    assert [r.where.file for r in rules] == ["r0.yaml", "r0.yaml", "r1.yaml"]


def test_is_var():
    assert is_var("$x") and is_var("$")
    assert not is_var("x$") and not is_var(3) and not is_var(None)


# --- names that do not exist ----------------------------------------------------------------


def test_unknown_template_is_located_at_its_name_with_a_suggestion(small_kb):
    assert one_problem(small_kb, rule("r", "[{scra: {type: ice_pick}}]")) == (
        "rules.yaml:5:11: [0].when[0].scra: unknown template 'scra'; known: patient, scar, finding, flag,"
        " treatment, recommend, avoid; did you mean 'scar'?"
    )


def test_unknown_field_lists_the_fields(small_kb):
    assert one_problem(small_kb, rule("r", "[{scar: {tpye: ice_pick}}]")) == (
        "rules.yaml:5:18: [0].when[0].scar.tpye: template 'scar' has no field 'tpye'; its fields: type, site, depth;"
        " did you mean 'type'?"
    )


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "[{scar: {type: icepick}}]",
            "5:24: [0].when[0].scar.type: 'icepick' can never match scar.type, which is one of ice_pick, boxcar,"
            " rolling; did you mean 'ice_pick'?",
        ),
        # a nullable field says so
        (
            "[{scar: {site: cheek}}]",
            "[0].when[0].scar.site: 'cheek' can never match scar.site, which is one of cheeks, forehead or null;"
            " did you mean 'cheeks'?",
        ),
        ("[{scar: {type: [ice_pick, icepick]}}]", "5:35: [0].when[0].scar.type[1]: 'icepick' can never match"),
        ("[{scar: {depth: {in: [deep, deeep]}}}]", "5:37: [0].when[0].scar.depth.in[1]: 'deeep' can never match"),
        ("[{scar: {depth: {not: medium}}}]", "[0].when[0].scar.depth.not[0]: 'medium' can never match"),
        ("[{patient: {level: 9}}]", "9 can never match patient.level, which is an integer from 1 to 6"),
        ("[{patient: {level: null}}]", "can never match patient.level, which is an integer from 1 to 6"),
        ("[{patient: {pregnant: 1}}]", "1 can never match patient.pregnant, which is a boolean"),
        ("[{patient: {age: true}}]", "true can never match patient.age, which is an integer from 0 to 120 or null"),
        (
            "[{patient: {conditions: {contains: eczma}}}]",
            "[0].when[0].patient.conditions.contains: 'eczma' can never match patient.conditions, which is one of"
            " eczema, rosacea; did you mean 'eczema'?",
        ),
    ],
)
def test_a_value_that_can_never_match(small_kb, when, expected):
    assert expected in one_problem(small_kb, rule("r", when))


def test_every_wrong_value_of_a_list_is_reported(small_kb):
    found = problems_of(small_kb, rule("r", "[{scar: {type: [icepick, boxcr]}}]"))
    assert [p.split(": ", 2)[1] for p in found] == ["[0].when[0].scar.type[0]", "[0].when[0].scar.type[1]"]


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("- recommend: alpah\n      explain: x", "7:18: [0].then[0].recommend: unknown treatment id 'alpah';"),
        ("- avoid: bta\n      reason: x", "[0].then[0].avoid: unknown treatment id 'bta'; did you mean 'beta'?"),
        ("- combine: [alpha, detla]\n      rationale: x", "[0].then[0].combine[1]: unknown treatment id 'detla'"),
        (
            "- recommend: never\n      explain: x",
            "[0].then[0].recommend: 'never' is catalogued as unsafe: it can only be avoided",
        ),
        ("- combine: [alpha, never]\n      rationale: x", "[0].then[0].combine[1]: 'never' is catalogued as unsafe"),
    ],
)
def test_treatment_references(small_kb, then, expected):
    assert expected in one_problem(small_kb, rule("r", "[]", then))


# --- lists, comparisons -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "[{patient: {conditions: eczema}}]",
            "5:33: [0].when[0].patient.conditions: patient.conditions is a list field:"
            " match one of its items with {contains: value}",
        ),
        ("[{patient: {conditions: [eczema]}}]", "patient.conditions is a list field: match one of its items with"),
        (
            "[{patient: {conditions: {in: [eczema]}}}]",
            "[0].when[0].patient.conditions.in: patient.conditions is a list field: use {contains: value}",
        ),
        ("[{patient: {conditions: {not: eczema}}}]", "patient.conditions is a list field: use {contains: value}"),
        (
            "[{scar: {type: {contains: ice_pick}}}]",
            "[0].when[0].scar.type.contains: 'contains' applies to list fields, but scar.type is a string field",
        ),
        ("[{scar: {type: {gt: 3}}}]", "[0].when[0].scar.type.gt: 'gt' compares numbers, but scar.type is a string"),
        ("[{patient: {pregnant: {lte: 1}}}]", "'lte' compares numbers, but patient.pregnant is a boolean field"),
        ("[{patient: {conditions: {lt: 1}}}]", "'lt' compares numbers, but patient.conditions is a list field"),
    ],
)
def test_list_and_comparison_misuse(small_kb, when, expected):
    assert expected in one_problem(small_kb, rule("r", when))


# --- variables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "then", "extra", "expected"),
    [
        (
            "[{patient: {level: {gt: $x}}}]",
            "- note: x",
            "",
            "[0].when[0].patient.level: $x is compared but never bound by a 'when' pattern",
        ),
        (
            "[{patient: {level: $l}}]",
            "- note: x",
            "unless: [{patient: {tolerance: {gt: $l}}}]",
            "[0].unless[0].patient.tolerance: in an 'unless' pattern compare with a number, not $l:"
            " variables there can only be matched for equality",
        ),
        (
            "[{scar: {type: ice_pick}}]",
            "- note: x",
            "unless: [{finding: {site: $s}}]",
            "[0].unless[0].finding.site: $s is first used in an 'unless' pattern; bind it in 'when'",
        ),
        (
            "[{scar: {site: $site}}]",
            "- note: on the {$sit}",
            "",
            "[0].then[0].note: {$sit} is not bound by any 'when' pattern; did you mean 'site'?",
        ),
        (
            "[]",
            "- combine: [alpha, beta]\n      rationale: x\n      sequence: first {$x}",
            "",
            "[0].then[0].sequence: {$x} is not bound by any 'when' pattern",
        ),
        (
            "[{scar: {site: $site}}]",
            "- recommend: $sit\n      explain: x",
            "",
            "[0].then[0].recommend: $sit is not bound by any 'when' pattern; did you mean 'site'?",
        ),
        (
            "[]",
            "- recommend: alpha\n      explain: x\n      targets: [cheeks, $t]",
            "",
            "[0].then[0].targets[1]: $t is not bound by any 'when' pattern",
        ),
        (
            "[{scar: {site: $site}}]",
            "- caution: $site\n      text: x",
            "",
            "[0].then[0].caution: $site is bound to a field whose values are not treatment ids;"
            " bind it from treatment.id, recommend.treatment or avoid.treatment",
        ),
    ],
)
def test_variables(small_kb, when, then, extra, expected):
    assert expected in one_problem(small_kb, rule("r", when, then, extra))


def test_a_variable_bound_in_when_may_be_used_in_unless(small_kb):
    parsed(small_kb, rule("r", "[{scar: {site: $s}}]", extra="unless: [{finding: {site: $s}}]"))


def test_combination_components_are_named_by_id_not_by_variable(small_kb):
    # the schema refuses this first; the parser does not rely on it
    text = rule("r", "[{treatment: {id: $t}}]", "- combine: [$t, alpha]\n      rationale: x")
    assert "[0].then[0].combine[0]: name combination components by id, not by variable" in one_problem(
        small_kb, text, schema=False
    )


# --- ids and sources ----------------------------------------------------------------------------


def test_duplicate_rule_id_names_the_first(small_kb):
    rules, problems = parse(small_kb, rule("r", "[]") + rule("r", "[]"))
    assert [r.id for r in rules] == ["r"]  # the first is kept
    assert [p.render() for p in problems] == [
        "rules.yaml:10:7: [1].id: duplicate rule id 'r' (first defined at rules.yaml:2)"
    ]


def test_duplicate_rule_id_across_files(small_kb):
    rules, problems = parse(small_kb, rule("r", "[]"), rule("s", "[]") + rule("r", "[]"))
    assert [r.id for r in rules] == ["r", "s"]
    assert [p.render() for p in problems] == [
        "r1.yaml:10:7: [1].id: duplicate rule id 'r' (first defined at r0.yaml:2)"
    ]


def test_unknown_source_with_a_suggestion(small_kb):
    text = rule("r", "[]").replace("sources: [src.txt]", "sources: [src.txt#part, scr.txt#sec]")
    assert one_problem(small_kb, text) == (
        "rules.yaml:8:27: [0].sources[1]: unknown source 'scr.txt'; declare it under 'sources' in kb.yaml;"
        " did you mean 'src.txt'?"
    )


# --- asserts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        (
            "- assert: {patient: {level: 2}}",
            "7:16: [0].then[0].assert.patient: template 'patient' is read from the patient file;"
            " rules may only assert derived facts",
        ),
        (
            "- assert: {recommend: {treatment: alpha}}",
            "[0].then[0].assert.recommend: template 'recommend' is built in; rules may only assert derived facts",
        ),
        ("- assert: {flga: {tag: a}}", "7:16: [0].then[0].assert.flga: unknown template 'flga'; did you mean 'flag'?"),
        ("- assert: {flag: {n: 1}}", "7:22: [0].then[0].assert.flag: missing field 'tag' (it has no default)"),
        ("- assert: {flag: {tag: c}}", "[0].then[0].assert.flag.tag: 'c' can never match flag.tag"),
    ],
)
def test_assert(small_kb, then, expected):
    assert expected in one_problem(small_kb, rule("r", "[]", then))


def test_assert_unknown_field(small_kb):
    found = problems_of(small_kb, rule("r", "[]", "- assert: {flag: {tag: a, nn: 1}}"))
    assert found == [
        "rules.yaml:7:31: [0].then[0].assert.flag.nn: template 'flag' has no field 'nn'; did you mean 'n'?"
    ]


def test_assert_fills_every_default_and_keeps_variables(small_kb):
    r = parsed(small_kb, rule("r", "[{patient: {age: $a}}]", "- assert: {flag: {tag: b, n: $a}}"))
    assert r.then[0].values == {
        "tag": "b",
        "n": Var("a"),
        "x": None,
        "set": None,
        "word": "",
        "place": "cheeks",
        "depth": "none",
        "items": [],
        "maybe": [],
    }


# --- types: a variable's values must fit where they go (true is not 1) ----------------------------


@pytest.mark.parametrize(
    ("when", "stored", "why"),
    [
        ("{patient: {pregnant: $v}}", "n: $v", "it holds a boolean, but the field holds an integer"),
        ("{patient: {age: $v}}", "set: $v", "it holds an integer from 0 to 120, but the field holds a boolean"),
        ("{patient: {tolerance: $v}}", "n: $v", "it holds a number from 0, but the field holds an integer"),
        ("{scar: {depth: $v}}", "n: $v", "it holds one of shallow, deep, but the field holds an integer"),
        ("{patient: {conditions: $v}}", "word: $v", "it holds one of eczema, rosacea, but the field holds a string"),
        # allowed values: the variable's must be among the field's
        ("{scar: {type: $v}}", "tag: $v", "it may hold boxcar, ice_pick, rolling, which the field does not allow"),
        ("{scar: {depth: $v}}", "place: $v", "it may hold deep, shallow, which the field does not allow"),
        # nullable into a field that is not
        ("{scar: {site: $v}}", "place: $v", "it may be null (not given), and the field is not nullable"),
        (
            "{patient: {age: $v}}",
            "tag: a, x: 1, n: 1, word: $v",
            "it holds an integer from 0 to 120, but the field holds a string",
        ),
    ],
)
def test_a_variable_cannot_be_stored_where_its_values_do_not_fit(small_kb, when, stored, why):
    tag = "" if "tag:" in stored else "tag: a, "
    text = rule("r", f"[{when}]", f"- assert: {{flag: {{{tag}{stored}}}}}")
    problem = one_problem(small_kb, text)
    assert "$v cannot be stored in flag." in problem and problem.endswith(why)


@pytest.mark.parametrize(
    ("when", "stored"),
    [
        ("{patient: {age: $v}}", "x: $v"),  # an integer is a number
        ("{patient: {age: $v}}", "n: $v"),
        ("{scar: {depth: $v}}", "depth: $v"),  # shallow, deep are among shallow, deep, none
        ("{scar: {site: $v}}", "word: word"),
        ("{patient: {conditions: $v}}", "items: $v"),
        ("{flag: {maybe: $v}}", "items: $v"),  # a list is never null, nullable or not
        ("{patient: {pregnant: $v}}", "set: $v"),
    ],
)
def test_a_variable_that_fits_is_stored(small_kb, when, stored):
    parsed(small_kb, rule("r", f"[{when}]", f"- assert: {{flag: {{tag: a, {stored}}}}}"))


def test_free_text_cannot_be_stored_in_a_field_with_allowed_values(small_kb):
    text = rule("r", "[{flag: {word: $w}}]", "- assert: {flag: {tag: $w}}")
    assert one_problem(small_kb, text).endswith("it may hold any text, which the field does not allow")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "[{patient: {age: $n}}, {flag: {set: $n}}]",
            "5:45: [0].when[1].flag.set: $n joins an integer from 0 to 120 with a field that holds a boolean:"
            " they never match",
        ),
        ("[{patient: {pregnant: $p}}, {flag: {n: $p}}]", "$p joins a boolean with a field that holds an integer"),
        (
            "[{patient: {pregnant: $p}}, {patient: {age: {gt: $p}}}]",
            "[0].when[1].patient.age: $p is compared as a number but holds a boolean",
        ),
        (
            "[{scar: {site: $s}}]",
            "[0].unless[0].patient.level: $s is compared as a number but holds one of cheeks, forehead",
        ),
    ],
)
def test_a_variable_cannot_join_values_of_another_type(small_kb, when, expected):
    extra = "unless: [{patient: {level: {gt: $s}}}]" if when == "[{scar: {site: $s}}]" else ""
    assert expected in one_problem(small_kb, rule("r", when, extra=extra))


@pytest.mark.parametrize(
    "when",
    [
        "[{patient: {age: $n}}, {patient: {tolerance: $n}}]",  # integer and number join
        "[{patient: {tolerance: $t}}, {treatment: {downtime_min: {gt: $t}}}]",
        "[{scar: {site: $s}}, {finding: {site: $s}}]",
        "[{patient: {pregnant: $p}}, {flag: {set: $p}}]",
    ],
)
def test_variables_of_one_kind_join(small_kb, when):
    parsed(small_kb, rule("r", when))


def test_all_problems_of_a_file_in_one_pass(small_kb):
    text = rule("a", "[{scar: {type: icepick}}]", "- recommend: alpah\n      explain: x") + rule("b", "[{scra: {}}]")
    found = problems_of(small_kb, text)
    assert len(found) == 3
    assert [p.split(":")[1] for p in found] == ["5", "7", "14"]


def test_an_alert_is_parsed_with_its_severity(make_kb):
    from cicatrix.engine.knowledge.loader import load

    from ...helpers import ALERT_RULES

    kb = load(make_kb(ALERT_RULES))
    (action,) = kb.rule("warn").then
    assert (action.kind, action.target, action.severity) == ("alert", "check-site", "warning")
    assert action.text == "look at the {$s} first."


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        (
            "- alert: stop-now\n      severity: soon\n      text: x",
            "'soon' is not allowed; expected one of: urgent, warning",
        ),
        ("- alert: stop-now\n      severity: urgent", "missing required key 'text'"),
        ("- alert: Stop\n      severity: urgent\n      text: x", "is not a lower-case id such as 'act-now'"),
        ("- alert: stop-now\n      severity: urgent\n      text: on the {$q}", "{$q} is not bound"),
    ],
)
def test_a_malformed_alert_is_located(make_kb, then, expected):
    from cicatrix.engine.common.errors import CicatrixError
    from cicatrix.engine.knowledge.loader import load

    from ...helpers import rule

    with pytest.raises(CicatrixError) as caught:
        load(make_kb(rule("a", "[{scar: {site: $s}}]", then)))
    assert expected in caught.value.render() and "rules.yaml:" in caught.value.render()


def test_leave_out_names_its_preference(make_kb):
    from cicatrix.engine.common.errors import CicatrixError
    from cicatrix.engine.knowledge.loader import load

    from ...helpers import rule

    kb = load(
        make_kb(rule("p", "[{patient: {level: 3}}]", "- leave_out: alpha\n      constraint: level\n      reason: slow"))
    )
    (action,) = kb.rule("p").then
    assert (action.kind, action.target, action.constraint, action.text) == ("leave_out", "alpha", "level", "slow")
    with pytest.raises(CicatrixError, match="missing required key 'constraint'"):
        load(make_kb(rule("q", "[{patient: {level: 3}}]", "- leave_out: alpha\n      reason: slow"), name="kb2"))


# --- scoped exclusions and risk cautions --------------------------------------------------

TARGETED = MANIFEST + "targets: {template: scar, field: type}\n"


def test_a_scope_and_a_risk_are_parsed(make_kb):
    then = (
        "- avoid: alpha\n      scope: {site: $s}\n      reason: not on the {$s}\n"
        "    - leave_out: beta\n      scope: {site: cheeks, depth: deep}\n      constraint: level\n      reason: slow\n"
        "    - caution: alpha\n      risk: true\n      text: careful\n"
        "    - caution: beta\n      text: just so you know\n"
        "    - avoid: gamma\n      reason: everywhere"
    )
    kb = load(make_kb(rule("r", "[{scar: {site: $s}}]", then), manifest=TARGETED))
    avoid, leave_out, risk, caution, plain = kb.rule("r").then
    assert (avoid.kind, avoid.target, dict(avoid.scope)) == ("avoid", "alpha", {"site": Var("s")})
    assert (leave_out.kind, dict(leave_out.scope)) == ("leave_out", {"site": "cheeks", "depth": "deep"})
    assert (risk.kind, risk.risk, caution.risk) == ("caution", True, False)
    assert dict(plain.scope) == {}  # no scope: everywhere


def test_a_scope_value_may_be_a_list_meaning_any_of_them(make_kb):
    then = "- leave_out: beta\n      scope: {site: [cheeks, null]}\n      constraint: level\n      reason: slow"
    kb = load(make_kb(rule("r", "[]", then), manifest=TARGETED))
    assert dict(kb.rule("r").then[0].scope) == {"site": ("cheeks", None)}


def test_each_value_of_a_scope_list_is_checked_and_located(make_kb):
    bad = "- leave_out: beta\n      scope: {site: [cheeks, cheek]}\n      constraint: level\n      reason: slow"
    text = rule("r", "[]", bad)
    assert refused_scope(make_kb, "[]", bad).startswith(
        f"kb/rules/rules.yaml:{position(text, 'cheek]')}: [0].then[0].scope.site[1]: 'cheek' can never match scar.site"
    )


def refused_scope(make_kb, when: str, then: str, manifest: str = TARGETED) -> str:
    from cicatrix.engine.common.errors import CicatrixError

    text = rule("r", when, then)
    with pytest.raises(CicatrixError) as caught:
        load(make_kb(text, manifest=manifest))
    (problem,) = caught.value.problems
    return problem.render()


def position(text: str, needle: str) -> str:
    """``line:column`` (1-based) of the first ``needle`` in ``text``."""
    index = text.index(needle)
    return f"{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


@pytest.mark.parametrize(
    ("when", "then", "needle", "message"),
    [
        (
            "[{scar: {site: $s}}]",
            "- avoid: alpha\n      scope: {sight: $s}\n      reason: x",
            "sight",
            "[0].then[0].scope.sight: template 'scar' has no field 'sight'; did you mean 'site'?",
        ),
        (
            "[{patient: {level: $l}}]",
            "- avoid: alpha\n      scope: {site: $l}\n      reason: x",
            "$l}\n",
            "[0].then[0].scope.site: $l cannot scope scar.site: it holds an integer from 1 to 6, "
            "but the field holds one of cheeks, forehead",
        ),
        (
            "[{scar: {site: $s}}]",
            "- leave_out: alpha\n      scope: {site: $where}\n      constraint: level\n      reason: x",
            "$where",
            "[0].then[0].scope.site: $where is not bound",
        ),
        (
            "[{scar: {site: $s}}]",
            "- leave_out: alpha\n      scope: {site: cheek}\n      constraint: level\n      reason: x",
            "cheek}",
            "[0].then[0].scope.site: 'cheek' can never match scar.site, which is one of cheeks, forehead or null; "
            "did you mean 'cheeks'?",
        ),
    ],
)
def test_a_bad_scope_is_located(make_kb, when, then, needle, message):
    text = rule("r", when, then)
    found = refused_scope(make_kb, when, then)
    assert found.startswith(f"kb/rules/rules.yaml:{position(text, needle)}: {message}"), found


def test_a_scope_needs_targets_in_the_manifest(make_kb):
    when, then = "[{scar: {site: $s}}]", "- avoid: alpha\n      scope: {site: $s}\n      reason: x"
    text = rule("r", when, then)
    assert refused_scope(make_kb, when, then, manifest=MANIFEST) == (
        f"kb/rules/rules.yaml:{position(text, '{site: $s}' + chr(10))}: [0].then[0].scope: "
        "a scope needs 'targets' in kb.yaml: it names fields of the target template"
    )


@pytest.mark.parametrize(
    ("then", "message"),
    [
        # only a caution names a risk
        ("- avoid: alpha\n      risk: true\n      reason: x", "8:7: [0].then[0].risk: unknown key 'risk'"),
        # a caution is never scoped
        ("- caution: alpha\n      scope: {site: cheeks}\n      text: x", "8:7: [0].then[0].scope: unknown key 'scope'"),
        # an empty scope says nothing
        ("- avoid: alpha\n      scope: {}\n      reason: x", "8:14: [0].then[0].scope: expected at least 1 entry"),
    ],
)
def test_risk_and_scope_only_where_they_mean_something(make_kb, then, message):
    from cicatrix.engine.common.errors import CicatrixError

    with pytest.raises(CicatrixError) as caught:
        load(make_kb(rule("r", "[{scar: {site: $s}}]", then), manifest=TARGETED))
    assert caught.value.render().startswith("kb/rules/rules.yaml:" + message)
