"""Turning a consultation's firings into a plan, one named step at a time.

gather what the standing firings proposed (:mod:`.proposals`), keep what is
allowed and drop unsafe combinations (:mod:`.safety`), build the entries, rank
them (:mod:`.rank`), schedule home care (:mod:`.routine`), and finally check the
safety invariants on the finished plan. The plan is a function of the firings
alone, which is what lets ``trace replay`` re-resolve a recorded consultation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..common.memo import derived
from ..knowledge.model import SEVERITIES, TIERS, KnowledgeBase
from ..patient.reader import PatientInput
from ..session.records import Consultation
from .areas import areas
from .choice import Context, decide, rank
from .course import schedule as schedule_course
from .options import Exclusion, Option, excluded_for, outright, proposed, scoped
from .problems import Group
from .problems import groups as problem_groups
from .proposals import Proposal, Proposals, gather
from .rank import ranked
from .references import number
from .result import Alert, Avoidance, KbInfo, LeftOut, Plan, Problem, Recommendation, Result
from .roots import roots
from .routine import schedule
from .safety import allowed, check_invariants, split_combinations
from .summary import summary
from .support import supported_firings
from .texts import merge_texts, unique

if TYPE_CHECKING:  # a plan needs a session, but resolving (replay, explain) must not import the engine
    from ..session.session import Session


def resolve(kb: KnowledgeBase, patient: PatientInput, consultation: Consultation) -> Result:
    present = _present_targets(kb, patient)
    firing_roots, fact_roots = roots(consultation, kb.targets[0] if kb.targets else "")
    groups = problem_groups(kb, patient.facts, consultation, fact_roots)
    valid, exclusions, options, struck = _standing(kb, consultation, firing_roots, groups)
    proposals = gather(consultation, valid)
    _rule_out_everywhere(proposals, struck)
    kept_combos, dropped = split_combinations(proposals)
    recs = [_single(kb, tid, proposals.recommended[tid], proposals.cautions, present) for tid in allowed(proposals)]
    recs += [_combination(kb, cid, p, proposals.cautions, present) for cid, p in kept_combos.items()]
    problems = _problems(kb, groups, options, proposals, exclusions, frozenset(r.id for r in recs))
    recommendations = ranked(recs, kb, problems, proposals.risks)
    alerts = _alerts(kb, proposals.alerts)
    also = _also(recommendations, proposals)
    course, reassess = schedule_course(kb, problems, recommendations, also)
    items_key = kb.templates[kb.targets[0]].input.key if kb.targets else "items"  # type: ignore[union-attr]
    result = Result(
        kb=KbInfo(kb.name, kb.version, kb.digest),
        patient=patient.normalised,
        recommendations=recommendations,
        avoid=_avoidances(kb, proposals.avoided, proposals.recommended),
        routine=schedule(
            (kb.treatments[r.id] for r in recommendations if r.kind == "home_care"),
            areas(kb, consultation, valid, firing_roots, groups, (r.id for r in recommendations)),
        ),
        notes=tuple(merge_texts(proposals.notes, separate=True)),
        disclaimer=kb.disclaimer,
        dropped=tuple(dropped),
        alerts=alerts,
        left_out=_left_out(kb, proposals),
        plan=Plan(
            summary(kb, alerts, problems, course, reassess),
            problems,
            course,
            reassess,
            items_key,
            also,
        ),
        consultation=consultation,
    )
    result = replace(result, references=number(kb, result))
    check_invariants(result, kb)
    return result


def _standing(
    kb: KnowledgeBase, consultation: Consultation, firing_roots: dict[int, frozenset[str]], groups: tuple[Group, ...]
) -> tuple[set[int], list[Exclusion], dict[str, dict[str, Option]], dict[str, list[Exclusion]]]:
    """The standing firings once scoped exclusions that leave a treatment nowhere rule it out outright.

    Striking a treatment out everywhere can take down what depended on it (an
    add-on, a combination), which can leave another treatment nowhere, so this
    repeats until nothing more is struck; it only ever strikes more.
    """
    struck: dict[str, list[Exclusion]] = {}
    while True:
        valid = supported_firings(consultation, frozenset(struck))
        exclusions = scoped(consultation, valid)
        options = proposed(kb, consultation, valid, firing_roots, groups)
        found = outright(exclusions, groups, options)
        if set(found) <= set(struck):
            return valid, [e for e in exclusions if e.treatment not in struck], options, struck
        struck.update(found)


def _also(recommendations: tuple[Recommendation, ...], proposals: Proposals) -> tuple[str, ...]:
    """Corrective options whose rules name no target: they answer something outside the input list.

    An option whose rules target kinds the person does not have is no part of the
    plan; one that names no target at all (a finding of the person, not of an
    input item) is, and the plan lists it apart.
    """
    found = {**proposals.recommended, **proposals.combinations}
    return tuple(
        r.id
        for r in recommendations
        if r.kind in ("procedure", "combination") and r.tier != TIERS[-1] and not found[r.id].targets
    )


def _rule_out_everywhere(proposals: Proposals, struck: dict[str, list[Exclusion]]) -> None:
    """Scoped exclusions that left a treatment nowhere join the avoided (or left-out) list."""
    for tid, found in struck.items():
        unsafe = [e for e in found if e.kind == "avoid"]
        target = proposals.avoided if unsafe else proposals.left_out
        p = target.setdefault(tid, Proposal(TIERS[0]))
        for e in unsafe or found:
            p.add(e.rule, e.action)
            if e.kind == "leave_out" and e.action.constraint not in p.constraints:
                p.constraints.append(e.action.constraint)


def _problems(
    kb: KnowledgeBase,
    groups: tuple[Group, ...],
    options: dict[str, dict[str, Option]],
    proposals: Proposals,
    exclusions: list[Exclusion],
    allowed_ids: frozenset[str],
) -> tuple[Problem, ...]:
    """Each problem with its choice, alternatives and reasons, knowing what the other problems chose."""
    contexts = {g.id: Context(kb, allowed_ids, proposals, excluded_for(g, exclusions)) for g in groups}
    rankings = {g.id: rank(contexts[g.id], g, options[g.id]) for g in groups}
    chosen = {gid: set(r.choice.components) if r.choice else set() for gid, r in rankings.items()}
    return tuple(
        decide(
            contexts[g.id],
            g,
            options[g.id],
            rankings[g.id],
            frozenset().union(*(c for gid, c in chosen.items() if gid != g.id)),
        )
        for g in groups
    )


def plan(session: Session, patient: PatientInput) -> Result:
    """Consult and resolve: the whole path from input facts to a plan."""
    return resolve(session.kb, patient, session.consult(patient))


def _sources(kb: KnowledgeBase, rule_ids: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The documents the rules cite, and the same with their section anchors.

    The same sets of rules come back plan after plan, so the answers are kept per
    knowledge base (a bounded memory: it starts again when full).
    """
    known = derived(kb, _no_sources)
    found = known.get(rule_ids)
    if found is None:
        refs = [ref for rid in rule_ids for ref in kb.rule(rid).sources]
        found = tuple(sorted({r.split("#", 1)[0] for r in refs})), tuple(sorted(set(refs)))
        if len(known) >= 10_000:
            known.clear()
        known[rule_ids] = found
    return found


def _no_sources(kb: KnowledgeBase) -> dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]]:
    return {}


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
        docs, refs = _sources(kb, rule_ids)
        out.append(
            Avoidance(
                id=tid,
                title=kb.treatments[tid].title,
                reason=merge_texts(p.texts),
                rules=rule_ids,
                sources=docs,
                proposed_by=unique(recommended[tid].rules) if tid in recommended else (),
                citations=refs,
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
        docs, refs = _sources(kb, rule_ids)
        out.append(
            LeftOut(
                tid,
                t.title,
                tuple(p.constraints),
                merge_texts(p.texts),
                rule_ids,
                docs,
                (t.downtime_min, t.downtime_max),
                refs,
            )
        )
    return tuple(out)


def _alerts(kb: KnowledgeBase, alerts: dict[str, Proposal]) -> tuple[Alert, ...]:
    """Urgent before warning; within each, in the order the rules raised them."""
    ordered = sorted(alerts.items(), key=lambda item: SEVERITIES.index(item[1].severity))
    out = []
    for aid, p in ordered:
        rule_ids = unique(p.rules)
        docs, refs = _sources(kb, rule_ids)
        out.append(Alert(aid, p.severity, merge_texts(p.texts), rule_ids, docs, refs))
    return tuple(out)


def _present_targets(kb: KnowledgeBase, patient: PatientInput) -> set[str] | None:
    """Values of the knowledge base's target field in this patient's input, if it declares one."""
    if kb.targets is None:
        return None
    template, field_name = kb.targets
    return {str(f.values.get(field_name)) for f in patient.facts if f.template == template}
