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
    """The ids of the ``template`` input facts beneath each firing (by sequence number) and each fact.

    One pass in firing order settles almost everything; when a later duplicate
    assertion widens a fact that earlier firings already used, a worklist carries
    the change on to them and to what they asserted.
    """
    fact_roots: dict[str, set[str]] = {
        f.id: ({f.id} if f.origin == "input" and f.template == template else set()) for f in consultation.facts
    }
    under: dict[int, set[str]] = {}
    readers: dict[str, list[int]] = {}  # fact -> firings that matched it
    writes: dict[int, list[str]] = {}  # firing -> facts it asserted (new or already known)
    by_seq = {}
    for firing in consultation.firings:
        by_seq[firing.seq] = firing
        for m in firing.matched:
            readers.setdefault(m, []).append(firing.seq)
        writes[firing.seq] = [a.fact or a.same_as for a in firing.actions if (a.fact or a.same_as) in fact_roots]
    pending = list(by_seq)
    while pending:
        seq = pending.pop(0)
        found = set().union(*(fact_roots[m] for m in by_seq[seq].matched if m in fact_roots))
        if seq in under and found <= under[seq]:
            continue
        under[seq] = under.get(seq, set()) | found
        for fid in writes[seq]:
            if not under[seq] <= fact_roots[fid]:
                fact_roots[fid] |= under[seq]
                pending.extend(r for r in readers.get(fid, ()) if r in under)  # already seen: look again
    return (
        {seq: frozenset(r) for seq, r in under.items()},
        {fid: frozenset(r) for fid, r in fact_roots.items()},
    )
