"""Gathering what the standing firings proposed, per treatment and per combination."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..knowledge.model import SEVERITIES, TIERS
from ..session.records import ActionRecord, Consultation
from .support import supported_firings


@dataclass
class Proposal:
    """Everything the rules said about one id: best tier, rules, texts, targets."""

    tier: str
    rules: list[str] = field(default_factory=list)
    texts: list[ActionRecord] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    components: tuple[str, ...] = ()
    sequence: list[str] = field(default_factory=list)
    severity: str = ""  # alerts only: the most pressing one any firing gave
    constraints: list[str] = field(default_factory=list)  # left out only: the preferences that rule it out

    def add(self, rule: str, action: ActionRecord) -> None:
        self.rules.append(rule)
        self.texts.append(action)
        self.targets.extend(action.targets)


@dataclass
class Proposals:
    """What the standing firings proposed, grouped by kind, before resolution decides."""

    recommended: dict[str, Proposal] = field(default_factory=dict)
    combinations: dict[str, Proposal] = field(default_factory=dict)
    avoided: dict[str, Proposal] = field(default_factory=dict)
    cautions: dict[str, list[str]] = field(default_factory=dict)
    notes: list[ActionRecord] = field(default_factory=list)
    alerts: dict[str, Proposal] = field(default_factory=dict)  # in the order they were first raised
    left_out: dict[str, Proposal] = field(default_factory=dict)  # for a preference, not for safety
    risks: dict[str, list[str]] = field(default_factory=dict)  # cautions that name a risk for this person


def best_tier(a: str, b: str) -> str:
    return a if TIERS.index(a) <= TIERS.index(b) else b


def gather(consultation: Consultation, valid: set[int] | None = None) -> Proposals:
    """The actions of every standing firing, grouped by the id they concern.

    Scoped avoids and leave-outs are not gathered here: they rule a treatment out
    for some problems only (:mod:`.options`).
    """
    out = Proposals()
    valid = supported_firings(consultation) if valid is None else valid
    for firing in consultation.firings:
        if firing.seq not in valid:
            continue
        for action in firing.actions:
            if action.kind == "recommend":
                assert action.treatment is not None
                p = out.recommended.setdefault(action.treatment, Proposal(action.tier))
                p.tier = best_tier(p.tier, action.tier)
            elif action.kind == "combine":
                cid = "+".join(action.components)
                p = out.combinations.setdefault(cid, Proposal(action.tier, components=action.components))
                p.tier = best_tier(p.tier, action.tier)
                p.sequence.append(action.sequence)
            elif action.kind in ("avoid", "leave_out") and action.scope:
                continue
            elif action.kind == "avoid":
                assert action.treatment is not None
                p = out.avoided.setdefault(action.treatment, Proposal(TIERS[0]))
            elif action.kind == "caution":
                assert action.treatment is not None
                out.cautions.setdefault(action.treatment, []).append(action.text)
                if action.risk:
                    out.risks.setdefault(action.treatment, []).append(action.text)
                continue
            elif action.kind == "note":
                out.notes.append(action)
                continue
            elif action.kind == "leave_out":
                assert action.treatment is not None
                p = out.left_out.setdefault(action.treatment, Proposal(TIERS[0]))
                if action.constraint not in p.constraints:
                    p.constraints.append(action.constraint)
            elif action.kind == "alert":
                p = out.alerts.setdefault(action.alert, Proposal(TIERS[0], severity=action.severity))
                p.severity = min(p.severity, action.severity, key=SEVERITIES.index)
            else:
                continue
            p.add(firing.rule, action)
    return out
