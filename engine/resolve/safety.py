"""The safety invariants of every plan, enforced and then checked in one module.

Rules propose; resolution disposes. Whatever order the rules fired in, and
whatever any single rule forgot to check, these hold:

* nothing any rule avoided is recommended;
* nothing left out for the person's preferences is recommended, and what is
  unsafe is listed as avoided only, never as a mere preference;
* a combination appears only if every component is recommended and none is
  avoided or left out;
* the evening routine never puts two items the catalogue keeps apart on one night;
* no text of a recommended item (its explanation, cautions, sequence, expected
  results, sessions, or its routine step) names an item the plan avoids, so no
  line tells the person to use what the same plan rules out.

Because they live here rather than in each rule, an author cannot get them wrong
by omission, and the property tests check them in one spot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..common.memo import derived
from ..knowledge.model import KnowledgeBase
from .course import order_violations
from .proposals import Proposal, Proposals
from .result import DroppedCombination, Result
from .routine import same_night_violations
from .texts import unique


class SafetyInvariantError(AssertionError):
    """Resolution produced a plan that breaks a safety invariant: a bug, never bad input."""


def allowed(proposals: Proposals) -> list[str]:
    """Recommended ids that no rule avoided or left out: avoid (and a preference) always wins."""
    return [tid for tid in proposals.recommended if tid not in proposals.avoided and tid not in proposals.left_out]


def split_combinations(proposals: Proposals) -> tuple[dict[str, Proposal], list[DroppedCombination]]:
    """The combinations whose every component stands alone, and the others with why."""
    kept: dict[str, Proposal] = {}
    dropped: list[DroppedCombination] = []
    for cid, p in proposals.combinations.items():
        blocked = [c for c in p.components if c in proposals.avoided]
        unwanted = [c for c in p.components if c in proposals.left_out]
        missing = [c for c in p.components if c not in proposals.recommended]
        if blocked:
            reason = "avoided for this patient: " + ", ".join(blocked)
        elif unwanted:
            reason = "left out for your preferences: " + ", ".join(unwanted)
        elif missing:
            reason = "not recommended on their own: " + ", ".join(missing)
        else:
            kept[cid] = p
            continue
        dropped.append(DroppedCombination(cid, unique(p.rules), reason))
    return kept, dropped


def check_invariants(result: Result, kb: KnowledgeBase) -> None:
    """Raise :class:`SafetyInvariantError` if the finished plan breaks an invariant."""
    avoided = {a.id for a in result.avoid}
    left_out = {x.id for x in result.left_out}
    for r in result.recommendations:
        for tid in (r.id, *r.components):
            if tid in avoided:
                raise SafetyInvariantError(f"{tid} is both avoided and recommended (in {r.id})")
            if tid in left_out:
                raise SafetyInvariantError(f"{tid} is both left out and recommended (in {r.id})")
    if avoided & left_out:
        raise SafetyInvariantError(f"{', '.join(sorted(avoided & left_out))} both avoided and left out")
    singles = {r.id for r in result.recommendations if r.kind != "combination"}
    for r in result.recommendations:
        if r.kind == "combination" and not set(r.components) <= singles:
            raise SafetyInvariantError(f"combination {r.id} has a component that is not recommended")
    clashes = same_night_violations(result.routine, kb.treatments)
    if clashes:
        raise SafetyInvariantError("routine puts incompatible items on one night: " + "; ".join(clashes))
    _check_plan(result, kb, {r.id for r in result.recommendations}, avoided | left_out)
    named = avoided_named(result, kb)
    if named:
        raise SafetyInvariantError("a recommended item's text names what the plan avoids: " + "; ".join(named))


def _texts(result: Result) -> Iterator[tuple[str, str]]:
    """Every text the plan shows for a recommended item, with where it is shown."""
    for r in result.recommendations:
        for what, text in (
            ("explanation", r.explanation),
            ("sequence", r.sequence),
            ("expected results", r.expected_results),
            ("sessions", r.sessions),
            *(("caution", c) for c in r.cautions),
        ):
            yield f"{r.id} {what}", text
    for step in result.routine.steps.values():
        yield f"{step.id} how", step.how


def _names(mentions: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, frozenset[str]]]:
    """One pattern for every name in the catalogue, and the entries each name stands for.

    Whole words or phrases, any case, with an optional plural ('cream' finds
    'Creams'), longest first, so that 'night cream' is read as one name, never as
    'cream'. Made once per knowledge base (:func:`_catalogue_names`): which
    entries are avoided changes from one plan to the next, the names do not.
    """
    owners: dict[str, set[str]] = {}
    for tid, name in mentions:
        owners.setdefault(name.lower(), set()).add(tid)
    words = sorted(owners, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")(?:e?s)?\b", re.IGNORECASE)
    return pattern, {name: frozenset(ids) for name, ids in owners.items()}


def avoided_named(result: Result, kb: KnowledgeBase) -> list[str]:
    """Texts of recommended items that name an avoided item, as ``'<where>: "<name>"'``.

    Every name in a text is read as the longest catalogue name that fits there, so
    a longer name that contains an avoided one ('night cream' when only 'cream' is
    avoided) is not mistaken for it; a name counts as avoided when every entry it
    can stand for is. Names come from the catalogue (``short`` and ``names``), so
    the check knows nothing of any domain.
    """
    avoided = {a.id for a in result.avoid}
    if not avoided:
        return []
    names = _catalogue_names(kb)
    found = []
    for where, text in _texts(result):
        for owners, written in names.found_in(text):
            if owners <= avoided:
                found.append(f'{where}: "{written}"')
    return found


class _Names:
    """The catalogue's names, and the names found in each text read so far.

    Texts repeat from plan to plan (the same rule texts, filled with the same few
    words), and scanning one with the pattern of every name costs far more than
    looking it up, so each distinct text is scanned once. The memory is bounded:
    past :data:`_TEXTS_KEPT` texts it starts again.
    """

    def __init__(self, mentions: tuple[tuple[str, str], ...]):
        self.pattern, self.owners = _names(mentions)
        self.seen: dict[str, tuple[tuple[frozenset[str], str], ...]] = {}

    def found_in(self, text: str) -> tuple[tuple[frozenset[str], str], ...]:
        """Each name written in ``text``: the entries it stands for, and how it is written."""
        found = self.seen.get(text)
        if found is None:
            owners = self.owners
            found = tuple((owners[m.group(1).lower()], m.group(0)) for m in self.pattern.finditer(text))
            if len(self.seen) >= _TEXTS_KEPT:
                self.seen.clear()
            self.seen[text] = found
        return found


_TEXTS_KEPT = 20_000


def _catalogue_names(kb: KnowledgeBase) -> _Names:
    """The names of this knowledge base's catalogue, made once per knowledge base."""
    return derived(kb, _names_of)


def _names_of(kb: KnowledgeBase) -> _Names:
    return _Names(tuple((t.id, n) for t in kb.treatments.values() for n in t.mentions))


def _check_plan(result: Result, kb: KnowledgeBase, recommended: set[str], excluded: set[str]) -> None:
    """The plan uses only recommended ids, nothing excluded, nothing ruled out for its problem."""
    for p in result.plan.problems:
        planned = [x for x in (p.choice, *p.alternatives) if x is not None]
        planned += [a for adds in p.adjuncts.values() for a in adds]
        ruled_out = {x.id for x in p.ruled_out}
        for pid in planned:
            if pid not in recommended:
                raise SafetyInvariantError(f"{p.id} plans {pid}, which is not recommended")
            for part in pid.split("+"):
                if part in excluded or part in ruled_out:
                    raise SafetyInvariantError(f"{p.id} plans {pid}, but {part} is ruled out")
    ruled = {(p.id, x.id) for p in result.plan.problems for x in p.ruled_out}
    for phase in result.plan.course:
        for item in phase.items:
            for pid in (item.id, item.part_of, *item.adjuncts):
                if pid is not None and (pid not in recommended or pid in excluded):
                    raise SafetyInvariantError(f"the course holds {pid}, which is not recommended or is excluded")
            for problem in item.problems:
                if (problem, item.id) in ruled:
                    raise SafetyInvariantError(f"the course gives {item.id} for {problem}, where it is ruled out")
    broken = order_violations(kb, result.plan.course)
    if broken:
        raise SafetyInvariantError("the course breaks its order: " + "; ".join(broken))
