"""Which rules feed which: the dependency graph of a knowledge base.

Rule A feeds rule B when a fact A asserts (or a recommend/avoid A concludes)
could match one of B's patterns. ``kb show``, ``kb graph`` and ``kb lint``'s cycle
check all read this one graph. :func:`targets` says which catalogue entries an
action can conclude when it names a variable (every entry with some property)
rather than one entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..knowledge.constraints import holds
from ..knowledge.model import Action, KnowledgeBase, Pattern, Rule, Var, catalogue_fact

CONCLUSIONS = ("recommend", "avoid", "caution", "leave_out")  # actions that name one catalogue entry


def could_match(pattern: Pattern, template: str, values: Mapping[str, Any]) -> bool:
    """Whether a fact of ``template`` with ``values`` (variables match anything) fits ``pattern``."""
    if pattern.template != template:
        return False
    for c in pattern.constraints:
        if c.field not in values:
            continue
        value = values[c.field]
        if isinstance(value, Var):
            continue
        for test in c.tests:
            if not isinstance(test.value, Var) and not holds(test, value, {}):
                return False
    return True


def produced(action: Action) -> tuple[str, dict[str, Any]] | None:
    """The fact an action asserts, as (template, values), if any."""
    if action.kind == "assert":
        return action.template, dict(action.values)
    if action.kind in ("recommend", "avoid"):
        return action.kind, {"treatment": action.target}
    return None


@dataclass(frozen=True)
class Graph:
    feeds: dict[str, tuple[str, ...]]  # rule id -> rules it can feed
    derives_for: dict[str, tuple[str, ...]]  # the same, through asserted (derived) facts only
    fed_by: dict[str, tuple[str, ...]]  # rule id -> rules that can feed it
    concludes: dict[str, tuple[tuple[str, str], ...]]  # rule id -> (kind, treatment or combination id)
    asserts: dict[str, tuple[str, ...]]  # rule id -> "template:kind" labels of derived facts


def fact_label(template: str, values: Mapping[str, Any]) -> str:
    """``template:kind`` for a derived fact, the one word that tells its kinds apart; else the template."""
    kind = values.get("kind", values.get("value", values.get("treatment")))
    return f"{template}:{kind}" if kind is not None and not isinstance(kind, Var) else template


def build(kb: KnowledgeBase) -> Graph:
    feeds: dict[str, set[str]] = {r.id: set() for r in kb.rules}
    derives_for: dict[str, set[str]] = {r.id: set() for r in kb.rules}
    fed_by: dict[str, set[str]] = {r.id: set() for r in kb.rules}
    concludes: dict[str, list[tuple[str, str]]] = {r.id: [] for r in kb.rules}
    asserts: dict[str, list[str]] = {r.id: [] for r in kb.rules}
    for rule in kb.rules:
        for action in rule.then:
            if action.kind in CONCLUSIONS and action.target is not None:
                concludes[rule.id].append((action.kind, str(action.target)))
            if action.kind == "combine":
                concludes[rule.id].append(("combine", "+".join(action.components)))
            if action.kind == "alert":
                concludes[rule.id].append(("alert", str(action.target)))
            fact = produced(action)
            if fact is None:
                continue
            if action.kind == "assert":
                asserts[rule.id].append(fact_label(*fact))
            for other in kb.rules:
                if any(could_match(p, *fact) for p in other.patterns):
                    feeds[rule.id].add(other.id)
                    fed_by[other.id].add(rule.id)
                    if action.kind == "assert":
                        derives_for[rule.id].add(other.id)
    order = {r.id: r.index for r in kb.rules}

    def ordered(ids: set[str]) -> tuple[str, ...]:
        return tuple(sorted(ids, key=order.__getitem__))

    return Graph(
        feeds={k: ordered(v) for k, v in feeds.items()},
        derives_for={k: ordered(v) for k, v in derives_for.items()},
        fed_by={k: ordered(v) for k, v in fed_by.items()},
        concludes={k: tuple(dict.fromkeys(v)) for k, v in concludes.items()},
        asserts={k: tuple(dict.fromkeys(v)) for k, v in asserts.items()},
    )


def reads(rule: Rule) -> tuple[str, ...]:
    """``template.field`` for every field the rule's patterns test."""
    out = []
    for p in rule.patterns:
        if not p.constraints:
            out.append(p.template)
        out.extend(f"{p.template}.{c.field}" for c in p.constraints)
    return tuple(dict.fromkeys(out))


_ENTRY = "id"  # the field of the catalogue's own facts that names the entry


def candidates(kb: KnowledgeBase, rule: Rule, var: Var, *, catalogue: bool = False) -> tuple[str, ...] | None:
    """The catalogue ids a variable of ``rule`` can hold, in catalogue order; ``None`` if nothing narrows it.

    A rule that acts on "every entry with this property" binds a variable from a
    pattern on a built-in template whose field holds catalogue ids (the catalogue's
    own facts, or the facts recommend and avoid assert) and tests the entry there.
    Every such pattern of the rule's ``when`` must hold, so the answer is the entries
    all of them could match: the concrete targets a picture draws and a per-entry
    view must not miss. ``None`` when no pattern tests the variable this way.

    With ``catalogue``, a variable no pattern on the catalogue's own facts binds
    (only a recommendation or an avoidance does) is ``None`` too. Such a variable
    holds only what some other action concluded, so it adds no entry to what the
    rules can conclude: the question lint asks. A view of what can reach an entry
    asks the other question and counts it for every entry its patterns allow.
    """
    found: set[str] | None = None
    from_catalogue = False
    for pattern in rule.when:
        for c in pattern.constraints:
            if not any(t.op in ("eq", "bind") and t.value == var for t in c.tests):
                continue
            ids = _entries_matching(kb, pattern, c.field)
            if ids is not None:
                found = ids if found is None else found & ids
                from_catalogue |= c.field == _ENTRY
    if found is None or (catalogue and not from_catalogue):
        return None
    return tuple(tid for tid in kb.treatments if tid in found)


def _entries_matching(kb: KnowledgeBase, pattern: Pattern, field: str) -> set[str] | None:
    """The catalogue ids a fact matching ``pattern`` can hold in ``field``, or ``None`` if it holds no such id."""
    template = kb.templates[pattern.template]
    spec = template.fields.get(field)
    if not template.builtin or spec is None or spec.allowed is None or not set(spec.allowed) <= set(kb.treatments):
        return None
    if field == _ENTRY:  # the catalogue's own facts: test the whole entry (kind, tags, cost ...)
        return {
            tid for tid in spec.allowed if could_match(pattern, pattern.template, catalogue_fact(kb.treatments[tid]))
        }
    return {tid for tid in spec.allowed if could_match(pattern, pattern.template, {field: tid})}


def targets(kb: KnowledgeBase, rule: Rule, action: Action) -> tuple[str, ...]:
    """The catalogue ids ``action`` can conclude: its literal target, or every entry its variable can hold.

    A variable nothing narrows could hold any entry, so it stands for the whole
    catalogue: a view of what can strike an entry out must over-approximate,
    never miss a rule.
    """
    if action.target is None:
        return ()
    if not isinstance(action.target, Var):
        return (str(action.target),)
    found = candidates(kb, rule, action.target)
    return tuple(kb.treatments) if found is None else found


def concludes_about(kb: KnowledgeBase, rule: Rule, entry: str) -> bool:
    """Whether ``rule`` can recommend, avoid, caution, leave out or combine catalogue ``entry``.

    Named, or reached through a variable as :func:`targets` resolves it: the rules a
    per-entry view lists are the ones the rule graph joins to the entry.
    """
    for action in rule.then:
        if action.kind == "combine" and entry in action.components:
            return True
        if action.kind in CONCLUSIONS and entry in targets(kb, rule, action):
            return True
    return False
