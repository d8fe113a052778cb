"""The dependency graph: which fact an action produces, whether it could match a
pattern, and which rules feed, derive for and are fed by which."""

from __future__ import annotations

import pytest

from cicatrix.engine.authoring.dependencies import (
    build,
    candidates,
    concludes_about,
    could_match,
    produced,
    reads,
    targets,
)
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.knowledge.model import Action, FieldConstraint, Pattern, Var, Where
from cicatrix.engine.knowledge.model import Test as Check

from ...conftest import TEMPLATES


def pattern(template: str, **tests: tuple[Check, ...]) -> Pattern:
    return Pattern(template, tuple(FieldConstraint(f, t) for f, t in tests.items()), False, Where(""))


DEEP_ON_CHEEKS = pattern("finding", kind=(Check("eq", "deep"),), site=(Check("any", ("cheeks", "nose")),))


# --- could_match ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "values", "matches"),
    [
        ("finding", {"kind": "deep", "site": "cheeks"}, True),
        ("finding", {"kind": "shallow", "site": "cheeks"}, False),
        ("finding", {"kind": "deep", "site": "forehead"}, False),
        ("scar", {"kind": "deep", "site": "cheeks"}, False),  # another template never matches
        ("finding", {"kind": Var("k"), "site": Var("s")}, True),  # a variable could hold anything
        ("finding", {"kind": Var("k"), "site": "forehead"}, False),
        ("finding", {"kind": "deep"}, True),  # a field the fact does not set is not judged
        ("finding", {}, True),
    ],
)
def test_could_match(template, values, matches):
    assert could_match(DEEP_ON_CHEEKS, template, values) is matches


def test_could_match_ignores_tests_against_variables():
    p = pattern("patient", level=(Check("gt", Var("n")), Check("lt", 5)))
    assert could_match(p, "patient", {"level": 100}) is False
    assert could_match(p, "patient", {"level": 1}) is True  # whatever $n is
    assert could_match(pattern("patient"), "patient", {"level": 1}) is True


# --- produced ------------------------------------------------------------------------------


def test_what_each_action_produces():
    assert produced(Action("assert", template="finding", values={"kind": "deep", "site": Var("s")})) == (
        "finding",
        {"kind": "deep", "site": Var("s")},
    )
    assert produced(Action("recommend", target="alpha", text="x")) == ("recommend", {"treatment": "alpha"})
    assert produced(Action("avoid", target=Var("t"), text="x")) == ("avoid", {"treatment": Var("t")})
    for kind in ("caution", "note"):
        assert produced(Action(kind, target="alpha", text="x")) is None
    assert produced(Action("combine", components=("alpha", "beta"))) is None


def test_produced_values_are_a_copy():
    action = Action("assert", template="finding", values={"kind": "deep"})
    _, values = produced(action)
    values["kind"] = "shallow"
    assert action.values == {"kind": "deep"}


# --- the graph of a small knowledge base ------------------------------------------------------

RULES = """\
- id: derive
  title: derive
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: use-finding
  title: use the finding
  when: [{finding: {kind: deep}}]
  then:
    - recommend: alpha
      explain: a
    - recommend: alpha
      explain: again
      tier: adjunct
    - caution: alpha
      text: careful
    - combine: [alpha, beta]
      rationale: both
  sources: [src.txt]
- id: shallow
  title: never fed
  when: [{finding: {kind: shallow}}]
  then: [{note: shallow}]
  sources: [src.txt]
- id: unless-cheeks
  title: blocked by a finding
  when: []
  unless: [{finding: {site: cheeks}}]
  then: [{note: none on the cheeks}]
  sources: [src.txt]
- id: react
  title: react to alpha
  when: [{recommend: {treatment: alpha}}, {finding: {kind: $k}}]
  then:
    - avoid: gamma
      reason: not with alpha
    - assert: {finding: {kind: $k}}
  sources: [src.txt]
- id: react-avoid
  title: react to an avoidance
  when: [{avoid: {treatment: gamma}}, {patient: {level: 3}}]
  then: [{note: gamma avoided}]
  sources: [src.txt]
"""


@pytest.fixture
def graph(make_kb):
    kb = load(make_kb(RULES, templates=TEMPLATES))
    return kb, build(kb)


def test_feeds_and_fed_by(graph):
    _, g = graph
    assert g.feeds == {
        # its finding (any site: $s) can match every finding pattern but the shallow one
        "derive": ("use-finding", "unless-cheeks", "react"),
        "use-finding": ("react",),
        "shallow": (),
        "unless-cheeks": (),
        # a finding of kind $k could be any kind; its site is left at the default, null
        "react": ("use-finding", "shallow", "react", "react-avoid"),
        "react-avoid": (),
    }
    assert g.fed_by == {
        "derive": (),
        "use-finding": ("derive", "react"),
        "shallow": ("react",),
        "unless-cheeks": ("derive",),
        "react": ("derive", "use-finding", "react"),
        "react-avoid": ("react",),
    }


def test_derives_for_follows_asserted_facts_only(graph):
    _, g = graph
    assert g.derives_for == {
        "derive": ("use-finding", "unless-cheeks", "react"),
        "use-finding": (),  # it only recommends: reacting to that is not a derivation
        "shallow": (),
        "unless-cheeks": (),
        "react": ("use-finding", "shallow", "react"),  # not react-avoid: that is the avoid
        "react-avoid": (),
    }


def test_concludes_and_asserts(graph):
    _, g = graph
    assert g.concludes["use-finding"] == (("recommend", "alpha"), ("caution", "alpha"), ("combine", "alpha+beta"))
    assert g.concludes["react"] == (("avoid", "gamma"),)
    assert g.concludes["derive"] == () and g.concludes["shallow"] == ()
    assert g.asserts["derive"] == ("finding:deep",)
    assert g.asserts["react"] == ("finding",)  # the kind is a variable: only the template
    assert g.asserts["use-finding"] == ()  # recommend facts are conclusions, not derived facts


def test_every_rule_has_an_entry_in_rule_order(graph):
    kb, g = graph
    ids = [r.id for r in kb.rules]
    for part in (g.feeds, g.derives_for, g.fed_by, g.concludes, g.asserts):
        assert list(part) == ids


def test_the_bundled_kb_graph_is_consistent(kb):
    g = build(kb)
    for rid, fed in g.feeds.items():
        for other in fed:
            assert rid in g.fed_by[other]
        assert set(g.derives_for[rid]) <= set(fed)


# --- reads ----------------------------------------------------------------------------------


def test_reads_names_every_field_tested_once(graph):
    kb, _ = graph
    assert reads(kb.rule("derive")) == ("scar.depth", "scar.site")
    assert reads(kb.rule("react-avoid")) == ("avoid.treatment", "patient.level")
    assert reads(kb.rule("unless-cheeks")) == ("finding.site",)  # unless patterns read too


def test_reads_a_bare_pattern_as_its_template(make_kb):
    kb = load(
        make_kb(
            """\
- id: r
  title: r
  when: [{patient: {}}, {scar: {type: ice_pick}}, {scar: {type: boxcar, site: $s}}]
  then: [{note: x}]
  sources: [src.txt]
"""
        )
    )
    assert reads(kb.rule("r")) == ("patient", "scar.type", "scar.site")


# --- candidates and targets: what a variable target can be -----------------------------------

BY_TAG = """\
- id: by-tag
  title: avoid every elective entry
  when: [{patient: {pregnant: true}}, {treatment: {id: $t, tags: {contains: elective}}}]
  then: [{avoid: $t, reason: not now}]
  sources: [src.txt]
- id: by-kind
  title: caution every home-care entry
  when: [{treatment: {id: $t, kind: home_care}}]
  then: [{caution: $t, text: gently}]
  sources: [src.txt]
- id: recommended-and-tagged
  title: the recommended elective entries
  when: [{recommend: {treatment: $t}}, {treatment: {id: $t, tags: {contains: elective}}}]
  then: [{caution: $t, text: careful}]
  sources: [src.txt]
- id: recommended-only
  title: whatever is recommended
  when: [{recommend: {treatment: $t}}]
  then: [{caution: $t, text: anything}]
  sources: [src.txt]
- id: literal
  title: one entry by name
  when: [{patient: {pregnant: true}}]
  then: [{avoid: gamma, reason: not gamma}]
  sources: [src.txt]
"""


@pytest.fixture
def tagged(make_kb):
    return load(make_kb(BY_TAG, templates=TEMPLATES))


def test_a_variable_bound_from_the_catalogue_holds_the_entries_its_tests_reach(tagged):
    assert candidates(tagged, tagged.rule("by-tag"), Var("t")) == ("alpha", "beta")
    assert candidates(tagged, tagged.rule("by-kind"), Var("t")) == ("gamma", "delta")
    # bound from a recommendation and narrowed by the catalogue: every pattern must hold
    assert candidates(tagged, tagged.rule("recommended-and-tagged"), Var("t")) == ("alpha", "beta")


def test_a_variable_only_a_recommendation_binds_could_be_any_entry(tagged):
    rule = tagged.rule("recommended-only")
    assert candidates(tagged, rule, Var("t")) == tuple(tagged.treatments)
    assert candidates(tagged, rule, Var("nothing")) is None


def test_asked_only_about_the_catalogue_a_variable_a_recommendation_binds_is_unknown(tagged):
    # lint's question: which entries can the rules conclude? re-concluding a conclusion adds none
    assert candidates(tagged, tagged.rule("recommended-only"), Var("t"), catalogue=True) is None
    assert candidates(tagged, tagged.rule("recommended-and-tagged"), Var("t"), catalogue=True) == ("alpha", "beta")
    assert candidates(tagged, tagged.rule("by-kind"), Var("t"), catalogue=True) == ("gamma", "delta")


def test_targets_are_literal_or_resolved(tagged):
    def first(rule_id):
        rule = tagged.rule(rule_id)
        return targets(tagged, rule, rule.then[0])

    assert first("literal") == ("gamma",)
    assert first("by-tag") == ("alpha", "beta")
    assert first("recommended-only") == tuple(tagged.treatments)  # never miss one: over-approximate
    assert targets(tagged, tagged.rule("literal"), Action("note", text="x")) == ()


def test_what_a_rule_concludes_about_one_entry(tagged):
    def about(entry):
        return [r.id for r in tagged.rules if concludes_about(tagged, r, entry)]

    assert about("alpha") == ["by-tag", "recommended-and-tagged", "recommended-only"]
    assert about("gamma") == ["by-kind", "recommended-only", "literal"]
    assert about("never") == ["recommended-only"]


def test_every_tag_based_avoid_of_the_bundled_kb_reaches_exactly_the_tagged_entries(kb):
    found = 0
    for rule in kb.rules:
        for action in rule.then:
            if action.kind != "avoid" or not isinstance(action.target, Var):
                continue
            tags = [
                t.value
                for p in rule.when
                if p.template == "treatment"
                for c in p.constraints
                if c.field == "tags"
                for t in c.tests
                if t.op == "contains"
            ]
            if not tags:
                continue
            found += 1
            expected = tuple(tid for tid, t in kb.treatments.items() if all(tag in t.tags for tag in tags))
            assert targets(kb, rule, action) == expected, rule.id
    assert found >= 10  # the bundled knowledge base strikes out by tag in many places
