"""Turning a consultation's firings into a plan, with safety enforced in one place.

Rules propose; the resolver disposes. Whatever order the rules fired in, and
whatever any single rule forgot to check, three invariants hold here:

* nothing any rule avoided is recommended;
* a combination appears only if every component is recommended and none is avoided;
* the evening routine never puts two items the catalogue keeps apart on one night.

Because the invariants live here rather than in each rule, an author cannot get
them wrong by omission, and the property tests check them in one spot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..knowledge.model import TIERS, KnowledgeBase
from ..knowledge.wording import fill
from ..patient.reader import PatientInput
from ..session.records import ActionRecord, Consultation
from ..session.session import Session
from .result import Avoidance, DroppedCombination, KbInfo, Recommendation, Result
from .routine import same_night_violations, schedule

_SECTION = {"prerequisite": 0, "procedure": 1, "combination": 1, "home_care": 2, "lifestyle": 3}


class SafetyInvariantError(AssertionError):
    """Resolution produced a plan that breaks a safety invariant: a bug, never bad input."""


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


@dataclass
class _Proposal:
    tier: str
    rules: list[str] = field(default_factory=list)
    texts: list[ActionRecord] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    components: tuple[str, ...] = ()
    sequence: list[str] = field(default_factory=list)


def _best_tier(a: str, b: str) -> str:
    return a if TIERS.index(a) <= TIERS.index(b) else b


def resolve(kb: KnowledgeBase, patient: PatientInput, consultation: Consultation) -> Result:
    rules = {r.id: r for r in kb.rules}
    proposed: dict[str, _Proposal] = {}
    combos: dict[str, _Proposal] = {}
    avoided: dict[str, _Proposal] = {}
    cautions: dict[str, list[str]] = {}
    notes: list[ActionRecord] = []

    valid = supported_firings(consultation)
    for firing in consultation.firings:
        if firing.seq not in valid:
            continue
        for action in firing.actions:
            if action.kind == "recommend":
                assert action.treatment is not None
                p = proposed.setdefault(action.treatment, _Proposal(action.tier))
                p.tier = _best_tier(p.tier, action.tier)
            elif action.kind == "combine":
                cid = "+".join(action.components)
                p = combos.setdefault(cid, _Proposal(action.tier, components=action.components))
                p.tier = _best_tier(p.tier, action.tier)
                p.sequence.append(action.sequence)
            elif action.kind == "avoid":
                assert action.treatment is not None
                p = avoided.setdefault(action.treatment, _Proposal("first_line"))
            elif action.kind == "caution":
                assert action.treatment is not None
                cautions.setdefault(action.treatment, []).append(action.text)
                continue
            elif action.kind == "note":
                notes.append(action)
                continue
            else:
                continue
            p.rules.append(firing.rule)
            p.texts.append(action)
            p.targets.extend(action.targets)

    present = _present_targets(kb, patient)

    def targets_of(p: _Proposal) -> tuple[str, ...]:
        return tuple(sorted({t for t in p.targets if present is None or t in present}))

    def explanation(p: _Proposal) -> str:
        ordered = sorted(p.texts, key=lambda a: TIERS.index(a.tier or "first_line"))
        return merge_texts(ordered)

    allowed = {tid for tid in proposed if tid not in avoided}
    dropped: list[DroppedCombination] = []
    kept_combos: dict[str, _Proposal] = {}
    for cid, p in combos.items():
        blocked = [c for c in p.components if c in avoided]
        missing = [c for c in p.components if c not in proposed]
        if blocked:
            reason = "avoided for this patient: " + ", ".join(blocked)
        elif missing:
            reason = "not recommended on their own: " + ", ".join(missing)
        else:
            kept_combos[cid] = p
            continue
        dropped.append(DroppedCombination(cid, _unique(p.rules), reason))

    def sources_of(rule_ids: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        refs = [ref for rid in rule_ids for ref in rules[rid].sources]
        return tuple(sorted({r.split("#", 1)[0] for r in refs})), tuple(sorted(set(refs)))

    recs: list[Recommendation] = []
    for tid in allowed:
        p = proposed[tid]
        t = kb.treatments[tid]
        rule_ids = _unique(p.rules)
        docs, refs = sources_of(rule_ids)
        recs.append(
            Recommendation(
                id=tid,
                title=t.title,
                kind=t.kind,
                targets=targets_of(p),
                rank=0,
                tier=p.tier,
                explanation=explanation(p),
                rules=rule_ids,
                sources=docs,
                citations=refs,
                cautions=_unique(cautions.get(tid, [])),
                downtime_days=(t.downtime_min, t.downtime_max),
                expected_results=t.results,
                sessions=" ".join(x for x in (t.sessions, t.interval) if x),
                evidence=t.evidence,
            )
        )
    for cid, p in kept_combos.items():
        rule_ids = _unique(p.rules)
        docs, refs = sources_of(rule_ids)
        parts = [kb.treatments[c] for c in p.components]
        recs.append(
            Recommendation(
                id=cid,
                title=" + ".join(t.title for t in parts),
                kind="combination",
                targets=targets_of(p),
                rank=0,
                tier=p.tier,
                explanation=explanation(p),
                rules=rule_ids,
                sources=docs,
                citations=refs,
                cautions=_unique(c for comp in p.components for c in cautions.get(comp, [])),
                components=p.components,
                sequence=" ".join(_unique(p.sequence)),
                downtime_days=(
                    max(t.downtime_min for t in parts),
                    max(t.downtime_max for t in parts),
                ),
            )
        )

    def order(r: Recommendation) -> tuple[object, ...]:
        catalogue_order = min(kb.treatments[c].order for c in (r.components or (r.id,)))
        return (
            _SECTION[r.kind],
            TIERS.index(r.tier),
            bool(r.cautions),  # a caution for this patient ranks it after clean options of its tier
            r.kind != "combination",
            -len(r.rules),
            catalogue_order,
            r.id,
        )

    recs.sort(key=order)
    ranked = tuple(_with_rank(r, i) for i, r in enumerate(recs, 1))

    avoid = []
    for tid in sorted(avoided, key=lambda t: (kb.treatments[t].order, t)):
        p = avoided[tid]
        rule_ids = _unique(p.rules)
        avoid.append(
            Avoidance(
                id=tid,
                title=kb.treatments[tid].title,
                reason=merge_texts(p.texts),
                rules=rule_ids,
                sources=sources_of(rule_ids)[0],
                proposed_by=_unique(proposed[tid].rules) if tid in proposed else (),
            )
        )

    routine = schedule(kb.treatments[r.id] for r in ranked if r.kind == "home_care")
    result = Result(
        kb=KbInfo(kb.name, kb.version, kb.digest),
        patient=patient.normalised,
        recommendations=ranked,
        avoid=tuple(avoid),
        routine=routine,
        notes=tuple(merge_texts(notes, separate=True)),
        disclaimer=kb.disclaimer,
        dropped=tuple(dropped),
        consultation=consultation,
    )
    check_invariants(result, kb)
    return result


def supported_firings(consultation: Consultation) -> set[int]:
    """The firings whose conclusions stand, and what fell with a struck-out treatment.

    A rule that reacts to a recommendation ("PRP with RF microneedling", "sun
    protection after resurfacing") matched a ``recommend`` fact; if that
    treatment ends up avoided, or itself fell this way, the reacting firing no
    longer has a reason and everything it concluded is dropped with it. This
    is decided here, centrally, so no rule has to repeat every contraindication
    of the treatment it reacts to.
    """
    facts = {f.id: f for f in consultation.facts}
    avoided = {a.treatment for f in consultation.firings for a in f.actions if a.kind == "avoid"}
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


def _join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def merge_texts(actions: Iterable[ActionRecord], *, separate: bool = False) -> Any:
    """One sentence per rule text, however many times the rule fired.

    A rule that fires once per scar site would otherwise repeat itself ("... on the
    cheeks. ... on the temples."); instead the words its variables became are
    gathered: "... on the cheeks and temples".
    """
    groups: dict[str, dict[str, list[str]]] = {}
    for action in actions:
        words = groups.setdefault(action.template or action.text, {})
        for name, label in action.labels.items():
            if label not in words.setdefault(name, []):
                words[name].append(label)
    texts = [fill(template, {k: _join_words(v) for k, v in words.items()}) for template, words in groups.items()]
    texts = list(_unique(texts))
    return texts if separate else " ".join(texts)


def _present_targets(kb: KnowledgeBase, patient: PatientInput) -> set[str] | None:
    """Values of the knowledge base's target field in this patient's input, if it declares one."""
    if kb.targets is None:
        return None
    template, field_name = kb.targets
    return {str(f.values.get(field_name)) for f in patient.facts if f.template == template}


def _with_rank(r: Recommendation, rank: int) -> Recommendation:
    from dataclasses import replace

    return replace(r, rank=rank)


def check_invariants(result: Result, kb: KnowledgeBase) -> None:
    avoided = {a.id for a in result.avoid}
    for r in result.recommendations:
        for tid in (r.id, *r.components):
            if tid in avoided:
                raise SafetyInvariantError(f"{tid} is both avoided and recommended (in {r.id})")
    singles = {r.id for r in result.recommendations if r.kind != "combination"}
    for r in result.recommendations:
        if r.kind == "combination" and not set(r.components) <= singles:
            raise SafetyInvariantError(f"combination {r.id} has a component that is not recommended")
    clashes = same_night_violations(result.routine, kb.treatments)
    if clashes:
        raise SafetyInvariantError("routine puts incompatible items on one night: " + "; ".join(clashes))


def plan(session: Session, patient: PatientInput) -> Result:
    """Consult and resolve: the whole path from input facts to a plan."""
    return resolve(session.kb, patient, session.consult(patient))
