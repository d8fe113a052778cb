"""Which input items each firing rests on: the link from a conclusion to the problems it serves.

A recommendation reaches a problem (a group of input items) through the facts its
rule matched: an input item directly, or a derived fact whose own firings rest on
input items, and so on down. A derived fact that several firings asserted (CLIPS
keeps one copy) rests on all of them, which is why the session records the fact a
duplicate assertion matched. The answer is a fixpoint, computed from the firing
record alone, so replaying a trace finds the same links.
"""

from __future__ import annotations

from collections import deque

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
        seq = firing.seq
        by_seq[seq] = firing
        for m in firing.matched:
            readers.setdefault(m, []).append(seq)
        written = []
        for a in firing.actions:
            fid = a.fact or a.same_as
            if fid in fact_roots:
                written.append(fid)
        writes[seq] = written
    pending = deque(by_seq)
    while pending:
        seq = pending.popleft()
        found: set[str] = set()
        for m in by_seq[seq].matched:
            if m in fact_roots:
                found |= fact_roots[m]
        before = under.get(seq)
        if before is not None and found <= before:
            continue
        mine = under[seq] = found if before is None else before | found
        for fid in writes[seq]:
            if not mine <= fact_roots[fid]:
                fact_roots[fid] |= mine
                pending.extend(r for r in readers.get(fid, ()) if r in under)  # already seen: look again
    return (
        {seq: frozenset(r) if r else _NONE for seq, r in under.items()},
        {fid: frozenset(r) if r else _NONE for fid, r in fact_roots.items()},
    )


_NONE: frozenset[str] = frozenset()
