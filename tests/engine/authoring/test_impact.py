"""The comparison behind `kb impact`: an option's category in a plan, the moves between
two plans, problems matched by what they group, --fail-on conditions and their errors,
and the tally of a cohort into the report's JSON shape (examples, reasons, order)."""

from __future__ import annotations

import copy
import json

import pytest

from cicatrix.engine.authoring import impact
from cicatrix.engine.authoring.impact import Impact, Move, Outcome, categories, compare, condition, conditions
from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.resolve.safety import SafetyInvariantError
from cicatrix.engine.session.session import Session


def _problem(pid: str, items: list[int], choice: str | None, alternatives=(), ruled_out=(), kind="k") -> dict:
    return {
        "id": pid,
        "items": items,
        "title": f"problem {pid}",
        "kind": kind,
        "region": "r",
        "choice": choice,
        "alternatives": list(alternatives),
        "adjuncts": {},
        "why": "",
        "rules": [],
        "sources": [],
        "citations": [],
        "references": [],
        "ruled_out": [{"id": x, "title": x, "kind": "avoid", "reason": "", "rules": []} for x in ruled_out],
    }


def _plan(recs=(), avoid=(), left_out=(), problems=(), alerts=(), notes=()) -> dict:
    """A JSON plan with only what the comparison reads (and a kb block, which it ignores)."""
    return {
        "kb": {"name": "x", "version": "1", "digest": "d"},
        "recommendations": [{"id": r, "title": r.upper()} for r in recs],
        "avoid": [{"id": a, "title": a.upper(), "rules": ["r/avoid"]} for a in avoid],
        "notes": list(notes),
        "alerts": [{"id": a, "severity": s} for a, s in alerts],
        "left_out": [{"id": x, "title": x.upper(), "rules": []} for x in left_out],
        "plan": {"summary": [], "problems": list(problems), "course": []},
    }


def _ok(plan: dict) -> Outcome:
    return Outcome(plan)


BASE = _plan(
    recs=["a", "b", "c", "a+b", "d"],
    avoid=["x"],
    left_out=["y"],
    problems=[_problem("problem-1", [1], "a", ["b", "a+b"]), _problem("problem-2", [2], "b", ["c"])],
    alerts=[("al", "warning")],
)


# --- categories ---------------------------------------------------------------------------


def test_each_option_has_one_category_choice_first():
    # b is problem-2's choice and problem-1's alternative: a choice wins
    assert categories(BASE) == {
        "a": "choice",
        "b": "choice",
        "c": "alternative",
        "a+b": "alternative",
        "d": "recommended",
        "x": "avoid",
        "y": "left_out",
    }


def test_a_plan_without_problems_has_only_recommended_avoid_and_left_out():
    plan = _plan(recs=["a"], avoid=["x"])
    del plan["plan"]
    assert categories(plan) == {"a": "recommended", "x": "avoid"}


# --- compare --------------------------------------------------------------------------------


def test_the_same_plan_has_no_difference_even_from_another_knowledge_base():
    other = copy.deepcopy(BASE)
    other["kb"] = {"name": "renamed", "version": "2", "digest": "e"}
    diff = compare("p", _ok(BASE), _ok(other))
    assert not diff.changed
    assert diff.other == ()


def test_moves_are_added_removed_or_moved():
    new = _plan(
        recs=["b", "c", "d", "z"],
        avoid=["x", "a"],
        problems=[_problem("problem-1", [1], "b", ["c"]), _problem("problem-2", [2], "b", ["c"])],
        alerts=[("al", "warning")],
    )
    diff = compare("p", _ok(BASE), _ok(new))
    assert diff.treatments == (
        Move("a", "choice", "avoid"),
        Move("a+b", "alternative", None),
        Move("y", "left_out", None),
        Move("z", None, "recommended"),
    )
    assert [m.kind for m in diff.treatments] == ["moved", "removed", "removed", "added"]
    assert [(c.problem_after, c.before, c.after) for c in diff.choices] == [("problem-1", "a", "b")]
    assert diff.problems == (("alternatives", "problem-1"),)
    assert diff.changed


def test_alerts_are_gained_lost_or_change_severity():
    new = copy.deepcopy(BASE)
    new["alerts"] = [{"id": "al", "severity": "urgent"}, {"id": "new", "severity": "warning"}]
    diff = compare("p", _ok(BASE), _ok(new))
    assert diff.alerts == (Move("al", "warning", "urgent"), Move("new", None, "warning"))
    assert diff.treatments == () and diff.changed


def test_problems_are_matched_by_what_they_group_not_by_their_rank():
    new = copy.deepcopy(BASE)
    new["plan"]["problems"] = [  # the same two problems, ranked the other way round
        _problem("problem-1", [2], "b", ["c"]),
        _problem("problem-2", [1], "a", ["b", "a+b"]),
    ]
    diff = compare("p", _ok(BASE), _ok(new))
    assert not diff.changed
    assert diff.other == ("plan.problems",)


def test_problems_grouped_differently_and_ruled_out_changes_are_changes():
    new = copy.deepcopy(BASE)
    new["plan"]["problems"] = [
        _problem("problem-1", [1], "a", ["b", "a+b"], ruled_out=["c"]),
        _problem("problem-2", [2, 3], "b", ["c"]),
    ]
    diff = compare("p", _ok(BASE), _ok(new))
    assert diff.problems == (("ruled_out", "problem-1"), ("new", "problem-2"), ("gone", "problem-2"))
    assert diff.choices == ()  # a regrouped problem has no counterpart to compare choices with
    assert diff.changed


def test_other_differences_are_listed_but_are_not_changes():
    new = copy.deepcopy(BASE)
    new["notes"] = ["a new note"]
    new["plan"]["summary"] = ["start"]
    diff = compare("p", _ok(BASE), _ok(new))
    assert diff.other == ("notes", "plan.summary")
    assert not diff.changed


@pytest.mark.parametrize(
    ("before", "after", "invalid", "changed"),
    [(False, True, "from", True), (True, False, "to", True), (False, False, "both", False)],
)
def test_a_patient_planned_under_one_knowledge_base_only_is_a_change(before, after, invalid, changed):
    bad = Outcome(None, ("p:1: wrong",))
    diff = compare("p", _ok(BASE) if before else bad, _ok(BASE) if after else bad)
    assert (diff.invalid, diff.changed) == (invalid, changed)


# --- --fail-on ------------------------------------------------------------------------------

OPTIONS = {"a", "b", "c", "x", "y", "z", "tca"}
ALERTS = {"al", "new"}


def _met(text: str, before: dict, after: dict) -> bool:
    return condition(text, OPTIONS, ALERTS).met(compare("p", _ok(before), _ok(after)))


def test_each_kind_of_condition_matches_its_moves():
    new = _plan(recs=["b", "c", "z"], avoid=["x", "a"], problems=[_problem("problem-1", [1], "b", ["c"])])
    assert _met("avoid:a", BASE, new)  # choice -> avoid is a move into avoid
    assert not _met("removed:a", BASE, new)  # ... not a removal: it is still named
    assert _met("removed:y", BASE, new)
    assert _met("added:z", BASE, new) and _met("recommended:z", BASE, new)  # added straight into recommended
    assert not _met("added:b", BASE, new)
    assert _met("changed:a", BASE, new) and not _met("changed:b", BASE, new)
    assert _met("changed:*", BASE, new) and _met("removed:*", BASE, new)
    assert _met("left-out:*", new, BASE) and _met("left_out:y", new, BASE)  # either spelling
    assert _met("choice:a", new, BASE) and not _met("alternative:a", new, BASE)
    assert not _met("changed:*", BASE, copy.deepcopy(BASE))


def test_alert_conditions():
    new = copy.deepcopy(BASE)
    new["alerts"] = [{"id": "new", "severity": "urgent"}]
    assert _met("alert-lost:al", BASE, new) and _met("alert-gained:*", BASE, new)
    assert not _met("alert-gained:al", BASE, new)
    assert _met("alert-changed:al", BASE, new) and not _met("changed:a", BASE, new)


def test_changed_star_includes_a_patient_only_one_knowledge_base_can_plan():
    cond = condition("changed:*", OPTIONS, ALERTS)
    assert cond.met(compare("p", _ok(BASE), Outcome(None, ("bad",))))
    assert not cond.met(compare("p", Outcome(None, ("bad",)), Outcome(None, ("bad",))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tca", "'tca': expected KIND:ID (e.g. removed:ID, avoid:ID, changed:*, alert-lost:*)"),
        ("removd:tca", "unknown kind 'removd'; did you mean 'removed'? (kinds: added, removed, choice,"),
        ("removed:tcx", "treatment id 'tcx' is known to neither knowledge base; did you mean 'tca'?"),
        ("removed:a+tcx", "treatment id 'tcx' is known to neither"),
        ("avoid:q*", "treatment id 'q*' is known to neither knowledge base"),
        ("alert-lost:nope", "alert id 'nope' is known to neither knowledge base (alerts: al, new)"),
        ("alert-lost:a", "alert id 'a' is known to neither"),
    ],
)
def test_a_bad_condition_is_refused_with_a_located_message(text, message):
    with pytest.raises(CicatrixError) as info:
        condition(text, OPTIONS, ALERTS)
    assert info.value.problems[0].path == "--fail-on"
    assert message in info.value.render()


def test_globs_and_combinations_of_known_ids_are_accepted():
    assert condition("removed:t*", OPTIONS, ALERTS).pattern == "t*"
    assert condition(" Avoid : a+b ", OPTIONS, ALERTS) == impact.Condition(" Avoid : a+b ", "avoid", "a+b")


def test_every_bad_condition_is_reported_at_once():
    with pytest.raises(CicatrixError) as info:
        conditions(["removed:a", "bad", "avoid:nothing"], OPTIONS, ALERTS)
    assert len(info.value.problems) == 2


def test_known_ids_are_the_catalogue_and_the_alerts_rules_raise(kb):
    options, alerts = impact.known_ids(kb)
    assert options == set(kb.treatments)
    assert alerts and all(isinstance(a, str) for a in alerts)


# --- the tally ----------------------------------------------------------------------------------


def _cohort(report: Impact) -> None:
    """Five patients: three where a moves choice -> avoid, one unchanged, one the new KB rejects."""
    moved = _plan(recs=["b", "c", "a+b", "d"], avoid=["x", "a"], left_out=["y"], problems=BASE["plan"]["problems"])
    moved["plan"]["problems"] = [_problem("problem-1", [1], "b", ["a+b"]), _problem("problem-2", [2], "b", ["c"])]
    moved["alerts"] = BASE["alerts"]
    for name in ("p1", "p2", "p3"):
        report.add(name, _ok(BASE), _ok(moved))
    report.add("p4", _ok(BASE), _ok(copy.deepcopy(BASE)))
    report.add("p5", _ok(BASE), Outcome(None, ("p5: wrong",)))


def test_a_cohort_is_tallied_with_examples_and_reasons_for_the_first():
    asked = []

    def explain(subject, before, after, where):
        asked.append((subject, where))
        return {"text": f"why {subject[1]}", "children": []}

    report = Impact(conditions(["avoid:a", "removed:a"], OPTIONS, ALERTS), examples=2, reasons=1, explain=explain)
    _cohort(report)
    data = report.to_dict({"path": "old"}, {"path": None})
    assert (data["patients"], data["changed"], data["unchanged"]) == (5, 4, 1)
    assert data["invalid"]["to"] == {
        "patients": 1,
        "examples": [{"patient": "p5", "problems": {"from": [], "to": ["p5: wrong"]}}],
    }
    (a,) = [t for t in data["treatments"] if t["id"] == "a"]
    assert a == {
        "id": "a",
        "title": "A",
        "added": 0,
        "removed": 0,
        "moved": 3,
        "moves": [
            {
                "from": "choice",
                "to": "avoid",
                "kind": "moved",
                "plans": 3,
                "examples": [
                    {"patient": "p1", "reason": {"text": "why a", "children": []}},
                    {"patient": "p2", "reason": None},
                ],
            }
        ],
    }
    assert data["choices"] == [
        {
            "from": "a",
            "to": "b",
            "problems": 3,
            "examples": [
                {"patient": "p1", "problem": "problem-1", "reason": {"text": "why problem-1", "children": []}},
                {"patient": "p2", "problem": "problem-1", "reason": None},
            ],
        }
    ]
    # one reason per kind of change, asked only of its first example
    assert [(s[0], s[1], w) for s, w in asked] == [("treatment", "a", "p1"), ("problem", "problem-1", "p1")]
    assert data["fail_on"] == [
        {"condition": "avoid:a", "met": True, "plans": 3, "examples": ["p1", "p2"]},
        {"condition": "removed:a", "met": False, "plans": 0, "examples": []},
    ]
    assert data["status"] == report.status == 1
    assert data["problems"]["alternatives"]["problems"] == 3
    assert data["problems"]["new"] == {"problems": 0, "examples": []}


def test_the_report_is_deterministic_and_json():
    def build() -> str:
        report = Impact(examples=3, reasons=0)
        _cohort(report)
        return json.dumps(report.to_dict({"path": "a"}, {"path": "b"}))

    assert build() == build()
    data = json.loads(build())
    assert [t["id"] for t in data["treatments"]] == sorted(t["id"] for t in data["treatments"])
    assert data["status"] == 0  # no --fail-on, nothing fails
    assert list(data) == [
        *("format", "version", "from", "to", "patients", "changed", "unchanged", "changed_examples"),
        *("differ_otherwise", "invalid", "treatments", "alerts", "choices", "problems", "other_differences"),
        *("fail_on", "status"),
    ]


def test_moves_are_ordered_absent_first_then_by_category():
    report = Impact(examples=0)
    report.add("p", _ok(_plan(recs=["a"])), _ok(_plan(avoid=["a"])))
    report.add("q", _ok(_plan()), _ok(_plan(avoid=["a"])))
    report.add("r", _ok(_plan(left_out=["a"])), _ok(_plan()))
    moves = report.to_dict({}, {})["treatments"][0]["moves"]
    assert [(m["from"], m["to"]) for m in moves] == [(None, "avoid"), ("recommended", "avoid"), ("left_out", None)]


# --- consulting --------------------------------------------------------------------------------


def test_consult_plans_a_patient_or_says_why_not(session):
    good = impact.consult(session, {"scars": [{"type": "rolling", "site": "cheeks"}]}, "c.jsonl:1")
    assert good.ok and good.result is not None and good.plan["recommendations"]
    bad = impact.consult(session, {"scars": [{"type": "icepick"}]}, "c.jsonl:2")
    assert not bad.ok and bad.problems[0].startswith("c.jsonl:2: scars[0].type: 'icepick' is not allowed")
    not_a_mapping = impact.consult(session, [1, 2], "c.jsonl:3")
    assert "expected a mapping" in not_a_mapping.problems[0]


def test_a_plan_that_breaks_a_safety_invariant_is_an_outcome_not_a_crash(kb, monkeypatch):
    def unsafe(session, patient):
        raise SafetyInvariantError("avoided x is recommended")

    monkeypatch.setattr(impact, "make_plan", unsafe)
    out = impact.consult(Session(kb), {"scars": [{"type": "rolling"}]}, "p.yaml")
    assert out.problems == ("p.yaml: the plan breaks a safety invariant: avoided x is recommended",)
