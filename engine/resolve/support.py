"""Which firings still stand once avoidances are known: the central dependency check.

A rule that reacts to a recommendation ("add this when that is recommended")
matched a ``recommend`` fact. If that treatment ends up avoided, or itself fell
this way, the reacting firing no longer has a reason and everything it
concluded is dropped with it. Deciding this once, here, means no rule has to
repeat every contraindication of the treatment it reacts to; ``trace how`` asks
the same question, so it imports this rather than keeping a copy.
"""

from __future__ import annotations

from ..session.records import Consultation


def supported_firings(consultation: Consultation, struck: frozenset[str] = frozenset()) -> set[int]:
    """The sequence numbers of the firings whose conclusions stand.

    ``struck`` names treatments ruled out beyond the unscoped avoids: those whose
    scoped exclusions left them no problem to serve (:mod:`.options`).
    """
    facts = {f.id: f for f in consultation.facts}
    # Left out for a preference strikes a treatment out of this plan just as avoiding it does;
    # a scoped exclusion does not, since the treatment stands for the other problems.
    avoided = {
        a.treatment for f in consultation.firings for a in f.actions if a.kind in ("avoid", "leave_out") and not a.scope
    } | struck
    depends: dict[int, set[str]] = {
        f.seq: {facts[m].values["treatment"] for m in f.matched if facts[m].template == "recommend"}
        for f in consultation.firings
    }
    valid = {f.seq for f in consultation.firings}
    while True:
        standing = {
            a.treatment
            for f in consultation.firings
            if f.seq in valid
            for a in f.actions
            if a.kind == "recommend" and a.treatment not in avoided
        }
        still = {seq for seq in valid if depends[seq] <= standing}
        if still == valid:
            break
        valid = still
    return valid
