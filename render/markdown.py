"""The plan as a Markdown report a person can be handed or print."""

from __future__ import annotations

from ..engine.explain.tree import Node
from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Result
from . import tree
from .text import input_summary

_TIERS = {"first_line": "first line", "second_line": "second line", "adjunct": "add-on"}


def render(result: Result, kb: KnowledgeBase, how: dict[str, Node] | None = None) -> str:
    out = ["# Acne-scar treatment plan", "", f"> **{result.disclaimer}**", ""]
    out.append(f"Knowledge base: {kb.name} {kb.version} (`{result.kb.digest[:19]}...`)")
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
        if not recs:
            continue
        out += [f"## {title}", ""]
        for r in recs:
            targets = f" - for {', '.join(t.replace('_', ' ') for t in r.targets)}" if r.targets else ""
            out.append(f"### {r.rank}. {r.title} ({_TIERS[r.tier]}{targets})")
            out.append("")
            out.append(r.explanation)
            out.append("")
            if r.sequence:
                out.append(f"- **Order:** {r.sequence}")
            if r.sessions and r.kind == "procedure":
                out.append(f"- **Sessions:** {r.sessions}")
            if r.downtime_days and r.kind in ("procedure", "combination"):
                lo, hi = (int(d) if float(d).is_integer() else d for d in r.downtime_days)
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
    routine = result.routine
    if routine.morning or any(routine.evening.values()):
        titles = {s.id: s.title for s in routine.steps.values()}
        out += [
            "## Daily routine",
            "",
            f"**Morning:** {' -> '.join(titles[i] for i in routine.morning)}",
            "",
        ]
        out += ["| Evening | Steps |", "|---|---|"]
        for day, ids in routine.evening.items():
            out.append(f"| {day.capitalize()} | {', '.join(titles[i] for i in ids) or '-'} |")
        out.append("")
        for step in routine.steps.values():
            if step.how:
                out.append(f"- **{step.title}:** {step.how}")
        out.append("")
    if result.avoid:
        out += ["## Avoid", ""]
        for a in result.avoid:
            out.append(f"- **{a.title}**: {a.reason} _(rules: {', '.join(a.rules)})_")
        out.append("")
    if result.notes:
        out += ["## Notes", ""]
        out += [f"- {n}" for n in result.notes]
        out.append("")
    out += ["---", "", f"_{result.disclaimer}_", ""]
    return "\n".join(out)
