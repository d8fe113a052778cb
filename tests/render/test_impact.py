"""The impact report as text: drawn from the JSON shape alone, each section only when it
has something to say (or a one-line "none"), wrapped to the width, reasons as trees,
and the --fail-on verdict last."""

from __future__ import annotations

from cicatrix.engine.authoring.impact import Impact, Outcome, conditions
from cicatrix.render.impact import render

KB_FROM = {"path": "old-kb", "name": "old", "version": "1", "digest": "sha256:" + "a" * 64}
KB_TO = {"path": None, "name": "new", "version": "2", "digest": "sha256:" + "b" * 64}


def _plan(recs=(), avoid=(), choice=None, alerts=()) -> dict:
    problems = [
        {"id": "problem-1", "items": [1], "title": "p", "kind": "k", "region": "r", "choice": choice,
         "alternatives": [], "adjuncts": {}, "why": "", "ruled_out": []}
    ]  # fmt: skip
    return {
        "recommendations": [{"id": r, "title": r.title()} for r in recs],
        "avoid": [{"id": a, "title": a.title(), "rules": ["r/1"]} for a in avoid],
        "left_out": [],
        "alerts": [{"id": a, "severity": s} for a, s in alerts],
        "plan": {"problems": problems},
    }


def _report(fail_on=(), **kwargs) -> dict:
    def explain(subject, before, after, where):
        return {
            "text": f"{subject[1]} is avoided: because",
            "children": [{"text": "rule r/1 (firing #3)", "children": []}],
        }

    report = Impact(conditions(fail_on, {"alpha", "beta"}, {"al"}), explain=explain, **kwargs)
    old = _plan(recs=["alpha", "beta"], choice="alpha")
    new = _plan(recs=["beta"], avoid=["alpha"], choice="beta", alerts=[("al", "urgent")])
    for name in ("cohort.jsonl:1", "cohort.jsonl:2", "cohort.jsonl:3", "cohort.jsonl:4"):
        report.add(name, Outcome(old), Outcome(new))
    report.add("cohort.jsonl:5", Outcome(old), Outcome(old))
    report.add("cohort.jsonl:6", Outcome(None, ("cohort.jsonl:6: bad",)), Outcome(None, ("cohort.jsonl:6: bad",)))
    return report.to_dict(KB_FROM, KB_TO)


def test_each_section_of_a_changed_cohort():
    text = render(_report(["avoid:alpha", "removed:beta"]), width=88)
    assert text.startswith(
        "Impact of the change on 6 patients\n"
        "  from  old-kb: old 1, digest aaaaaaaaaaaa\n"
        "  to    the bundled knowledge base: new 2, digest bbbbbbbbbbbb\n"
        "\n"
        "4 of 5 plans changed; 1 unchanged.\n"
        "Could not be planned: 1 under either.\n"
    )
    assert (  # one column for the whole section
        "  alpha (Alpha): moved in 4\n"
        "    choice -> avoid          4  cohort.jsonl:1, cohort.jsonl:2, cohort.jsonl:3,\n"
        "                                and 1 more\n"
        "  beta (Beta): moved in 4\n"
        "    recommended -> choice    4  cohort.jsonl:1,"
    ) in text
    assert "  al: gained in 4\n    absent -> urgent    4  cohort.jsonl:1," in text
    assert (  # a name is never cut in two
        "    alpha -> beta    4  problem-1 of cohort.jsonl:1, problem-1 of cohort.jsonl:2,\n"
        "                        problem-1 of cohort.jsonl:3, and 1 more\n"
    ) in text
    assert "    under either    1  cohort.jsonl:6\n      both:   cohort.jsonl:6: bad\n" in text
    assert (
        "  alpha: choice -> avoid, in cohort.jsonl:1\n    alpha is avoided: because\n    └─ rule r/1 (firing #3)\n"
    ) in text
    assert text.endswith(
        "FAIL-ON\n"
        "  avoid:alpha: met in 4 plans: cohort.jsonl:1, cohort.jsonl:2, cohort.jsonl:3,\n"
        "      and 1 more\n"
        "  removed:beta: not met\n"
        "1 of 2 conditions met: exit status 1\n"
    )


def test_nothing_changed_says_so_in_one_line_each():
    report = Impact()
    report.add("a.yaml", Outcome(_plan(recs=["alpha"])), Outcome(_plan(recs=["alpha"])))
    text = render(report.to_dict(KB_FROM, KB_FROM))
    assert text.split("\n")[4:] == [
        "0 of 1 plan changed; 1 unchanged.",
        "",
        "TREATMENTS: none moved between a plan's categories",
        "",
        "ALERTS: none gained, lost or changed",
        "",
        "CHOICES: no problem's choice changed",
        "",
    ]


def test_the_text_keeps_to_the_width_and_long_labels_get_a_line_of_their_own():
    data = _report(["avoid:alpha"])
    data["treatments"][0]["moves"][0]["from"] = "a-very-long-category-name-that-does-not-fit"
    for width in (40, 60, 100):
        lines = render(data, width=width).splitlines()
        assert max(len(line) for line in lines) <= width, width
    assert "    a-very-long-category-name-that-does-not-fit -> avoid\n" in render(data, width=60)


def test_no_reasons_no_why_section():
    assert "WHY" not in render(_report(reasons=0))
