"""The plan's problems as a trace records them, for answers about one problem.

A version-2 trace holds the resolved plan in ``result``: each problem with the
input items it groups, its choice, its alternatives, the reason in words, and
what is ruled out for it. The explanations join that to the firing record (which
firing proposed an option for which problem, which scoped avoid or leave_out
covered it) without running the engine or the resolver again. The links come from
the functions the resolver itself uses (:mod:`..resolve.roots`,
:mod:`..resolve.support`) applied to the recorded firings; :func:`proposed_for`
follows :func:`..resolve.options.proposed`, which needs the knowledge base, from
the trace's catalogue facts instead (a test holds the two together).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..common.errors import CicatrixError
from ..knowledge.constraints import in_scope
from ..knowledge.model import TIERS
from ..resolve.options import CORRECTIVE
from ..resolve.roots import roots
from ..resolve.support import supported_firings
from ..session.records import ActionRecord, Firing
from .tracefile import Trace

# Every key a problem of the plan has besides the list of its input items, whose
# key is the input key of the knowledge base's target template.
_KEYS = {"id", "title", "kind", "region", "grade", "burden", "choice", "alternatives", "adjuncts", "why"}
_KEYS |= {"rules", "sources", "ruled_out"}
_OVER = "Chosen over "  # how a problem's why names the alternatives and the reason each ranks after the choice


def has_plan(trace: Trace) -> bool:
    """Version-1 traces were written before plans had problems."""
    return "plan" in trace.result


def no_plan(trace: Trace, what: str) -> str:
    """What a version-1 trace cannot answer, and how to get a trace that can."""
    return (
        f"this trace is format version {trace.version}, written before plans had problems: it records no plan, "
        f"so it cannot say {what}; write it again with `cicatrix consult FILE --trace out.json`"
    )


def problems(trace: Trace) -> list[dict[str, Any]]:
    return list(trace.result.get("plan", {}).get("problems", []))


def find(trace: Trace, problem_id: str) -> dict[str, Any] | None:
    return next((p for p in problems(trace) if p["id"] == problem_id), None)


def looks_like_problem(wanted: str) -> bool:
    """An id of the form the plan numbers its problems with (asked of a trace that may have none)."""
    head, _, number = wanted.rpartition("-")
    return head == "problem" and number.isdigit()


def ref(problem: dict[str, Any]) -> str:
    """A problem as a sentence names it: its id and its title."""
    return f"{problem['id']} ({problem['title']})"


# --- the input items of a problem ------------------------------------------------


def _target_template(trace: Trace) -> str | None:
    """The template whose input items problems group; traces that do not say have one numbered template."""
    if trace.targets is not None:
        return trace.targets[0]
    numbered = {f.template for f in trace.facts.values() if f.origin == "input" and f.id != f.template}
    return next(iter(numbered)) if len(numbered) == 1 else None


def items_key(problem: dict[str, Any]) -> str:
    """The key of the problem's list of 1-based input positions (the target template's input key)."""
    return next((k for k in problem if k not in _KEYS and isinstance(problem[k], list)), "items")


def item_ids(trace: Trace, problem: dict[str, Any]) -> list[str]:
    """The input fact ids of the problem's items ("item-1", ... in input order)."""
    template = _target_template(trace)
    positions = problem.get(items_key(problem), [])
    if template is None or not isinstance(positions, list):
        return []
    ids = [f"{template}-{n}" for n in positions]
    missing = [i for i in ids if i not in trace.facts]
    if missing:
        raise CicatrixError.about(
            trace.file, f"damaged trace: {problem['id']} names input item {missing[0]!r}, which the trace lacks"
        )
    return ids


# --- which firings stand, and which serve a problem -------------------------------


@dataclass(frozen=True)
class Standing:
    """The firings whose conclusions stand, and the input items beneath each (computed once per answer)."""

    valid: frozenset[int]
    under: dict[int, frozenset[str]]


def standing(trace: Trace) -> Standing:
    """As the resolver decided: treatments the plan avoids or leaves out strike what rested on them."""
    struck = {a["id"] for a in trace.result["avoid"]} | {x["id"] for x in trace.result.get("left_out", [])}
    consultation = trace.consultation()
    template = _target_template(trace) or ""
    return Standing(frozenset(supported_firings(consultation, frozenset(struck))), roots(consultation, template)[0])


def serves(trace: Trace, problem: dict[str, Any], stand: Standing) -> Callable[[Firing, ActionRecord], bool]:
    """Whether an action proposed its option for this problem: it names the problem's kind among
    its targets and its firing rests on one of the problem's items (or on none, speaking for all)."""
    ids = frozenset(item_ids(trace, problem))

    def check(firing: Firing, action: ActionRecord) -> bool:
        under = stand.under.get(firing.seq, frozenset())
        return problem["kind"] in action.targets and (not under or bool(under & ids))

    return check


def _option(trace: Trace, action: ActionRecord) -> str | None:
    """The option an action proposes, if it proposes one a problem can be treated with."""
    if action.kind == "combine":
        return "+".join(action.components)
    fact = trace.facts.get(f"treatment/{action.treatment}")
    if action.kind == "recommend" and fact is not None and fact.values.get("kind") in CORRECTIVE:
        return str(action.treatment)
    return None


def proposed_for(trace: Trace, problem: dict[str, Any], stand: Standing) -> set[str]:
    """Every option the standing firings proposed for this problem."""
    check = serves(trace, problem, stand)
    return {
        option
        for f in trace.firings
        if f.seq in stand.valid
        for a in f.actions
        if (option := _option(trace, a)) is not None and check(f, a)
    }


# --- what rules a treatment out for a problem ------------------------------------


def covers(trace: Trace, problem: dict[str, Any], scope: dict[str, Any]) -> bool:
    """Whether one of the problem's items has every value a scoped avoid or leave_out is limited to."""
    return any(in_scope(trace.facts[i].values, scope) for i in item_ids(trace, problem))


def exclusions(
    trace: Trace, problem: dict[str, Any], treatment: str, stand: Standing
) -> list[tuple[Firing, ActionRecord]]:
    """The avoid and leave_out actions ruling ``treatment`` out for this problem, in firing order:
    unscoped ones (they hold everywhere) and standing scoped ones whose scope the problem's items match."""
    out = []
    for firing in trace.firings:
        for action in firing.actions:
            if action.kind not in ("avoid", "leave_out") or action.treatment != treatment:
                continue
            if action.scope and (firing.seq not in stand.valid or not covers(trace, problem, action.scope)):
                continue
            out.append((firing, action))
    return out


def scope_words(trace: Trace, scope: dict[str, Any]) -> str:
    """A scope as words: "field is value and ...", values named as the templates name them."""
    template = _target_template(trace) or ""

    def value(k: str, v: Any) -> str:
        if isinstance(v, list):
            labels = [trace.label(template, k, x) for x in v]
            return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
        return trace.label(template, k, v)

    return " and ".join(f"{k.replace('_', ' ')} is {value(k, v)}" for k, v in scope.items())


def exclusion_lines(trace: Trace, found: list[tuple[Firing, ActionRecord]]) -> list[str]:
    """One line per rule, scope and reason (a rule that fired once per item says it once)."""
    grouped: dict[tuple[str, str, str, str], list[int]] = {}
    for firing, a in found:
        what = "avoids it" if a.kind == "avoid" else f"leaves it out for your preferences ({a.constraint})"
        where = f" only where {scope_words(trace, a.scope)}" if a.scope else ""
        grouped.setdefault((firing.rule, what, where, a.text), []).append(firing.seq)
    lines = []
    for (rule, what, where, text), seqs in grouped.items():
        fired = f"firing #{seqs[0]}" if len(seqs) == 1 else "firings " + ", ".join(f"#{s}" for s in seqs)
        lines.append(f"rule {rule} ({fired}) {what}{where}: {text}" if text else f"rule {rule} ({fired}) {what}{where}")
    return lines


def ruled_out_here(problem: dict[str, Any], option: str) -> dict[str, Any] | None:
    """The problem's ruled-out entry for the option, or for the first of its parts that has one."""
    entries = {r["id"]: r for r in problem["ruled_out"]}
    return next((entries[c] for c in (option, *option.split("+")) if c in entries), None)


def ruled_out_for(entry: dict[str, Any], where: str) -> str:
    """ "ruled out for X" (unsafe there) or "left out for X, by your preferences"."""
    return f"ruled out for {where}" if entry["kind"] == "avoid" else f"left out for {where}, by your preferences"


# --- why an alternative ranks after the choice -----------------------------------


def option_name(trace: Trace, option: str) -> str:
    """An option as the plan's sentences name it (short names joined with " + ")."""
    return " + ".join(trace.name(c) for c in option.split("+"))


def alternative_reasons(trace: Trace, problem: dict[str, Any]) -> dict[str, str]:
    """alternative id -> why it ranks after the choice, read from the problem's why.

    The why says "Chosen over A and B (reason); C (reason)." with the plan's short
    names; reading it back by those names (longest first, since one name can start
    another) keeps the answer the plan's own words. An alternative the sentence
    does not name (a trace from an older cicatrix) is simply left out.
    """
    why: str = problem["why"]
    start = why.find(_OVER)
    if start < 0:
        return {}
    pending = {option_name(trace, a): a for a in problem["alternatives"]}
    text, pos, out = why[start + len(_OVER) :], 0, {}
    while pending:
        group, pos = _names_at(text, pos, pending)
        if not group or not text.startswith(" (", pos):
            break
        end = _closing(text, pos + 1)
        if end < 0:
            break
        out.update(dict.fromkeys(group, text[pos + 2 : end]))
        pos = end + 1
        if not text.startswith("; ", pos):
            break
        pos += 2
    return out


def reason_after(trace: Trace, problem: dict[str, Any], option: str, stand: Standing) -> str:
    """Why an alternative is not the choice: the why's words, or (when the why gives none, as when
    nothing is chosen) the tier the rules gave it for this problem."""
    found = alternative_reasons(trace, problem).get(option)
    if found:
        return found
    check = serves(trace, problem, stand)
    tiers = [
        a.tier
        for f in trace.firings
        if f.seq in stand.valid
        for a in f.actions
        if _option(trace, a) == option and check(f, a)
    ]
    if tiers and all(t == TIERS[-1] for t in tiers):
        return "an add-on here: it goes with a treatment and is never chosen on its own"
    if problem["choice"] is None:
        return "nothing is chosen for this problem (see why)"
    return "ranked after the choice (see why)"


def _names_at(text: str, pos: int, pending: dict[str, str]) -> tuple[list[str], int]:
    """The options named one after another from ``pos`` ("A, B and C"), and where the names end."""
    group: list[str] = []
    while True:
        name = next((n for n in sorted(pending, key=len, reverse=True) if text.startswith(n, pos)), None)
        if name is None:
            return group, pos
        group.append(pending.pop(name))
        pos += len(name)
        sep = next((s for s in (", ", " and ") if text.startswith(s, pos)), None)
        after = pos + len(sep) if sep else pos
        if sep is None or not any(text.startswith(n, after) for n in pending):
            return group, pos
        pos = after


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis that closes the one at ``start`` (-1 if none does)."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return -1


# --- sentences shared by how and why-not -----------------------------------------


def described(trace: Trace, problem: dict[str, Any], option: str) -> str:
    """An option with its title and the add-ons the plan shows beside it ("x (X ± Y)")."""
    added = "".join(f" ± {trace.name(a)}" for a in problem["adjuncts"].get(option, []))
    return f"{option} ({trace.title(option)}{added})"


def ruled_out_lines(trace: Trace, problem: dict[str, Any], entry: dict[str, Any], stand: Standing) -> list[str]:
    """Why a treatment is ruled out for this problem: each rule, its scope in words, and its reason."""
    lines = exclusion_lines(trace, exclusions(trace, problem, entry["id"], stand))
    return lines or [entry["reason"] or "the plan gives no reason"]
