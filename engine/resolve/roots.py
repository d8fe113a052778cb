"""Which input items each firing rests on: the link from a conclusion to the problems it serves.

A recommendation reaches a problem (a group of input items) through the facts its
rule matched: an input item directly, or a derived fact whose own firings rest on
input items, and so on down. A derived fact that several firings asserted (CLIPS
keeps one copy) rests on all of them, which is why the session records the fact a
duplicate assertion matched. The answer is a fixpoint, computed from the firing
record alone, so replaying a trace finds the same links.
"""

from __future__ import annotations

from ..session.records import Consultation


def roots(consultation: Consultation, template: str) -> tuple[dict[int, frozenset[str]], dict[str, frozenset[str]]]:
    """The ids of the ``template`` input facts beneath each firing (by sequence number) and each fact."""
    facts = {f.id: f for f in consultation.facts}
    fact_roots: dict[str, set[str]] = {
        f.id: ({f.id} if f.origin == "input" and f.template == template else set()) for f in consultation.facts
    }
    asserted_by: dict[str, list[int]] = {}
    for firing in consultation.firings:
        for action in firing.actions:
            fid = action.fact or action.same_as
            if fid is not None and fid in facts:
                asserted_by.setdefault(fid, []).append(firing.seq)
    by_seq = {f.seq: f for f in consultation.firings}
    under: dict[int, set[str]] = {seq: set() for seq in by_seq}
    changed = True
    while changed:  # a duplicate assertion can widen a fact an earlier firing already used
        changed = False
        for seq, firing in by_seq.items():
            found = set().union(*(fact_roots.get(m, set()) for m in firing.matched)) if firing.matched else set()
            if found - under[seq]:
                under[seq] |= found
                changed = True
        for fid, seqs in asserted_by.items():
            found = set().union(*(under[s] for s in seqs))
            if found - fact_roots[fid]:
                fact_roots[fid] |= found
                changed = True
    return (
        {seq: frozenset(r) for seq, r in under.items()},
        {fid: frozenset(r) for fid, r in fact_roots.items()},
    )
