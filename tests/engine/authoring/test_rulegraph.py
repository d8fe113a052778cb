"""The rule graph as a picture: nodes, labelled edges, entries reached by tag, and a focus by depth."""

from __future__ import annotations

import pytest

from cicatrix.engine.authoring.rulegraph import build, combination_key, rule_key, treatment_key
from cicatrix.engine.common.graph import GraphEdge
from cicatrix.engine.knowledge.loader import load

from ...conftest import TEMPLATES

RULES = """\
- id: derive
  title: derive a finding
  when: [{scar: {depth: deep}}]
  then: [{assert: {finding: {kind: deep}}}]
  sources: [src.txt]
- id: use
  title: recommend alpha for the finding
  when: [{finding: {kind: deep}}]
  then:
    - recommend: alpha
      explain: a
    - combine: [alpha, gamma]
      rationale: both
  sources: [src.txt]
- id: held-back
  title: only without the finding
  when: [{patient: {}}]
  unless: [{finding: {kind: deep}}]
  then: [{recommend: gamma, explain: g}]
  sources: [src.txt]
- id: by-tag
  title: no elective entry in pregnancy
  when: [{patient: {pregnant: true}}, {treatment: {id: $t, tags: {contains: elective}}}]
  then: [{avoid: $t, reason: not now}]
  sources: [src.txt]
- id: out-by-kind
  title: leave out every procedure
  when: [{patient: {level: 6}}, {treatment: {id: $t, kind: procedure}}]
  then: [{leave_out: $t, constraint: budget, reason: too dear}]
  sources: [src.txt]
- id: react
  title: with an elective entry recommended
  when: [{recommend: {treatment: $t}}, {treatment: {id: $t, tags: {contains: elective}}}]
  unless: [{avoid: {treatment: gamma}}]
  then: [{caution: $t, text: careful}]
  sources: [src.txt]
- id: warn
  title: an alert
  when: [{patient: {level: 1}}]
  then: [{alert: see-someone, severity: urgent, text: now}]
  sources: [src.txt]
"""


@pytest.fixture
def graph(make_kb):
    return build(load(make_kb(RULES, templates=TEMPLATES)))


def edges_from(graph, key):
    return sorted((e.target, e.label) for e in graph.edges if e.source == key)


def test_rules_facts_and_conclusions_are_nodes(graph):
    kinds = {k: n.kind for k, n in graph.nodes.items()}
    assert kinds[rule_key("derive")] == "rule" and graph.nodes[rule_key("derive")].title == "derive a finding"
    assert kinds["fact:finding:deep"] == "fact"
    assert kinds[treatment_key("alpha")] == "treatment" and graph.nodes[treatment_key("alpha")].title == "Alpha"
    assert kinds[combination_key("alpha+gamma")] == "combination"
    assert graph.nodes[combination_key("alpha+gamma")].label == "alpha + gamma"
    assert kinds["alert:see-someone"] == "alert"
    # every catalogue entry is drawn, even one no rule names
    assert {k for k, v in kinds.items() if v == "treatment"} == {
        treatment_key(t) for t in ("alpha", "beta", "gamma", "delta", "never")
    }


def test_a_derived_fact_joins_the_rule_that_asserts_it_to_the_rules_that_read_it(graph):
    assert edges_from(graph, rule_key("derive")) == [("fact:finding:deep", "asserts")]
    assert edges_from(graph, "fact:finding:deep") == [
        (rule_key("held-back"), "unless"),
        (rule_key("use"), "matched by"),
    ]


def test_a_rule_that_acts_by_tag_has_an_edge_to_each_entry_carrying_it_and_none_to_its_variable(graph):
    assert edges_from(graph, rule_key("by-tag")) == [
        (treatment_key("alpha"), "avoid"),
        (treatment_key("beta"), "avoid"),
    ]
    assert edges_from(graph, rule_key("out-by-kind")) == [
        (treatment_key("alpha"), "leave out"),
        (treatment_key("beta"), "leave out"),
    ]
    assert not [k for k in graph.nodes if "$" in k or "$" in graph.nodes[k].label]


def test_entries_lead_to_the_rules_that_react_to_them(graph):
    # react reads a recommendation of an elective entry, and is held back by gamma's avoidance
    assert (rule_key("react"), "if recommended") in edges_from(graph, treatment_key("alpha"))
    assert (rule_key("react"), "if recommended") in edges_from(graph, treatment_key("beta"))
    assert (rule_key("react"), "if recommended") not in edges_from(graph, treatment_key("gamma"))
    assert (rule_key("react"), "unless avoided") in edges_from(graph, treatment_key("gamma"))
    assert (combination_key("alpha+gamma"), "part of") in edges_from(graph, treatment_key("alpha"))


def test_nodes_and_edges_are_sorted(graph):
    assert list(graph.nodes) == sorted(graph.nodes)
    assert list(graph.edges) == sorted(graph.edges)


# --- a focus, by depth -------------------------------------------------------------------------


def test_depth_one_around_an_entry_is_the_rules_that_conclude_it_and_what_it_leads_to(graph):
    near = graph.around([treatment_key("beta")], 1)
    assert set(near.nodes) == {
        treatment_key("beta"),
        rule_key("by-tag"),
        rule_key("out-by-kind"),
        rule_key("react"),
    }
    assert near.focus == {treatment_key("beta")}
    assert all(e.source in near.nodes and e.target in near.nodes for e in near.edges)


def test_depth_walks_upstream_and_downstream_separately(graph):
    near = graph.around([rule_key("use")], 1)
    assert set(near.nodes) == {
        rule_key("use"),
        "fact:finding:deep",
        treatment_key("alpha"),
        combination_key("alpha+gamma"),
    }
    two = graph.around([rule_key("use")], 2)
    # upstream two hops: the rule deriving the fact; downstream: what alpha leads to. Not the
    # other readers of the fact (held-back): that would be up, then down.
    assert rule_key("derive") in two.nodes and rule_key("react") in two.nodes
    assert rule_key("held-back") not in two.nodes
    assert len(two.nodes) > len(near.nodes)


def test_only_the_edges_walked_are_kept(graph):
    near = graph.around([treatment_key("alpha")], 1)
    # by-tag also avoids beta, which is not one step from alpha: neither beta nor that edge is drawn
    assert treatment_key("beta") not in near.nodes
    assert GraphEdge(rule_key("by-tag"), treatment_key("alpha"), "avoid") in near.edges


def test_an_entrys_combinations_bring_the_rules_that_propose_them(graph):
    near = graph.around([treatment_key("gamma")], 2)
    assert combination_key("alpha+gamma") in near.nodes
    assert GraphEdge(rule_key("use"), combination_key("alpha+gamma"), "combine") in near.edges


def test_an_unknown_focus_keeps_nothing(graph):
    assert not graph.around(["rule:nope"], 3).nodes


# --- the bundled knowledge base ---------------------------------------------------------------


def test_the_bundled_kb_draws_no_variable_and_every_tag_reaches_its_entries(kb):
    g = build(kb)
    assert not [n for n in g.nodes.values() if "$" in n.label]
    avoided = {e.target for e in g.edges if e.source == rule_key("pregnancy/defer-procedures") and e.label == "avoid"}
    tagged = {treatment_key(t.id) for t in kb.treatments.values() if "defer_in_pregnancy" in t.tags}
    assert avoided == tagged and len(tagged) > 5
