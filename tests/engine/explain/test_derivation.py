"""A plan's derivation as a graph: input facts -> firings -> derived facts -> conclusions."""

from __future__ import annotations

import re

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.explain.derivation import derivation
from cicatrix.engine.explain.how import how

from ...helpers import ALL_EXAMPLES, texts


def firing_seqs(graph) -> set[int]:
    return {int(k.split(":")[1]) for k, n in graph.nodes.items() if n.kind == "firing"}


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_every_conclusion_of_the_plan_is_drawn_down_to_the_input(traces, name):
    trace, plan = traces[name]
    g = derivation(trace)
    ids = [r["id"] for r in plan["recommendations"]] + [a["id"] for a in plan["avoid"]]
    ids += [entry["id"] for entry in plan["left_out"]]
    for cid in ids:
        assert f"conclusion:{cid}" in g.nodes, cid
    for alert in plan.get("alerts", []):
        assert f"alert:{alert['id']}" in g.nodes
    for e in g.edges:
        assert e.source in g.nodes and e.target in g.nodes, e
    into = {e.target for e in g.edges}
    out_of = {e.source for e in g.edges}
    for key, node in g.nodes.items():
        if node.kind in ("input", "catalogue"):
            assert key not in into and key in out_of, key  # a leaf, matched by some firing
        if node.kind == "fact":  # derived: asserted by a drawn firing
            assert any(e.target == key and e.label == "asserts" for e in g.edges), key
        if node.kind == "firing":
            assert key in out_of, key  # every drawn firing leads somewhere
    assert list(g.nodes) == sorted(g.nodes) and list(g.edges) == sorted(g.edges)


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_one_recommendation_draws_the_firings_how_names(traces, name):
    trace, plan = traces[name]
    for rec in plan["recommendations"][:4]:
        g = derivation(trace, rec["id"])
        named = {int(n) for line in texts(how(trace, rec["id"])) for n in re.findall(r"\(firing #(\d+)\)", line)}
        assert firing_seqs(g) == named, rec["id"]
        assert g.focus == {f"conclusion:{rec['id']}"}


def test_a_recommendation_from_patient_fact_to_conclusion(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    g = derivation(trace, "tca_cross")
    assert g.nodes["conclusion:tca_cross"].label == "tca_cross\nrecommended, rank 1"
    assert g.nodes["conclusion:tca_cross"].kind == "recommended"
    assert g.nodes["fact:scar-1"].kind == "input"
    assert g.nodes["fact:scar-1"].label.startswith("scar-1\ntype ice pick, site cheeks")
    firing = next(k for k, n in g.nodes.items() if n.label.startswith("ice-pick/tca-cross\n"))
    assert (firing, "conclusion:tca_cross", "recommend") in g.edges
    assert ("fact:finding-6", firing, "matched") in g.edges
    assert any(e.target == "fact:finding-6" and e.label == "asserts" for e in g.edges)


def test_a_combination_names_its_components(traces):
    trace, plan = traces["mixed-facial-scars.yaml"]
    combo = next(r for r in plan["recommendations"] if r["kind"] == "combination")
    g = derivation(trace, combo["id"])
    assert all(
        e.label == "combine"
        for e in g.edges
        if e.target == f"conclusion:{combo['id']}" and e.source.startswith("firing:")
    )
    for part in combo["components"]:
        assert (f"conclusion:{part}", f"conclusion:{combo['id']}", "part of") in g.edges
        # named, not derived again
        assert not [e for e in g.edges if e.target == f"conclusion:{part}"]


def test_an_avoided_entry_by_tag_and_its_catalogue_fact(traces):
    trace, plan = traces["pregnant.yaml"]
    avoided = next(a for a in plan["avoid"] if "pregnancy/defer-procedures" in a["rules"])
    g = derivation(trace, avoided["id"])
    key = f"conclusion:{avoided['id']}"
    assert g.nodes[key].kind == "avoided" and g.nodes[key].label == f"{avoided['id']}\navoided"
    firing = next(e.source for e in g.edges if e.target == key)
    assert g.nodes[firing].label.startswith("pregnancy/defer-procedures\n")
    catalogue = f"fact:treatment/{avoided['id']}"
    assert g.nodes[catalogue].kind == "catalogue" and (catalogue, firing, "matched") in g.edges


def test_a_left_out_entry(traces):
    trace, plan = traces["sensitive-low-downtime.json"]
    left = plan["left_out"][0]
    g = derivation(trace, left["id"])
    key = f"conclusion:{left['id']}"
    assert g.nodes[key].kind == "left_out"
    labels = {e.label for e in g.edges if e.target == key}
    assert labels == {"leave out"}


def test_a_fact_id_draws_its_own_derivation(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    g = derivation(trace, "finding-6")
    assert g.focus == {"fact:finding-6"}
    assert {n.kind for n in g.nodes.values()} == {"fact", "firing", "input"}


def test_ids_it_cannot_draw_are_refused_with_a_hint(traces):
    trace, plan = traces["mixed-facial-scars.yaml"]
    with pytest.raises(CicatrixError, match="did you mean 'tca_cross'"):
        derivation(trace, "tca_cros")
    problem = plan["plan"]["problems"][0]
    with pytest.raises(
        CicatrixError,
        match=f"is a problem of the plan, not a conclusion; draw one of its options instead: {problem['choice']}",
    ):
        derivation(trace, problem["id"])
    concluded = {r["id"] for r in plan["recommendations"]} | {a["id"] for a in plan["avoid"]}
    unconcluded = next(
        t for t in trace.catalogue if t not in concluded and t not in {e["id"] for e in plan["left_out"]}
    )
    with pytest.raises(CicatrixError, match="neither recommended, avoided nor left out in this trace; ask why not"):
        derivation(trace, unconcluded)
