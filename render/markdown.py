"""The plan as a Markdown report a person can be handed or print."""

from __future__ import annotations

from ..engine.common.numbers import plain
from ..engine.explain.tree import Node
from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Recommendation, Result, Routine
from . import tree
from .text import NOTHING_FITS, input_summary

_TIERS = {"first_line": "first line", "second_line": "second line", "adjunct": "add-on"}


def render(result: Result, kb: KnowledgeBase, how: dict[str, Node] | None = None) -> str:
    """The plan as Markdown; ``how`` adds a folded derivation under each recommendation."""
    out = [f"# {kb.title or kb.name + ' plan'}", "", f"> **{result.disclaimer}**", ""]
    out.append(f"Knowledge base: {kb.name} {kb.version} (`{result.kb.digest[:19]}...`)")
    out.append("")
    if result.alerts:
        out += ["## Alerts: act on these first", ""]
        out += [f"- **{a.severity.upper()}:** {a.text} _(sources: {', '.join(a.sources)})_" for a in result.alerts]
        out.append("")
    out += ["## Input", ""] + [f"- {line}" for line in input_summary(result, kb)] + [""]
    sections = (
        ("First", ("prerequisite",)),
        ("Procedures and combinations", ("procedure", "combination")),
        ("Home care", ("home_care",)),
        ("Lifestyle", ("lifestyle",)),
    )
    for title, kinds in sections:
        recs = [r for r in result.recommendations if r.kind in kinds]
        if not recs and "procedure" in kinds and result.left_out:
            out += [f"## {title}", "", NOTHING_FITS.replace("LEFT OUT FOR YOUR PREFERENCES", "*Left out*"), ""]
        if recs:
            out += [f"## {title}", ""]
            for r in recs:
                out += _recommendation(r, how)
    out += _routine(result.routine)
    if result.avoid:
        out += ["## Avoid", ""]
        for a in result.avoid:
            out.append(f"- **{a.title}**: {a.reason} _(rules: {', '.join(a.rules)})_")
        out.append("")
    if result.left_out:
        out += ["## Left out for your preferences", ""]
        out += [f"- **{x.title}**: {x.reason} _(rules: {', '.join(x.rules)})_" for x in result.left_out]
        out.append("")
    if result.notes:
        out += ["## Notes", ""]
        out += [f"- {n}" for n in result.notes]
        out.append("")
    out += ["---", "", f"_{result.disclaimer}_", ""]
    return "\n".join(out)


def _recommendation(r: Recommendation, how: dict[str, Node] | None) -> list[str]:
    targets = f" - for {', '.join(t.replace('_', ' ') for t in r.targets)}" if r.targets else ""
    out = [f"### {r.rank}. {r.title} ({_TIERS[r.tier]}{targets})", "", r.explanation, ""]
    if r.sequence:
        out.append(f"- **Order:** {r.sequence}")
    if r.sessions and r.kind == "procedure":
        out.append(f"- **Sessions:** {r.sessions}")
    if r.downtime_days and r.kind in ("procedure", "combination"):
        lo, hi = (plain(d) for d in r.downtime_days)
        out.append(f"- **Downtime:** {lo}-{hi} days" if lo != hi else f"- **Downtime:** {lo} days")
    if r.expected_results:
        out.append(f"- **What to expect:** {r.expected_results}")
    for c in r.cautions:
        out.append(f"- **Caution:** {c}")
    out.append(f"- **Sources:** {', '.join(r.citations)} (rules: {', '.join(r.rules)})")
    if how and r.id in how:
        out += ["", "<details><summary>How this was concluded</summary>", "", "```text"]
        out.append(tree.render(how[r.id]).rstrip())
        out += ["```", "", "</details>"]
    out.append("")
    return out


def _routine(routine: Routine) -> list[str]:
    if not routine.morning and not any(routine.evening.values()):
        return []
    titles = {s.id: s.title for s in routine.steps.values()}
    out = ["## Daily routine", "", f"**Morning:** {' -> '.join(titles[i] for i in routine.morning)}", ""]
    out += ["| Evening | Steps |", "|---|---|"]
    for day, ids in routine.evening.items():
        out.append(f"| {day.capitalize()} | {', '.join(titles[i] for i in ids) or '-'} |")
    out.append("")
    for step in routine.steps.values():
        if step.how:
            out.append(f"- **{step.title}:** {step.how}")
    out.append("")
    return out
