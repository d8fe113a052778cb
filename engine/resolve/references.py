"""A plan's numbered reference list, from the citations its parts carry.

Rules cite documents by file name and section (``doc#anchor``): exact for a
knowledge engineer, opaque to anyone reading a plan. When ``kb.yaml`` lists a
document's sections with the publications it names for each, a plan cites those
publications, which a reader can look up, instead of a digest they do not have.
Everything else is cited as the document itself, under its title.

Numbers follow the order a reader meets the citations (alerts, then problems,
then the rest of the plan), so the first reference in the text is [1]. They are
assigned here, once, so the text, Markdown and JSON renderings agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..knowledge.model import KnowledgeBase
from .result import Reference, Result


def works(kb: KnowledgeBase, ref: str) -> tuple[str, ...]:
    """The ids (publications or source names) a reader should look up for one citation."""
    name, _, anchor = ref.partition("#")
    source = kb.sources.get(name)
    if source is not None and anchor and anchor in source.sections:
        return source.sections[anchor]
    return (name,)


def number(kb: KnowledgeBase, result: Result) -> tuple[Reference, ...]:
    """Every work the plan cites, numbered in reading order, with what cites it."""
    cited_as: dict[str, list[str]] = {}
    for ref in dict.fromkeys(_in_reading_order(result)):  # each citation once, where it is first met
        for wid in works(kb, ref):
            cited_as.setdefault(wid, []).append(ref)
    out = []
    for n, (wid, refs) in enumerate(cited_as.items(), 1):
        pub = kb.publications.get(wid)
        if pub is not None:
            out.append(Reference(n, wid, pub.title, pub.confidence, pub.kind, pub.url, tuple(sorted(refs))))
        else:
            doc = kb.sources[wid]
            out.append(Reference(n, wid, doc.title, doc.confidence, doc.description, "", tuple(sorted(refs))))
    return tuple(out)


def _in_reading_order(result: Result) -> Iterable[str]:
    """Citations in the order the plan shows the parts that carry them.

    The plan's own lines come first, so the numbers it prints run 1, 2, 3...;
    what only the full list of options shows (alternatives, every option
    considered) follows, and numbers on from there.
    """
    for a in result.alerts:
        yield from a.citations
    by_id = {r.id: r for r in result.recommendations}
    for p in result.plan.problems:
        yield from p.citations
    for oid in result.plan.also:
        if oid in by_id:
            yield from by_id[oid].citations
    for r in result.recommendations:
        if r.kind == "prerequisite":
            yield from r.citations
    for sid in result.routine.steps:
        if sid in by_id:
            yield from by_id[sid].citations
    for r in result.recommendations:
        if r.kind in ("home_care", "lifestyle"):
            yield from r.citations
    for x in result.avoid:
        yield from x.citations
    for lo in result.left_out:
        yield from lo.citations
    for r in result.recommendations:
        yield from r.citations
