"""Why a treatment was not recommended, answered from a trace alone.

``why_not`` looks at every rule that could have concluded a treatment and, for
each, finds the first condition that did not hold, re-evaluating the rule's
conditions over the facts the consultation ended with (with the same constraint
semantics the compiler uses). Asked about a recommendation, it answers problem
by problem from the plan the trace records: ruled out there by a scoped avoid or
leave_out, an alternative ranked after the choice, or folded into another option.
It never runs the engine again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..common.errors import CicatrixError
from ..knowledge.constraints import holds, words
from ..knowledge.model import Pattern, Var
from . import plan
from .tracefile import Trace, TraceRule, treatment_ids, unknown_id
from .tree import Node


@dataclass
class _Failure:
    depth: int  # how many conditions held before this one
    text: str
    pattern: Pattern | None = None  # the `when` pattern that failed, if one did
    progress: int = 0  # how many of that pattern's tests the closest fact passed


def _check_pattern(
    trace: Trace, pattern: Pattern, fact_id: str, bindings: dict[str, Any]
) -> tuple[dict[str, Any] | None, str, int]:
    """The bindings after matching ``fact_id`` (or None), what did not hold, and how many tests passed."""
    fact = trace.facts[fact_id]
    new = dict(bindings)
    passed = 0
    for c in pattern.constraints:
        value = fact.values.get(c.field)
        for test in c.tests:
            if isinstance(test.value, Var) and test.op not in ("eq", "bind"):
                continue  # comparisons with variables are checked once all patterns matched
            if not holds(test, value, new):
                spec = trace.fields.get(fact.template, {}).get(c.field)
                shown = trace.label(fact.template, c.field, value)
                need = words(test, spec, new)
                what = f"{_fact_name(fact_id)} {c.field.replace('_', ' ')} is {shown}; the rule needs {need}"
                return None, what, passed
            passed += 1
            if isinstance(test.value, Var):
                new.setdefault(test.value.name, value)
    return new, "", passed


def _fact_name(fact_id: str) -> str:
    return fact_id.replace("-", " #") if fact_id.rsplit("-", 1)[-1].isdigit() else fact_id


def _comparisons(trace: Trace, rule: TraceRule, bindings: dict[str, Any], matched: list[str]) -> str:
    """The first comparison between variables that fails, once every pattern matched."""
    for i, pattern in enumerate(rule.when):
        fact = trace.facts[matched[i]]
        for c in pattern.constraints:
            for test in c.tests:
                if isinstance(test.value, Var) and test.op not in ("eq", "bind"):
                    value = fact.values.get(c.field)
                    if not holds(test, value, bindings):
                        spec = trace.fields.get(fact.template, {}).get(c.field)
                        shown = trace.label(fact.template, c.field, value)
                        need = words(test, spec, bindings)
                        return f"{_fact_name(fact.id)} {c.field.replace('_', ' ')} is {shown}; the rule needs {need}"
    return ""


def _search(
    trace: Trace,
    rule: TraceRule,
    i: int,
    bindings: dict[str, Any],
    matched: list[str],
    best: list[_Failure],
) -> bool:
    if i == len(rule.when):
        failed = _comparisons(trace, rule, bindings, matched)
        if failed:
            best.append(_Failure(i, failed))
            return False
        for pattern in rule.unless:
            for fact_id, fact in trace.facts.items():
                if (
                    fact.template == pattern.template
                    and _check_pattern(trace, pattern, fact_id, bindings)[0] is not None
                ):
                    best.append(_Failure(i + 1, f"its 'unless' condition matched: {trace.describe_fact(fact_id)}"))
                    return False
        return True
    pattern = rule.when[i]
    candidates = [fid for fid, f in trace.facts.items() if f.template == pattern.template]
    if not candidates:
        origin = "the patient file gave none" if pattern.template in _input_templates(trace) else "no rule asserted one"
        best.append(
            _Failure(i, f"needs a {pattern.template} fact {_pattern_words(trace, pattern)}, and {origin}", pattern)
        )
        return False
    here: list[_Failure] = []
    for fact_id in candidates:
        new, failed, passed = _check_pattern(trace, pattern, fact_id, bindings)
        if new is None:
            here.append(_Failure(i, failed, pattern, passed))
            continue
        if _search(trace, rule, i + 1, new, [*matched, fact_id], best):
            return True
    if here and len(here) == len(candidates) and pattern.template not in _input_templates(trace):
        # Every derived fact of this template failed: what was missing is the fact itself.
        best.append(_Failure(i, f"no {pattern.template} {_pattern_words(trace, pattern)} was derived", pattern))
    else:
        best.extend(here)
    return False


def _pattern_words(trace: Trace, pattern: Pattern) -> str:
    parts = []
    for c in pattern.constraints:
        spec = trace.fields.get(pattern.template, {}).get(c.field)
        parts.extend(f"{c.field.replace('_', ' ')} {words(t, spec)}" for t in c.tests if not isinstance(t.value, Var))
    return f"with {', '.join(parts)}" if parts else ""


def _input_templates(trace: Trace) -> set[str]:
    return {f.template for f in trace.facts.values() if f.origin == "input"}


def first_failure(trace: Trace, rule: TraceRule, depth: int = 0) -> Node | None:
    """The first condition of ``rule`` that did not hold, or None if all held.

    When that condition needs a derived fact nobody asserted, the rules that
    could have asserted it are explained in turn (a few levels deep), so the
    answer reaches the patient's own facts: "no derived finding X" becomes
    "item #1 count is 8; the rule needs at most 5".
    """
    best: list[_Failure] = []
    if _search(trace, rule, 0, {}, [], best):
        return None
    closest = max((f.depth, f.progress) for f in best)
    failure = next(f for f in best if (f.depth, f.progress) == closest)
    node = Node(failure.text)
    if failure.pattern is not None and depth < 3 and failure.pattern.template not in _input_templates(trace):
        for producer in _producers(trace, failure.pattern):
            fired = any(f.rule == producer.id for f in trace.firings)
            if fired:
                continue
            sub = first_failure(trace, producer, depth + 1)
            if sub is not None:
                node.children.append(Node(f"it would come from rule {producer.id} - {producer.title}", [sub]))
    return node


def _producers(trace: Trace, pattern: Pattern) -> list[TraceRule]:
    """Rules whose `assert` could produce a fact matching the pattern's literal tests."""
    out = []
    for rule in trace.rules.values():
        for c in rule.concludes:
            if c["kind"] != "assert" or c.get("template") != pattern.template:
                continue
            values = c.get("values", {})
            ok = True
            for fc in pattern.constraints:
                value = values.get(fc.field)
                if isinstance(value, str) and value.startswith("$"):
                    continue
                for test in fc.tests:
                    if not isinstance(test.value, Var) and not holds(test, value, {}):
                        ok = False
            if ok:
                out.append(rule)
                break
    return out


def _could_conclude(rule: TraceRule, wanted: str) -> bool:
    for c in rule.concludes:
        if c["kind"] == "recommend" and c.get("target") in (wanted,):
            return True
        if c["kind"] == "recommend" and str(c.get("target", "")).startswith("$"):
            return True
        if c["kind"] == "combine" and "+".join(c.get("components", [])) == wanted:
            return True
    return False


def why_not(trace: Trace, wanted: str) -> Node:
    """Why ``wanted`` is not in the plan, or not everywhere in it: for a recommendation, problem
    by problem; otherwise the avoid or preference that won and each rule that could have
    recommended it, with the first of its conditions that did not hold."""
    recs = {r["id"]: r for r in trace.result["recommendations"]}
    avoided = {a["id"]: a for a in trace.result["avoid"]}
    if wanted in recs:
        return _recommended(trace, recs[wanted])
    if plan.find(trace, wanted) is not None:
        raise CicatrixError.about(
            trace.file,
            f"{wanted} is a problem of the plan, not a treatment; ask how: cicatrix trace how {trace.file} {wanted}",
        )
    candidates = [r for r in trace.rules.values() if _could_conclude(r, wanted)]
    if not candidates and wanted not in treatment_ids(trace) and "+" not in wanted:
        raise unknown_id(trace, wanted, "a treatment any rule concludes", facts=False)
    root = Node(f"{wanted} was not recommended.")
    if wanted in avoided:
        a = avoided[wanted]
        proposed = a.get("proposed_by") or []
        lead = f"proposed by {', '.join(proposed)}, but struck out" if proposed else "it is on the avoid list"
        node = Node(f"{lead} by {', '.join(a['rules'])}: {a['reason']}", _everywhere(trace, wanted, "avoid"))
        root.children.append(node)
    left_out = {x["id"]: x for x in trace.result.get("left_out", [])}
    if wanted in left_out:
        x = left_out[wanted]
        lead = f"left out for your preferences ({x['constraint']}) by {', '.join(x['rules'])}: {x['reason']}"
        root.children.append(Node(lead, _everywhere(trace, wanted, "leave_out")))
    fired = {f.rule: f.seq for f in trace.firings}
    for rule in candidates:
        if rule.id in fired:
            if wanted in avoided or wanted in left_out:
                which = "avoid" if wanted in avoided else "preference"
                text = f"rule {rule.id} fired (#{fired[rule.id]}), but the {which} above wins"
            else:
                text = f"rule {rule.id} fired (#{fired[rule.id]})" + _dropped(trace, wanted, fired[rule.id])
            root.children.append(Node(text))
            continue
        failure = first_failure(trace, rule) or Node(
            "all its conditions held over the final facts, yet it did not fire (it was pre-empted)"
        )
        root.children.append(Node(f"rule {rule.id} - {rule.title}", [failure]))
    if not candidates:
        root.children.append(Node(f"no rule in this knowledge base can recommend {wanted}"))
    return root


def _dropped(trace: Trace, wanted: str, seq: int) -> str:
    if "+" not in wanted:
        firing = next(f for f in trace.firings if f.seq == seq)
        recs = {r["id"] for r in trace.result["recommendations"]}
        gone = [
            trace.facts[m].values["treatment"]
            for m in firing.matched
            if trace.facts[m].template == "recommend" and trace.facts[m].values["treatment"] not in recs
        ]
        if gone:
            return f", but it depended on {', '.join(gone)} being recommended, which was struck out"
        return ""
    parts = wanted.split("+")
    recs = {r["id"] for r in trace.result["recommendations"]}
    avoided = {a["id"] for a in trace.result["avoid"]}
    blocked = [p for p in parts if p in avoided]
    missing = [p for p in parts if p not in recs and p not in avoided]
    if blocked:
        return ", but a component is avoided: " + ", ".join(blocked)
    if missing:
        return ", but a component is not recommended on its own: " + ", ".join(missing)
    return ""


# --- the plan's problems ------------------------------------------------------------


def _recommended(trace: Trace, rec: dict[str, Any]) -> Node:
    """A recommendation, and where the plan does not choose it: problem by problem."""
    head = f"{rec['id']} ({rec['title']}) was recommended, rank {rec['rank']}"
    hint = "; ask `cicatrix trace how` how."
    if not plan.has_plan(trace):
        return Node(head + hint, [Node(plan.no_plan(trace, "for which problems the plan chose it"))])
    stand = plan.standing(trace)
    nodes = [n for p in plan.problems(trace) if (n := _for_problem(trace, p, rec["id"], stand)) is not None]
    if all(n.text.startswith("chosen for ") for n in nodes):
        return Node(head + hint, nodes)
    return Node(head + "; problem by problem:", nodes)


def _for_problem(trace: Trace, problem: dict[str, Any], wanted: str, stand: plan.Standing) -> Node | None:
    """What the plan does with ``wanted`` for one problem, if the problem had it as an option at all."""
    ref, choice = plan.ref(problem), problem["choice"]
    if choice == wanted:
        return Node(f"chosen for {ref}")
    entry = plan.ruled_out_here(problem, wanted)
    if entry is not None:
        part = "" if entry["id"] == wanted else f" (through its part {entry['id']}, {entry['title']})"
        lines = plan.ruled_out_lines(trace, problem, entry, stand)
        return Node(plan.ruled_out_for(entry, ref) + part, [Node(line) for line in lines])
    if wanted in problem["alternatives"]:
        return _alternative(trace, problem, wanted, stand)
    shown = _shown_as(trace, problem, wanted)
    if shown:
        return Node(f"{shown} for {ref}")
    if wanted in plan.proposed_for(trace, problem, stand):
        return _ranked_after(trace, problem)
    return None


def _alternative(trace: Trace, problem: dict[str, Any], wanted: str, stand: plan.Standing) -> Node:
    """An alternative, with the reason the problem's why gives for ranking it after the choice."""
    choice = problem["choice"]
    after = f", after the choice {plan.described(trace, problem, choice)}" if choice else ""
    text = f"an alternative for {plan.ref(problem)}{after}: {plan.reason_after(trace, problem, wanted, stand)}"
    if wanted in plan.alternative_reasons(trace, problem):
        return Node(text)
    return Node(text, [Node(f"why: {problem['why']}")])


def _shown_as(trace: Trace, problem: dict[str, Any], wanted: str) -> str:
    """How the plan shows an option folded into another: part of the choice, an add-on, or the
    choice plus what other problems already get."""
    choice, adjuncts = problem["choice"], problem["adjuncts"]
    if choice and wanted in choice.split("+"):
        return f"part of the choice {plan.described(trace, problem, choice)}"
    with_it = [o for o in (choice, *problem["alternatives"]) if o and wanted in adjuncts.get(o, [])]
    if with_it:
        return f'an add-on, shown as "± {trace.name(wanted)}" beside {", ".join(with_it)}'
    parts = wanted.split("+")
    for option in (choice, *problem["alternatives"]):
        if option and option in parts and set(parts) - {option} <= set(adjuncts.get(option, [])):
            return f"shown as {plan.described(trace, problem, option)}"
    elsewhere = {
        c for p in plan.problems(trace) if p["id"] != problem["id"] and p["choice"] for c in p["choice"].split("+")
    }
    if choice and set(choice.split("+")) < set(parts) and set(parts) - set(choice.split("+")) <= elsewhere:
        return f"not listed: it is the choice {choice} plus what the plan gives other problems anyway"
    return ""


def _ranked_after(trace: Trace, problem: dict[str, Any]) -> Node:
    """An option the problem had that ranks after the choice and the alternatives the plan lists."""
    choice, alternatives = problem["choice"], problem["alternatives"]
    why = Node(f"why: {problem['why']}")
    if choice is None:
        return Node(f"considered for {plan.ref(problem)}, where nothing is chosen", [why])
    listed = f" and its alternatives {', '.join(alternatives)}" if alternatives else ""
    return Node(f"considered for {plan.ref(problem)}, but ranked after the choice {choice}{listed}", [why])


def _everywhere(trace: Trace, wanted: str, kind: str) -> list[Node]:
    """When every rule ruling ``wanted`` out was limited to some input items, how together they
    covered every problem it could serve (which is what rules it out of the whole plan)."""
    found = [a for f in trace.firings for a in f.actions if a.kind == kind and a.treatment == wanted]
    if not found or any(not a.scope for a in found) or not plan.has_plan(trace):
        return []
    stand = plan.standing(trace)
    verb, outright = ("avoid", "avoids") if kind == "avoid" else ("preference", "leaves out")
    node = Node(
        f"every {verb} of it is limited to some input items, yet together they cover every problem "
        f"it could serve, so the plan {outright} {wanted} outright:"
    )
    for p in plan.problems(trace):
        entry = plan.ruled_out_here(p, wanted)
        if entry is not None and entry["id"] == wanted:
            lines = plan.ruled_out_lines(trace, p, entry, stand)
            node.children.append(Node(plan.ref(p), [Node(line) for line in lines]))
    if not node.children:
        node.children.append(Node("no problem of the plan could use it outside those scopes"))
    return [node]
