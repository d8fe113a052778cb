"""Turning a consultation's firings into a plan, one named step at a time.

gather what the standing firings proposed (:mod:`.proposals`), keep what is
allowed and drop unsafe combinations (:mod:`.safety`), build the entries, rank
them (:mod:`.rank`), schedule home care (:mod:`.routine`), and finally check the
safety invariants on the finished plan. The plan is a function of the firings
alone, which is what lets ``trace replay`` re-resolve a recorded consultation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..knowledge.model import SEVERITIES, TIERS, KnowledgeBase
from ..patient.reader import PatientInput
from ..session.records import Consultation
from .proposals import Proposal, Proposals, gather
from .rank import ranked
from .result import Alert, Avoidance, KbInfo, LeftOut, Recommendation, Result
from .routine import schedule
from .safety import allowed, check_invariants, split_combinations
from .texts import merge_texts, unique

if TYPE_CHECKING:  # a plan needs a session, but resolving (replay, explain) must not import the engine
    from ..session.session import Session


def resolve(kb: KnowledgeBase, patient: PatientInput, consultation: Consultation) -> Result:
    proposals = gather(consultation)
    present = _present_targets(kb, patient)
    kept_combos, dropped = split_combinations(proposals)
    recs = [_single(kb, tid, proposals.recommended[tid], proposals.cautions, present) for tid in allowed(proposals)]
    recs += [_combination(kb, cid, p, proposals.cautions, present) for cid, p in kept_combos.items()]
    recommendations = ranked(recs, kb)
    result = Result(
        kb=KbInfo(kb.name, kb.version, kb.digest),
        patient=patient.normalised,
        recommendations=recommendations,
        avoid=_avoidances(kb, proposals.avoided, proposals.recommended),
        routine=schedule(kb.treatments[r.id] for r in recommendations if r.kind == "home_care"),
        notes=tuple(merge_texts(proposals.notes, separate=True)),
        disclaimer=kb.disclaimer,
        dropped=tuple(dropped),
        alerts=_alerts(kb, proposals.alerts),
        left_out=_left_out(kb, proposals),
        consultation=consultation,
    )
    check_invariants(result, kb)
    return result


def plan(session: Session, patient: PatientInput) -> Result:
    """Consult and resolve: the whole path from input facts to a plan."""
    return resolve(session.kb, patient, session.consult(patient))


def _sources(kb: KnowledgeBase, rule_ids: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The documents the rules cite, and the same with their section anchors."""
    refs = [ref for rid in rule_ids for ref in kb.rule(rid).sources]
    return tuple(sorted({r.split("#", 1)[0] for r in refs})), tuple(sorted(set(refs)))


def _targets(p: Proposal, present: set[str] | None) -> tuple[str, ...]:
    return tuple(sorted({t for t in p.targets if present is None or t in present}))


def _explanation(p: Proposal) -> str:
    return merge_texts(sorted(p.texts, key=lambda a: TIERS.index(a.tier or TIERS[0])))


def _entry(kb: KnowledgeBase, p: Proposal, present: set[str] | None) -> dict[str, object]:
    """What every recommendation, single or combined, takes from its proposal."""
    rule_ids = unique(p.rules)
    docs, refs = _sources(kb, rule_ids)
    return {
        "targets": _targets(p, present),
        "rank": 0,
        "tier": p.tier,
        "explanation": _explanation(p),
        "rules": rule_ids,
        "sources": docs,
        "citations": refs,
    }


def _single(
    kb: KnowledgeBase, tid: str, p: Proposal, cautions: dict[str, list[str]], present: set[str] | None
) -> Recommendation:
    t = kb.treatments[tid]
    return Recommendation(
        id=tid,
        title=t.title,
        kind=t.kind,
        **_entry(kb, p, present),  # type: ignore[arg-type]
        cautions=unique(cautions.get(tid, [])),
        downtime_days=(t.downtime_min, t.downtime_max),
        expected_results=t.results,
        sessions=" ".join(x for x in (t.sessions, t.interval) if x),
        evidence=t.evidence,
    )


def _combination(
    kb: KnowledgeBase, cid: str, p: Proposal, cautions: dict[str, list[str]], present: set[str] | None
) -> Recommendation:
    parts = [kb.treatments[c] for c in p.components]
    return Recommendation(
        id=cid,
        title=" + ".join(t.title for t in parts),
        kind="combination",
        **_entry(kb, p, present),  # type: ignore[arg-type]
        cautions=unique(c for comp in p.components for c in cautions.get(comp, [])),
        components=p.components,
        sequence=" ".join(unique(p.sequence)),
        downtime_days=(max(t.downtime_min for t in parts), max(t.downtime_max for t in parts)),
    )


def _avoidances(
    kb: KnowledgeBase, avoided: dict[str, Proposal], recommended: dict[str, Proposal]
) -> tuple[Avoidance, ...]:
    out = []
    for tid in sorted(avoided, key=lambda t: (kb.treatments[t].order, t)):
        p = avoided[tid]
        rule_ids = unique(p.rules)
        out.append(
            Avoidance(
                id=tid,
                title=kb.treatments[tid].title,
                reason=merge_texts(p.texts),
                rules=rule_ids,
                sources=_sources(kb, rule_ids)[0],
                proposed_by=unique(recommended[tid].rules) if tid in recommended else (),
            )
        )
    return tuple(out)


def _left_out(kb: KnowledgeBase, proposals: Proposals) -> tuple[LeftOut, ...]:
    """The options some rule proposed for this person that a preference rules out, in
    catalogue order. What no rule proposed was never an option, so it is not listed;
    what is also avoided is unsafe, and listed as avoided only."""
    proposed = set(proposals.recommended) | {c for p in proposals.combinations.values() for c in p.components}
    out = []
    for tid in sorted(proposals.left_out, key=lambda t: (kb.treatments[t].order, t)):
        if tid in proposals.avoided or tid not in proposed:
            continue
        p, t = proposals.left_out[tid], kb.treatments[tid]
        rule_ids = unique(p.rules)
        out.append(
            LeftOut(
                tid,
                t.title,
                tuple(p.constraints),
                merge_texts(p.texts),
                rule_ids,
                _sources(kb, rule_ids)[0],
                (t.downtime_min, t.downtime_max),
            )
        )
    return tuple(out)


def _alerts(kb: KnowledgeBase, alerts: dict[str, Proposal]) -> tuple[Alert, ...]:
    """Urgent before warning; within each, in the order the rules raised them."""
    ordered = sorted(alerts.items(), key=lambda item: SEVERITIES.index(item[1].severity))
    out = []
    for aid, p in ordered:
        rule_ids = unique(p.rules)
        out.append(Alert(aid, p.severity, merge_texts(p.texts), rule_ids, _sources(kb, rule_ids)[0]))
    return tuple(out)


def _present_targets(kb: KnowledgeBase, patient: PatientInput) -> set[str] | None:
    """Values of the knowledge base's target field in this patient's input, if it declares one."""
    if kb.targets is None:
        return None
    template, field_name = kb.targets
    return {str(f.values.get(field_name)) for f in patient.facts if f.template == template}
