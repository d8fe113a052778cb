"""One choice per problem, a few alternatives, and the reasons in words.

The order is the knowledge base's: tier first, then a risk caution that applies
to this person, then the per-kind order ``plan.yaml`` draws from the sources,
then how many rules support the option. A caution that only informs never
demotes an option. Add-ons (``adjuncts``) fold into what they join ("± add-on")
instead of standing as options, and a chosen combination's parts are not listed
again beside it unless a rule puts them first line for this problem on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..knowledge.constraints import holds
from ..knowledge.model import TIERS, KnowledgeBase, Priority
from .options import Exclusion, Option
from .problems import Group
from .proposals import Proposals
from .result import Problem, RuledOut
from .texts import joined, merge_texts, unique

MAX_ALTERNATIVES = 3
_TIER_WORDS = {"first_line": "a first-line option", "second_line": "a second-line option", "adjunct": "an add-on"}


def priority_for(kb: KnowledgeBase, group: Group) -> Priority | None:
    """The first priority entry whose conditions one of the problem's items meets."""
    for entry in kb.plan.priorities:
        for fact in group.facts:
            if all(all(holds(t, fact.values.get(c.field), {}) for t in c.tests) for c in entry.when):
                return entry
    return None


def option_title(kb: KnowledgeBase, option_id: str) -> str:
    return " + ".join(kb.treatments[c].title for c in option_id.split("+"))


def option_name(kb: KnowledgeBase, option_id: str) -> str:
    """The short form, for sentences that name several options."""
    return " + ".join(kb.treatments[c].name for c in option_id.split("+"))


@dataclass(frozen=True)
class Context:
    """What choosing needs besides the options: the plan's allowed ids and why others are not."""

    kb: KnowledgeBase
    allowed: frozenset[str]  # ids (singles and combinations) the plan recommends
    proposals: Proposals
    exclusions: Mapping[str, list[Exclusion]]  # treatment -> scoped exclusions covering this problem


def _risky(ctx: Context, option: Option) -> list[str]:
    return [text for c in option.components for text in ctx.proposals.risks.get(c, [])]


def _key(ctx: Context, option: Option, priority: Priority | None) -> tuple[object, ...]:
    order = priority.order if priority else ()
    position = order.index(option.id) if option.id in order else len(order)
    catalogue = min(ctx.kb.treatments[c].order for c in option.components)
    return (
        TIERS.index(option.tier),
        bool(_risky(ctx, option)),
        position,
        -len(unique(option.rules)),
        catalogue,
        option.id,
    )


def _usable(ctx: Context, option: Option) -> bool:
    return option.id in ctx.allowed and not any(c in ctx.exclusions for c in option.components)


def _fold(ctx: Context, options: dict[str, Option]) -> tuple[list[Option], dict[str, tuple[str, ...]]]:
    """The options left once add-ons fold into what they join, and each option's add-ons.

    "base + add-on" becomes the base, shown with "± add-on". When the base is in the
    plan but no rule proposed it alone for this problem, the combination's own case
    for the problem carries over to the base, so the add-on still never stands as
    the thing chosen.
    """
    adjuncts = ctx.kb.plan.adjuncts
    usable = {oid: o for oid, o in options.items() if _usable(ctx, o)}
    kept: dict[str, Option] = {}
    for oid, o in usable.items():
        if oid in adjuncts:
            continue  # an add-on alone is never an option
        base = [c for c in o.components if c not in adjuncts]
        added = [c for c in o.components if c in adjuncts]
        if not (added and len(base) == 1 and all(base[0] in adjuncts[a] for a in added)):
            kept.setdefault(oid, o)
        elif base[0] not in usable and base[0] in ctx.allowed and base[0] not in ctx.exclusions:
            kept.setdefault(base[0], Option(base[0], (base[0],), o.tier, list(o.rules), list(o.texts)))
    addable = [a for a in adjuncts if a in ctx.allowed and a not in ctx.exclusions]
    extras = {
        o.id: tuple(a for a in addable if a not in o.components and any(p in o.components for p in adjuncts[a]))
        for o in kept.values()
    }
    return list(kept.values()), {oid: found for oid, found in extras.items() if found}


def with_adjuncts(kb: KnowledgeBase, option_id: str, adjuncts: Mapping[str, tuple[str, ...]]) -> str:
    added = adjuncts.get(option_id, ())
    return option_name(kb, option_id) + "".join(f" ± {kb.treatments[a].name}" for a in added)


def _versus(ctx: Context, chosen: Option, other: Option, key_a: tuple[object, ...], key_b: tuple[object, ...]) -> str:
    """Why ``chosen`` comes before ``other``, in the first respect they differ."""
    if key_a[0] != key_b[0]:
        return f"{_TIER_WORDS[other.tier]} here"
    if key_a[1] != key_b[1]:
        first = _risky(ctx, other)[0].split(". ")[0].rstrip(".")
        return f"a risk for you: {first[:1].lower() + first[1:]}"
    if key_a[2] != key_b[2]:
        return f"ranked after {option_name(ctx.kb, chosen.id)} by the sources"
    if key_a[3] != key_b[3]:
        return "fewer rules support it"
    return "equally supported, listed after it"


@dataclass(frozen=True)
class Ranking:
    """A problem's usable options in order, its add-ons and its choice, before any words."""

    priority: Priority | None
    ranked: tuple[Option, ...]
    adjuncts: dict[str, tuple[str, ...]]
    choice: Option | None


def rank(ctx: Context, group: Group, options: dict[str, Option]) -> Ranking:
    priority = priority_for(ctx.kb, group)
    kept, adjuncts = _fold(ctx, options)
    ranked = tuple(sorted(kept, key=lambda o: _key(ctx, o, priority)))
    # An add-on tier option supports a treatment; it is never the treatment chosen for a problem.
    choice = next((o for o in ranked if o.tier != TIERS[-1]), None)
    return Ranking(priority, ranked, adjuncts, choice)


def decide(
    ctx: Context, group: Group, options: dict[str, Option], ranking: Ranking, chosen_elsewhere: frozenset[str]
) -> Problem:
    """The problem with its choice, alternatives, reasons and what is ruled out for it.

    ``chosen_elsewhere`` holds what the other problems chose: an alternative that
    only adds those to this choice is what the plan already does.
    """
    kb = ctx.kb
    priority, ranked, adjuncts, choice = ranking.priority, ranking.ranked, ranking.adjuncts, ranking.choice
    alternatives: list[Option] = []
    for o in ranked:
        if o is choice:
            continue
        if choice and o.tier == TIERS[-1]:
            continue  # an add-on supports a treatment; beside a choice it is no alternative to it
        if choice and o.id in choice.components and o.tier != TIERS[0]:
            continue  # a part of the chosen combination, not an option in its own right here
        if choice and set(choice.components) < set(o.components) <= set(choice.components) | chosen_elsewhere:
            continue  # the choice plus what other problems already get: the plan does this anyway
        alternatives.append(o)
        if len(alternatives) == MAX_ALTERNATIVES:
            break
    ruled_out = _ruled_out(ctx, options)
    if choice is None:
        why = _nothing(ctx, options, priority, ruled_out, alternatives)
        rules: tuple[str, ...] = ()
    else:
        why = _why(ctx, choice, alternatives, priority, adjuncts) + _passed_over(
            ctx, choice, options, priority, ruled_out
        )
        rules = unique(choice.rules)
    cited = [r for rid in rules for r in kb.rule(rid).sources] + list(priority.sources if priority else ())
    return Problem(
        id=group.id,
        items=group.items,
        kind=group.kind,
        region=group.region,
        title=group.title,
        grade=group.grade,
        burden=group.burden,
        choice=choice.id if choice else None,
        alternatives=tuple(o.id for o in alternatives),
        adjuncts={k: v for k, v in adjuncts.items() if choice and k in (choice.id, *(o.id for o in alternatives))},
        why=why,
        rules=rules,
        sources=tuple(sorted({r.split("#", 1)[0] for r in cited})),
        ruled_out=ruled_out,
        citations=tuple(sorted(set(cited))),
    )


def _why(
    ctx: Context,
    choice: Option,
    alternatives: list[Option],
    priority: Priority | None,
    adjuncts: Mapping[str, tuple[str, ...]],
) -> str:
    best = [a for a in choice.texts if a.tier == choice.tier] or choice.texts
    parts = [f"{with_adjuncts(ctx.kb, choice.id, adjuncts)}: {merge_texts(best)}"]
    if priority is not None:
        parts.append(priority.why)
    if alternatives:
        key = _key(ctx, choice, priority)
        reasons: dict[str, list[str]] = {}  # one reason often covers several alternatives: say it once
        for o in alternatives:
            reasons.setdefault(_versus(ctx, choice, o, key, _key(ctx, o, priority)), []).append(
                option_name(ctx.kb, o.id)
            )
        over = [f"{joined(names)} ({reason})" for reason, names in reasons.items()]
        parts.append("Chosen over " + "; ".join(over) + ".")
    return " ".join(parts)


def _passed_over(
    ctx: Context, choice: Option, options: dict[str, Option], priority: Priority | None, ruled_out: tuple[RuledOut, ...]
) -> str:
    """The option that would have come first had it not been ruled out, and why it was."""
    reasons = {r.id: r for r in ruled_out}
    key = _key(ctx, choice, priority)
    better = sorted((o for o in options.values() if _key(ctx, o, priority) < key), key=lambda o: _key(ctx, o, priority))
    for o in better:
        hit = next((reasons[c] for c in o.components if c in reasons), None)
        if hit is not None and o.tier != TIERS[-1]:
            verb = "left out for your preferences" if hit.kind == "left_out" else "not an option now"
            return f" {option_name(ctx.kb, o.id)} would come first but is {verb}: {hit.reason}"
    return ""


def _nothing(
    ctx: Context,
    options: dict[str, Option],
    priority: Priority | None,
    ruled_out: tuple[RuledOut, ...],
    add_ons: list[Option],
) -> str:
    """Why nothing is chosen, naming the best option and what it would take, and the add-ons left."""
    left = ""
    if add_ons:
        names = joined([option_name(ctx.kb, o.id) for o in add_ons])
        left = f"only add-ons remain, which support but do not correct on their own: {names}."
    best = _best_ruled_out(ctx, options, priority, ruled_out)
    if best:
        return best + (f" Meanwhile {left}" if left else "")
    if left:
        return f"Nothing corrective is proposed for these; {left}"
    return "No option in the knowledge base fits these."


def _best_ruled_out(
    ctx: Context, options: dict[str, Option], priority: Priority | None, ruled_out: tuple[RuledOut, ...]
) -> str:
    """The best option ruled out, preferring one a preference rules out (it can change), with why."""
    ranked = sorted(options.values(), key=lambda o: _key(ctx, o, priority))
    reasons = {r.id: r for r in ruled_out}
    for wanted in ("left_out", "avoid"):
        for o in ranked:
            hit = next((reasons[c] for c in o.components if c in reasons and reasons[c].kind == wanted), None)
            if hit is None:
                continue
            title = option_name(ctx.kb, o.id)
            if wanted == "left_out":
                return f"Nothing fits your preferences for now. The best option, {title}, is left out: {hit.reason}"
            return f"Nothing is planned for now. The best option, {title}, is not an option now: {hit.reason}"
    return ""


def _ruled_out(ctx: Context, options: dict[str, Option]) -> tuple[RuledOut, ...]:
    """Each treatment proposed for this problem that the plan cannot use here, with its reason."""
    out: dict[str, RuledOut] = {}
    p = ctx.proposals
    for o in options.values():
        for c in o.components:
            if c in out:
                continue
            if c in p.avoided:
                entry = RuledOut(
                    c, ctx.kb.treatments[c].title, "avoid", merge_texts(p.avoided[c].texts), unique(p.avoided[c].rules)
                )
            elif c in p.left_out:
                entry = RuledOut(
                    c,
                    ctx.kb.treatments[c].title,
                    "left_out",
                    merge_texts(p.left_out[c].texts),
                    unique(p.left_out[c].rules),
                )
            elif c in ctx.exclusions:
                found = ctx.exclusions[c]
                unsafe = [e for e in found if e.kind == "avoid"]
                kind, chosen = ("avoid", unsafe) if unsafe else ("left_out", found)
                entry = RuledOut(
                    c,
                    ctx.kb.treatments[c].title,
                    kind,
                    merge_texts(e.action for e in chosen),
                    unique(e.rule for e in chosen),
                )
            else:
                continue
            out[c] = entry
    order = {tid: t.order for tid, t in ctx.kb.treatments.items()}
    return tuple(sorted(out.values(), key=lambda r: (r.kind != "avoid", order[r.id])))
