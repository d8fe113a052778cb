"""Words both the text and the Markdown plan use, so the two never word a plan differently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.common.numbers import plain
from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import CourseItem, Problem, Recommendation, Reference, Result
from ..engine.resolve.texts import joined


def days(downtime: tuple[float, float] | None) -> str:
    if downtime is None:
        return ""
    lo, hi = (plain(d) for d in downtime)
    if hi == 0:
        return "none"
    return f"{lo} day{'s' if lo != 1 else ''}" if lo == hi else f"{lo}-{hi} days"


def name(kb: KnowledgeBase, option_id: str, adjuncts: Mapping[str, Sequence[str]] | None = None) -> str:
    """An option's short name with its add-ons: "Subcision ± PRP"."""
    text = " + ".join(kb.treatments[c].name for c in option_id.split("+"))
    return text + "".join(f" ± {kb.treatments[a].name}" for a in (adjuncts or {}).get(option_id, ()))


def title(kb: KnowledgeBase, option_id: str) -> str:
    return " + ".join(kb.treatments[c].title for c in option_id.split("+"))


def grade(kb: KnowledgeBase, value: float | None) -> str:
    """The grade in the knowledge base's words ("4 (severe)"), or '' when none."""
    if value is None or kb.plan.grade is None:
        return ""
    template, field = kb.plan.grade
    return kb.templates[template].fields[field].label(plain(value))


def heading(kb: KnowledgeBase, result: Result, p: Problem) -> str:
    """ "Deep ice pick scars on the cheeks (scars 1; grade 4 (severe))"."""
    label = p.title[:1].upper() + p.title[1:]
    items = f"{result.plan.items_key} {', '.join(map(str, p.items))}"
    graded = grade(kb, p.grade)
    return f"{label} ({items}{'; grade ' + graded if graded else ''})"


def weeks(start: int, end: int) -> str:
    return f"week {start}" if start == end else f"weeks {start}-{end}"


def when(item: CourseItem, phase_end: int, alongside: bool) -> str:
    """When an item happens: its session weeks, its span, or from when it starts."""
    if item.sessions is not None:
        if item.sessions == 1:
            return f"week {item.start_week}, one session"
        step = item.interval_weeks or 0
        at = [str(item.start_week + k * step) for k in range(item.sessions)]
        return f"{item.sessions} sessions, every {step} weeks: weeks {', '.join(at)}"
    if alongside:
        return f"from week {item.start_week}"
    return weeks(item.start_week, item.end_week if item.end_week else phase_end)


def problem_numbers(result: Result, item: CourseItem) -> str:
    numbers = {p.id: str(i) for i, p in enumerate(result.plan.problems, 1)}
    found = [numbers[p] for p in item.problems if p in numbers]
    if not found:
        return ""
    return f"problem {found[0]}" if len(found) == 1 else f"problems {joined(found)}"


def recommendation(result: Result, option_id: str | None) -> Recommendation | None:
    return next((r for r in result.recommendations if r.id == option_id), None)


def ruled_out_here(result: Result, p: Problem) -> tuple[list[Any], list[Any]]:
    """(ruled out for this problem only, ruled out for the whole plan) among its ruled-out options."""
    everywhere = {a.id for a in result.avoid} | {x.id for x in result.left_out}
    here = [x for x in p.ruled_out if x.id not in everywhere]
    return here, [x for x in p.ruled_out if x.id in everywhere]


def spans(numbers: Sequence[int]) -> str:
    """ "1-3, 7" for 1, 2, 3, 7: a problem citing seven works stays one short line."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(_span(run))
        run = [n]
    if run:
        out.append(_span(run))
    return ", ".join(out)


def _span(run: list[int]) -> str:
    if len(run) == 1:
        return str(run[0])
    return f"{run[0]}-{run[-1]}" if len(run) > 2 else f"{run[0]}, {run[1]}"


def cite(result: Result, citations: Sequence[str], cited: set[int]) -> str:
    """ "[1-3, 7]" for these citations, remembering the numbers so the list prints them."""
    numbers = result.numbers(citations)
    cited.update(numbers)
    return f"[{spans(numbers)}]" if numbers else ""


def reference_line(ref: Reference) -> str:
    """One entry of the reference list: what to look up, what sort of work, how far to trust it."""
    title = ref.title.rstrip()
    title += "" if title.endswith((".", "?", "!")) else "."
    kind = ref.kind.rstrip(".")
    return f"{title} {kind}; confidence: {ref.confidence}." if kind else f"{title} Confidence: {ref.confidence}."
