"""How a conclusion was reached: a tree from the conclusion down to the patient's input."""

from __future__ import annotations

import re

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.explain.how import how
from cicatrix.engine.explain.tracefile import read
from cicatrix.engine.explain.tree import Node, leaves

from ...helpers import ALL_EXAMPLES, texts, trace_of

ROLE = re.compile(
    r"^(chosen for|an alternative for|part of the choice for|an add-on to .+ for|ruled out for|left out for)"
    r" problem-\d+ \("
)


@pytest.mark.parametrize("name", [p.name for p in ALL_EXAMPLES])
def test_how_reaches_only_input_facts(traces, name):
    trace, plan = traces[name]
    for rec in plan["recommendations"]:
        tree = how(trace, rec["id"])
        roles = [c for c in tree.children if ROLE.match(c.text)]
        assert tree.children[: len(roles)] == roles, "the plan's use of it comes first"
        derivation = Node(tree.text, tree.children[len(roles) :])
        assert derivation.children, rec["id"]
        for leaf in leaves(derivation):
            text = leaf.text
            ok = (
                text.endswith(("(patient input)", "(treatment catalogue)", "(derived above)"))
                or text.startswith("says: ")
                or text == "no conditions: applies to everyone"
                or ": rank " in text  # a combination's recommended components
            )
            assert ok, f"{rec['id']}: leaf {text!r}"


def test_how_of_a_fact(make_kb, tmp_path, run_cli):
    trace = trace_of(make_kb, tmp_path, run_cli, "scars:\n  - {type: ice_pick, depth: deep, site: cheeks}\n")
    lines = texts(how(trace, "finding-1"))
    assert lines[0] == "finding-1: kind deep, site cheeks"
    assert lines[1].startswith("rule derive-deep (firing #1)")
    assert lines[2] == "scar-1: type ice pick, site cheeks, depth deep  (patient input)"


def test_how_an_alert_was_raised(make_kb, tmp_path):
    from cicatrix.engine.explain.how import how
    from cicatrix.engine.explain.tracefile import read, render
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.engine.resolve.contract import to_dict

    from ...helpers import ALERT_RULES, TWO_SITES, consult

    root = make_kb(ALERT_RULES)
    kb = load(root)
    result, _ = consult(root, TWO_SITES)
    path = tmp_path / "t.json"
    path.write_text(render(kb, result, to_dict(result), "p.yaml"))
    tree = how(read(path), "check-site")
    assert tree.text == "check-site is a warning alert: look at the forehead and cheeks first."
    assert [c.text.split(" - ")[0] for c in tree.children] == ["rule warn (firing #1)", "rule warn (firing #3)"]


# --- the plan's problems -------------------------------------------------------------


def test_how_names_where_the_plan_uses_a_recommendation(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    tree = how(trace, "rf_microneedling")
    assert [c.text for c in tree.children[:3]] == [
        "an alternative for problem-1 (deep ice pick scars on the cheeks)",
        "an alternative for problem-2 (moderate rolling scars on the cheeks)",
        "chosen for problem-3 (shallow boxcar scars on the temples)",
    ]
    assert tree.children[3].text.startswith("rule ")
    assert how(trace, "prp").children[0].text.startswith("an add-on to rf_microneedling, ")


def test_how_a_problem_names_its_items_choice_why_and_alternatives(traces):
    trace, plan = traces["mixed-facial-scars.yaml"]
    problem = plan["plan"]["problems"][0]
    tree = how(trace, "problem-1")
    assert tree.text == "problem-1: deep ice pick scars on the cheeks (region face, grade 4, burden 24)"
    items, choice, *alternatives = tree.children
    assert items.text == "scars: scar-1"
    assert [c.text for c in items.children] == [
        "scar-1: type ice pick, site cheeks, count 8, depth deep, width 1.5 mm  (patient input)"
    ]
    assert choice.text == "choice: tca_cross (TCA CROSS)"
    assert choice.children[0].text == f"why: {problem['why']}"
    derivation = choice.children[1]
    assert derivation.text == "tca_cross (TCA CROSS) is recommended, rank 1, first line"
    assert [c.text.split(" (")[0] for c in derivation.children] == ["rule ice-pick/tca-cross"]
    assert [a.text for a in alternatives] == [
        "alternative: rf_microneedling (RF microneedling ± PRP): ranked after TCA CROSS by the sources",
        "alternative: tca_cross+microneedling (TCA CROSS + Microneedling ± PRP): ranked after TCA CROSS by the sources",
        "alternative: tca_cross+ablative_fractional_laser (TCA CROSS + Fractional CO2 / Er:YAG laser ± PRP): "
        "a second-line option here",
    ]


def test_how_a_problem_shows_only_the_firings_that_served_it(scoped):
    """Subcision was proposed for the rolling scars on both sites; the back problem's tree shows its own."""
    trace = read(scoped["no-downtime-two-sites"])
    everywhere = [c.text for c in how(trace, "subcision").children if c.text.startswith("rule ")]
    assert len(everywhere) == 2
    choice = how(trace, "problem-2").children[1]
    assert choice.text == "choice: subcision (Subcision ± PRP)"
    served = choice.children[1].children
    assert len(served) == 1 and served[0].text.startswith("rule rolling/subcision")
    assert "scar-2: type rolling, site back" in "\n".join(texts(served[0]))
    assert "scar-1" not in "\n".join(texts(served[0]))


def test_how_a_problem_names_what_a_scoped_exclusion_rules_out_there(scoped):
    trace = read(scoped["keloid-two-sites"])
    tree = how(trace, "problem-1")
    ruled = {c.text: [g.text for g in c.children] for c in tree.children if c.text.startswith("ruled out here")}
    (line,) = ruled["ruled out here: punch_excision (Punch excision)"]
    assert re.fullmatch(
        r"rule keloid/avoid-wounding-on-prone-sites \(firing #\d+\) avoids it only where site is back: "
        r"You have a keloid tendency .* and scars on the back, .*",
        line,
    )
    # the face problem keeps it as an alternative, and nothing is ruled out there
    face = how(trace, "problem-2")
    assert not [c for c in face.children if c.text.startswith(("ruled out", "left out"))]
    assert any(c.text.startswith("alternative: punch_excision (Punch excision): ") for c in face.children)


def test_how_a_problem_names_a_preference_and_its_reason(scoped):
    """The reason comes from the firing itself, with the scope in words."""
    trace = read(scoped["no-downtime-two-sites"])
    tree = how(trace, "problem-1")
    left = next(c for c in tree.children if c.text == "left out here, by your preferences: subcision (Subcision)")
    (line,) = [c.text for c in left.children]
    assert re.fullmatch(
        r"rule downtime/beyond-tolerance \(firing #\d+\) leaves it out for your preferences \(downtime_days\) "
        r"only where site is forehead, temples, cheeks, nose, chin, jaw, neck or not given: "
        r"It needs at least 7 days of visible downtime and you accept 0 days; .*",
        line,
    )


def test_how_an_unknown_problem_suggests_the_real_ones(traces):
    trace, _ = traces["mixed-facial-scars.yaml"]
    with pytest.raises(CicatrixError) as info:
        how(trace, "problem-7")
    assert "'problem-7' is not a recommendation, an avoided treatment, an alert, a problem or a fact" in str(info.value)
    assert "did you mean 'problem-3'" in str(info.value)
    with pytest.raises(CicatrixError) as info:
        how(trace, "problme-2")
    assert "did you mean 'problem-2'" in str(info.value)
