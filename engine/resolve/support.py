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
    avoided = set(struck)
    recommends: list[tuple[int, str]] = []  # (firing, treatment) of every recommendation
    depends: dict[int, set[str]] = {}  # firing -> the recommended treatments it matched (if any)
    for f in consultation.firings:
        for a in f.actions:
            if a.kind == "recommend":
                recommends.append((f.seq, a.treatment))
            elif a.kind in ("avoid", "leave_out") and not a.scope:
                avoided.add(a.treatment)
        needs = {facts[m].values["treatment"] for m in f.matched if facts[m].template == "recommend"}
        if needs:
            depends[f.seq] = needs
    recommends = [(seq, t) for seq, t in recommends if t not in avoided]
    valid = {f.seq for f in consultation.firings}
    while True:
        standing = {t for seq, t in recommends if seq in valid}
        still = {seq for seq in valid if seq not in depends or depends[seq] <= standing}
        if still == valid:
            break
        valid = still
    return valid
