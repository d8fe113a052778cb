"""The plan as a Markdown report a person can be handed or print.

The same order as the text plan (alerts, *Start here*, problems, the course,
home care, avoid, left out, notes, the disclaimer), with the course also drawn
as a Mermaid ``gantt`` chart that renders on GitHub, GitLab and most editors.
"""

from __future__ import annotations

from ..engine.explain.tree import Node
from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Recommendation, Result
from . import tree
from .words import (
    cite,
    days,
    heading,
    joined,
    name,
    problem_numbers,
    recommendation,
    reference_line,
    ruled_out_here,
    weeks,
    when,
)
from .writer import input_summary

_TIERS = {"first_line": "first line", "second_line": "second line", "adjunct": "add-on"}


def render(result: Result, kb: KnowledgeBase, how: dict[str, Node] | None = None, show_all: bool = False) -> str:
    """The plan as Markdown; ``how`` adds a folded derivation under each option, ``show_all`` every option.

    Sources are numbers into the reference list at the end; rule ids appear only
    with ``how`` (``--explain``), beside the derivations that name them.
    """
    cited: set[int] = set()
    out = [f"# {kb.title or kb.name + ' plan'}", "", f"> **{result.disclaimer}**", ""]
    out.append(f"Knowledge base: {kb.name} {kb.version} (`{result.kb.digest[:19]}...`)")
    out.append("")
    if result.alerts:
        out += ["## Alerts: act on these first", ""]
        out += [
            f"- **{a.severity.upper()}:** {a.text} {cite(result, a.citations, cited)}".rstrip() for a in result.alerts
        ]
        out.append("")
    if result.plan.summary:
        out += ["## Start here", ""]
        out += [f"{n}. {line}" for n, line in enumerate(result.plan.summary, 1)]
        out.append("")
    out += _problems(result, kb, how, cited)
    if result.plan.also:
        out += ["## Also recommended", ""]
        for oid in result.plan.also:
            chosen = recommendation(result, oid)
            refs = cite(result, chosen.citations, cited) if chosen else ""
            out += [f"- **{name(kb, oid)}:** {chosen.explanation} {refs}".rstrip()] if chosen else []
        out.append("")
    out += _course(result, kb, cited)
    out += _routine(result, kb, cited)
    if result.avoid:
        out += ["## Avoid", ""]
        for a in result.avoid:
            rules = f" _(rules: {', '.join(a.rules)})_" if how is not None else ""
            out.append(f"- **{a.title}**: {a.reason} {cite(result, a.citations, cited)}".rstrip() + rules)
        out.append("")
    if result.left_out:
        out += ["## Left out for your preferences", ""]
        for x in result.left_out:
            rules = f" _(rules: {', '.join(x.rules)})_" if how is not None else ""
            out.append(f"- **{x.title}**: {x.reason} {cite(result, x.citations, cited)}".rstrip() + rules)
        out.append("")
    if result.notes:
        out += ["## Notes", ""]
        out += [f"- {n}" for n in result.notes]
        out.append("")
    if show_all:
        out += ["## Input", ""] + [f"- {line}" for line in input_summary(result, kb)] + [""]
        out += ["## All options considered, ranked", ""]
        for r in result.recommendations:
            out += _recommendation(result, r, how, cited)
    out += _references(result, cited)
    out += ["---", "", f"_{result.disclaimer}_", ""]
    return "\n".join(out)


def _problems(result: Result, kb: KnowledgeBase, how: dict[str, Node] | None, cited: set[int]) -> list[str]:
    if not result.plan.problems:
        return []
    out = ["## Your scars, most severe first", ""]
    for n, p in enumerate(result.plan.problems, 1):
        out += [f"### {n}. {heading(kb, result, p)}", ""]
        choice = name(kb, p.choice, p.adjuncts) if p.choice else "nothing for now"
        out += [f"**Choice: {choice}.** {p.why}", ""]
        chosen = recommendation(result, p.choice)
        if chosen is not None:
            if days(chosen.downtime_days):
                out.append(f"- **Downtime:** {days(chosen.downtime_days)}")
            out += [f"- **Caution:** {c}" for c in chosen.cautions]
        if p.alternatives:
            out.append(f"- **Alternatives:** {'; '.join(name(kb, a, p.adjuncts) for a in p.alternatives)}")
        here, everywhere = ruled_out_here(result, p)
        for x in here:
            verb = "avoid here" if x.kind == "avoid" else "left out here"
            out.append(f"- **Ruled out ({verb}):** {kb.treatments[x.id].name}: {x.reason}")
        if everywhere:
            out.append(f"- **Also ruled out:** {joined([kb.treatments[x.id].name for x in everywhere])}")
        refs = cite(result, p.citations, cited)
        if refs:
            rules = f" (rules: {', '.join(p.rules) or 'none'})" if how is not None else ""
            out.append(f"- **Sources:** {refs}{rules}")
        if how and p.choice in how:
            out += ["", "<details><summary>How this was concluded</summary>", "", "```text"]
            out += [tree.render(how[p.choice]).rstrip(), "```", "", "</details>"]
        out.append("")
    return out


def _course(result: Result, kb: KnowledgeBase, cited: set[int]) -> list[str]:
    course = result.plan.course
    if not course:
        return []
    out = ["## Course, week by week", "", "| Weeks | Phase | What |", "|---|---|---|"]
    for ph in course:
        alongside = kb.plan.phase(ph.id).alongside
        span = f"from week {ph.start_week}" if alongside else weeks(ph.start_week, ph.end_week)
        things = []
        for item in ph.items:
            for_what = problem_numbers(result, item)
            label = name(kb, item.id, {item.id: item.adjuncts}) + (f" ({for_what})" if for_what else "")
            things.append(f"{label}: {when(item, ph.end_week, alongside)}")
        out.append(f"| {span} | {ph.title} | {'<br>'.join(things)} |")
    if result.plan.reassess_weeks:
        out.append(f"| {', '.join(map(str, result.plan.reassess_weeks))} | Re-assess | with your dermatologist |")
    planned = {i.id for ph in course for i in ph.items}
    first = [r for r in result.recommendations if r.kind == "prerequisite" and r.explanation and r.id in planned]
    if first:
        out.append("")
        out += [
            f"- **{name(kb, r.id)} comes first:** {r.explanation} {cite(result, r.citations, cited)}".rstrip()
            for r in first
        ]
    out += ["", "```mermaid", "gantt", "  title Course of care (weeks)", "  dateFormat X", "  axisFormat %s"]
    for ph in course:
        out.append(f"  section {_mermaid(ph.title)}")
        for item in ph.items:
            end = max(item.end_week, item.start_week + 1)
            out.append(f"  {_mermaid(name(kb, item.id))} :{item.start_week}, {end}")
    if result.plan.reassess_weeks:
        out.append("  section Re-assess")
        out += [f"  Week {w} :milestone, {w}, {w}" for w in result.plan.reassess_weeks]
    out += ["```", ""]
    return out


def _mermaid(text: str) -> str:
    """Mermaid task names end at ':' and break on '#' and ';': keep them out."""
    return text.replace(":", " -").replace("#", "").replace(";", ",")


def _recommendation(result: Result, r: Recommendation, how: dict[str, Node] | None, cited: set[int]) -> list[str]:
    targets = f" - for {', '.join(t.replace('_', ' ') for t in r.targets)}" if r.targets else ""
    out = [f"### {r.rank}. {r.title} ({_TIERS[r.tier]}{targets})", "", r.explanation, ""]
    if r.sequence:
        out.append(f"- **Order:** {r.sequence}")
    if r.sessions and r.kind == "procedure":
        out.append(f"- **Sessions:** {r.sessions}")
    if r.downtime_days and r.kind in ("procedure", "combination"):
        out.append(f"- **Downtime:** {days(r.downtime_days)}")
    if r.expected_results:
        out.append(f"- **What to expect:** {r.expected_results}")
    for c in r.cautions:
        out.append(f"- **Caution:** {c}")
    rules = f" (rules: {', '.join(r.rules)})" if how is not None else ""
    out.append(f"- **Sources:** {cite(result, r.citations, cited)}{rules}")
    if how and r.id in how:
        out += ["", "<details><summary>How this was concluded</summary>", "", "```text"]
        out.append(tree.render(how[r.id]).rstrip())
        out += ["```", "", "</details>"]
    out.append("")
    return out


def _routine(result: Result, kb: KnowledgeBase, cited: set[int]) -> list[str]:
    routine = result.routine
    if not routine.morning and not any(routine.evening.values()):
        return []
    names = {s.id: kb.treatments[s.id].name for s in routine.steps.values()}
    out = ["## Home care, day by day", "", f"**Morning:** {' -> '.join(names[i] for i in routine.morning)}", ""]
    out += ["| Evening | Steps |", "|---|---|"]
    for day, ids in routine.evening.items():
        out.append(f"| {day.capitalize()} | {', '.join(names[i] for i in ids) or '-'} |")
    out.append("")
    for step in routine.steps.values():
        found = recommendation(result, step.id)
        said = [step.how] if step.how else []
        said += [f"_Why:_ {found.explanation}"] if found and found.explanation else []
        said += [f"_Caution:_ {c}" for c in (found.cautions if found else ())]
        refs = cite(result, found.citations, cited) if found else ""
        said += [refs] if refs else []
        if said:
            where = f" ({step.where})" if step.where else ""
            out.append(f"- **{names[step.id]}**{where}: {' '.join(said)}")
    for r in result.recommendations:
        if r.kind == "home_care" and r.id not in routine.steps:  # a one-off the week has no slot for
            out.append(f"- **{r.title}**: {r.explanation} {cite(result, r.citations, cited)}".rstrip())
    daily = [r for r in result.recommendations if r.kind == "lifestyle"]
    if daily:
        out += ["", "**Every day:**", ""]
        out += [f"- **{r.title}**: {r.explanation} {cite(result, r.citations, cited)}".rstrip() for r in daily]
    out.append("")
    return out


def _references(result: Result, cited: set[int]) -> list[str]:
    """The works the report cited, numbered as in its text, linked where a link is known."""
    shown = [ref for ref in result.references if ref.n in cited]
    if not shown:
        return []
    out = ["## References", ""]
    for ref in shown:
        link = f" <{ref.url}>" if ref.url else ""
        out.append(f"- **[{ref.n}]** {reference_line(ref)}{link}")  # not "1.": Markdown renumbers those
    out.append("")
    return out
