"""The impact of a knowledge-base change: the same patients planned under two versions, compared.

A knowledge engineer reviews an edit by its effect on stored cases (as TEIRESIAS
re-ran them): which plans change, which options move where, which alerts come or
go. This module is the comparison alone, on plain data: two outcomes of one
patient (the JSON plan of :mod:`..resolve.contract`, or the problems that kept it
from being planned) become a :class:`PlanDiff`, and an :class:`Impact` tallies
the diffs of a whole cohort into a report with a fixed, documented JSON shape.
Running the consultations is one call (:func:`consult`); reading a cohort and
explaining a change are the caller's, who knows files and traces.

**Categories.** In one plan every option (a catalogue id, or a combination id
``a+b``) is in at most one category, taken from the JSON plan in this order of
precedence:

- ``choice``: the ``choice`` of at least one of ``plan.problems``;
- ``alternative``: not a choice, but among some problem's ``alternatives``;
- ``recommended``: in ``recommendations`` and neither of the above (add-ons,
  options ranked after the alternatives, items that serve no problem);
- ``left_out``: in ``left_out`` (a preference rules it out);
- ``avoid``: in ``avoid`` (unsafe, or never to be done).

The contract keeps ``avoid``, ``left_out`` and ``recommendations`` disjoint, so
the categories partition the options a plan names; an option the plan does not
name is *absent* (``None``). A :class:`Move` is one option whose category
differs between the two plans: *added* (absent before), *removed* (absent
after) or *moved* (between two categories). An option ruled out for some
problems only stays in its category; the change shows in that problem
(``ruled_out``, below). Alerts move the same way, their category being their
severity.

**A plan changed** when an option moved, an alert came, went or changed
severity, a problem's choice changed, a problem's alternatives or ruled-out
options changed, the problems were grouped differently (a problem is known by
its kind, region and input items: a problem of the new plan has no counterpart in
the old, or the other way round), or the patient could be planned under one
knowledge base only. Any other difference (wording, ranks, the course, the
references) is listed as such, without counting as a change.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..documents.yamlio import Document
from ..knowledge.model import SEVERITIES, KnowledgeBase, Var
from ..patient.reader import from_data, from_document
from ..resolve.contract import to_dict
from ..resolve.resolver import plan as make_plan
from ..resolve.result import Result
from ..resolve.safety import SafetyInvariantError
from ..session.session import Session

FORMAT = "cicatrix-impact"
VERSION = 1

CATEGORIES = ("choice", "alternative", "recommended", "left_out", "avoid")
"""An option's place in a plan, in order of precedence (see the module's docstring)."""

# What --fail-on can ask for, and what each means (shown in errors and help).
KINDS = {
    "added": "an option appears in a plan that did not name it",
    "removed": "an option disappears from a plan that named it",
    "choice": "an option becomes some problem's choice",
    "alternative": "an option becomes an alternative (and no problem's choice)",
    "recommended": "an option becomes another recommendation (no choice, no alternative)",
    "left-out": "an option moves into left_out",
    "avoid": "an option moves into avoid",
    "changed": "an option's category changes (changed:* any change of a plan)",
    "alert-gained": "an alert is raised that was not",
    "alert-lost": "an alert is no longer raised",
    "alert-changed": "an alert is gained, lost or changes severity",
}
_INTO = {"choice": "choice", "alternative": "alternative", "recommended": "recommended", "left-out": "left_out",
         "avoid": "avoid"}  # fmt: skip

# The keys of a plan problem besides the list of its input items (whose key is the
# target template's input key, which only the knowledge base knows).
_PROBLEM_KEYS = {"id", "title", "kind", "region", "grade", "burden", "choice", "alternatives", "adjuncts", "why"}
_PROBLEM_KEYS |= {"rules", "sources", "citations", "references", "ruled_out"}


# --- one patient's two outcomes ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A patient under one knowledge base: its JSON plan, or why it could not be planned.

    ``result`` is the resolved plan itself, kept only so that the caller can
    explain a change from it (a trace in memory); it is never compared.
    """

    plan: dict[str, Any] | None
    problems: tuple[str, ...] = ()
    result: Result | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None


def consult(session: Session, data: Any, where: str) -> Outcome:
    """Validate and plan one patient under the session's knowledge base, never raising for bad input.

    ``data`` is a :class:`~..documents.yamlio.Document` (positions known) or plain
    data (a JSON line, a CSV row), located as ``where``. A patient the knowledge
    base rejects, or whose plan breaks a safety invariant (a bug of that
    knowledge base, which is exactly what a review must show), becomes an
    outcome with its problems, so one bad patient never stops the cohort.
    """
    try:
        patient = from_document(data, session.kb) if isinstance(data, Document) else from_data(data, session.kb, where)
        result = make_plan(session, patient)
    except CicatrixError as exc:
        return Outcome(None, tuple(p.render() for p in exc.problems))
    except SafetyInvariantError as exc:
        return Outcome(None, (f"{where}: the plan breaks a safety invariant: {exc}",))
    return Outcome(to_dict(result), result=result)


def failed(problems: Iterable[Problem]) -> Outcome:
    """The outcome of a record that could not even be read."""
    return Outcome(None, tuple(p.render() for p in problems))


def categories(plan: Mapping[str, Any]) -> dict[str, str]:
    """Every option the JSON plan names -> its category (see the module's docstring)."""
    out = {r["id"]: "recommended" for r in plan["recommendations"]}
    problems = plan.get("plan", {}).get("problems", [])
    for p in problems:
        for option in p["alternatives"]:
            out[option] = "alternative"
    for p in problems:
        if p["choice"]:
            out[p["choice"]] = "choice"
    out.update({x["id"]: "left_out" for x in plan.get("left_out", [])})
    out.update({a["id"]: "avoid" for a in plan["avoid"]})
    return out


def titles(plan: Mapping[str, Any]) -> dict[str, str]:
    """The title the plan gives each option it names."""
    return {x["id"]: x["title"] for key in ("recommendations", "left_out", "avoid") for x in plan.get(key, [])}


def _items(problem: Mapping[str, Any]) -> tuple[Any, ...]:
    key = next((k for k in problem if k not in _PROBLEM_KEYS and isinstance(problem[k], list)), None)
    return tuple(problem[key]) if key else ()


def _identity(problem: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes a problem the same problem in two plans: what it groups, not its rank or id."""
    return (problem.get("kind"), problem.get("region"), _items(problem))


@dataclass(frozen=True)
class Move:
    """An option (or an alert) whose category differs: ``None`` is absent."""

    id: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "moved"


@dataclass(frozen=True)
class ChoiceChange:
    """A problem, the same in both plans, whose choice differs (``None``: nothing chosen)."""

    problem_before: str
    problem_after: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class PlanDiff:
    """How one patient's plan differs between the two knowledge bases."""

    where: str
    invalid: str | None = None  # "from", "to" or "both": where the patient could not be planned
    treatments: tuple[Move, ...] = ()
    alerts: tuple[Move, ...] = ()
    choices: tuple[ChoiceChange, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()  # (aspect, problem id): alternatives, ruled_out, new, gone
    other: tuple[str, ...] = ()  # the parts of the JSON plan that differ otherwise

    @property
    def changed(self) -> bool:
        return self.invalid in ("from", "to") or bool(self.treatments or self.alerts or self.choices or self.problems)


def compare(where: str, before: Outcome, after: Outcome) -> PlanDiff:
    """The differences between one patient's outcome under the old and under the new knowledge base."""
    if not before.ok or not after.ok:
        side = "both" if not before.ok and not after.ok else "from" if not before.ok else "to"
        return PlanDiff(where, invalid=side)
    old, new = before.plan, after.plan
    assert old is not None and new is not None
    return PlanDiff(
        where,
        treatments=_moves(categories(old), categories(new)),
        alerts=_moves(_alerts(old), _alerts(new)),
        choices=_choices(old, new),
        problems=_problem_changes(old, new),
        other=_other(old, new),
    )


def _moves(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Move, ...]:
    ids = sorted(set(before) | set(after))
    return tuple(Move(i, before.get(i), after.get(i)) for i in ids if before.get(i) != after.get(i))


def _alerts(plan: Mapping[str, Any]) -> dict[str, str]:
    return {a["id"]: a["severity"] for a in plan.get("alerts", [])}


def _matched(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[tuple[dict, dict]], list[tuple[str, str]]]:
    """The problems of both plans paired by identity, and those found in one plan only:
    ``("new", id)`` in the new plan, ``("gone", id)`` in the old one (a problem grouped
    differently is both)."""
    before = {_identity(p): p for p in old.get("plan", {}).get("problems", [])}
    after = {_identity(p): p for p in new.get("plan", {}).get("problems", [])}
    pairs = [(before[k], after[k]) for k in before if k in after]
    lone = [("new", p["id"]) for k, p in after.items() if k not in before]
    lone += [("gone", p["id"]) for k, p in before.items() if k not in after]
    return pairs, lone


def _choices(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[ChoiceChange, ...]:
    pairs, _ = _matched(old, new)
    return tuple(
        ChoiceChange(a["id"], b["id"], a["choice"], b["choice"]) for a, b in pairs if a["choice"] != b["choice"]
    )


def _problem_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs, lone = _matched(old, new)
    out: list[tuple[str, str]] = []
    for a, b in pairs:
        if a["alternatives"] != b["alternatives"]:
            out.append(("alternatives", b["id"]))
        if sorted(x["id"] for x in a["ruled_out"]) != sorted(x["id"] for x in b["ruled_out"]):
            out.append(("ruled_out", b["id"]))
    return (*out, *lone)


def _other(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """The parts of the JSON plans that differ, ``kb`` aside (it names the knowledge base, which differs)."""
    parts: list[str] = []
    for key in dict.fromkeys([*new, *old]):
        if key == "kb" or old.get(key) == new.get(key):
            continue
        if key == "plan" and isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            parts += [f"plan.{k}" for k in dict.fromkeys([*new[key], *old[key]]) if old[key].get(k) != new[key].get(k)]
        else:
            parts.append(key)
    return tuple(parts)


# --- --fail-on ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One ``--fail-on KIND:ID`` (``ID`` may be a glob such as ``*``)."""

    text: str
    kind: str
    pattern: str

    def met(self, diff: PlanDiff) -> bool:
        """Whether this plan's diff shows the change: ``added``/``removed`` from or to absent, a category
        kind a move into that category (from any other, absent included), ``changed`` any move of a
        matching option (``changed:*``: any change of the plan), and the alert kinds likewise."""
        if self.kind == "changed" and self.pattern == "*":
            return diff.changed
        if self.kind.startswith("alert-"):
            wanted = {"alert-gained": "added", "alert-lost": "removed"}.get(self.kind)
            return any(self._matches(m.id) and (wanted is None or m.kind == wanted) for m in diff.alerts)
        return any(self._matches(m.id) and self._moved(m) for m in diff.treatments)

    def _matches(self, option: str) -> bool:
        return fnmatch.fnmatchcase(option, self.pattern)

    def _moved(self, move: Move) -> bool:
        if self.kind in ("added", "removed"):
            return move.kind == self.kind
        if self.kind == "changed":
            return True
        return move.after == _INTO[self.kind]


def condition(text: str, options: Collection[str], alerts: Collection[str]) -> Condition:
    """A ``--fail-on`` value checked against the ids either knowledge base knows, or a located error.

    An unknown id would make the check pass for ever, silently, so it is bad
    input, with the closest known id; a glob must match some known id.
    """
    kind, sep, pattern = text.partition(":")
    kind = kind.strip().lower().replace("_", "-")
    pattern = pattern.strip()
    example = "e.g. removed:ID, avoid:ID, changed:*, alert-lost:*"
    if not sep or not kind or not pattern:
        raise _bad(f"{text!r}: expected KIND:ID ({example})")
    if kind not in KINDS:
        raise _bad(f"{text!r}: unknown kind {kind!r}{did_you_mean(kind, KINDS)} (kinds: {', '.join(KINDS)})")
    known, what = (alerts, "alert id") if kind.startswith("alert-") else (options, "treatment id")
    for part in ("*",) if pattern == "*" else pattern.split("+"):
        if part == "*" or part in known:
            continue
        if any(c in part for c in "*?[") and any(fnmatch.fnmatchcase(k, part) for k in known):
            continue
        hint = did_you_mean(part, known)
        if not hint and what == "alert id":  # a handful: name them all
            hint = f" (alerts: {', '.join(sorted(known)) or 'none'})"
        raise _bad(f"{text!r}: {what} {part!r} is known to neither knowledge base{hint}")
    return Condition(text, kind, pattern)


def _bad(message: str) -> CicatrixError:
    return CicatrixError([Problem("", None, None, "--fail-on", message)])


def conditions(texts: Iterable[str], options: Collection[str], alerts: Collection[str]) -> list[Condition]:
    """Every ``--fail-on`` value, all problems reported at once."""
    found, problems = [], []
    for text in texts:
        try:
            found.append(condition(text, options, alerts))
        except CicatrixError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CicatrixError(problems)
    return found


def known_ids(kb: KnowledgeBase) -> tuple[set[str], set[str]]:
    """The option ids (catalogue entries) and alert ids a knowledge base can conclude."""
    alerts = {
        str(a.target)
        for r in kb.rules
        for a in r.then
        if a.kind == "alert" and a.target and not isinstance(a.target, Var)
    }
    return set(kb.treatments), alerts


# --- a cohort's diffs, tallied --------------------------------------------------------------

Subject = tuple[str, str, Any, Any]
"""What a reason is asked for: ``("treatment" | "alert", id, before, after)`` or
``("problem", problem id after, choice before, choice after)``."""

Explain = Callable[[Subject, Outcome, Outcome, str], Any]
"""The caller's explanation of a subject, from the two outcomes and the patient's name:
a JSON-able tree ``{"text": ..., "children": [...]}``."""


@dataclass
class _Tally:
    """How many times one kind of change happened, and the first examples of it."""

    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


class Impact:
    """The report on a cohort, built one patient at a time in constant memory (examples aside).

    ``examples`` patients are kept per kind of change, and the first
    ``reasons`` of them get the caller's explanation (``explain``, called only
    for those, so a large cohort costs no more than its consultations).
    """

    def __init__(
        self,
        fail_on: Iterable[Condition] = (),
        examples: int = 3,
        reasons: int = 1,
        explain: Explain | None = None,
    ):
        self.fail_on = list(fail_on)
        self.examples = examples
        self.reasons = reasons
        self.explain = explain
        self.patients = 0
        self.changed = _Tally()
        self.reworded = _Tally()
        self.invalid: dict[str, _Tally] = {}
        self.treatments: dict[tuple[str, str | None, str | None], _Tally] = {}
        self.alerts: dict[tuple[str, str | None, str | None], _Tally] = {}
        self.choices: dict[tuple[str | None, str | None], _Tally] = {}
        self.problems: dict[str, _Tally] = {}
        self.other: dict[str, int] = {}
        self.met = {c.text: _Tally() for c in self.fail_on}
        self.titles: dict[str, str] = {}

    def add(self, where: str, before: Outcome, after: Outcome) -> PlanDiff:
        """Compare one patient's two outcomes and count what changed."""
        diff = compare(where, before, after)
        self.patients += 1
        for outcome in (before, after):
            if outcome.plan is not None:
                self.titles.update(titles(outcome.plan))
        if diff.invalid:
            detail = {"from": list(before.problems), "to": list(after.problems)}
            self._note(self.invalid.setdefault(diff.invalid, _Tally()), {"patient": where, "problems": detail})
        if diff.changed:
            self._note(self.changed, {"patient": where})
        elif diff.other:
            self._note(self.reworded, {"patient": where, "parts": list(diff.other)})
        for part in diff.other:
            self.other[part] = self.other.get(part, 0) + 1
        for kind, moves, table in (
            ("treatment", diff.treatments, self.treatments),
            ("alert", diff.alerts, self.alerts),
        ):
            for m in moves:
                tally = table.setdefault((m.id, m.before, m.after), _Tally())
                self._note(tally, {"patient": where}, (kind, m.id, m.before, m.after), before, after)
        for c in diff.choices:
            tally = self.choices.setdefault((c.before, c.after), _Tally())
            example = {"patient": where, "problem": c.problem_after}
            self._note(tally, example, ("problem", c.problem_after, c.before, c.after), before, after)
        for aspect, problem in diff.problems:
            self._note(self.problems.setdefault(aspect, _Tally()), {"patient": where, "problem": problem})
        for cond in self.fail_on:
            if cond.met(diff):
                self._note(self.met[cond.text], {"patient": where})
        return diff

    def _note(
        self,
        tally: _Tally,
        example: dict[str, Any],
        subject: Subject | None = None,
        before: Outcome | None = None,
        after: Outcome | None = None,
    ) -> None:
        tally.count += 1
        if len(tally.examples) >= self.examples:
            return
        if subject is not None:
            reason = None
            if self.explain is not None and len(tally.examples) < self.reasons:
                assert before is not None and after is not None
                reason = self.explain(subject, before, after, example["patient"])
            example = {**example, "reason": reason}
        tally.examples.append(example)

    @property
    def status(self) -> int:
        """1 when a --fail-on condition is met (as a failing test case), else 0."""
        return 1 if any(t.count for t in self.met.values()) else 0

    def to_dict(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
        """The report in its documented JSON shape; ``before``/``after`` describe the two knowledge bases.

        Deterministic: options and alerts sorted by id, their moves by category
        order, examples in cohort order; nothing depends on time or machine.
        """
        invalid = {side: self.invalid.get(side, _Tally()) for side in ("from", "to", "both")}
        return {
            "format": FORMAT,
            "version": VERSION,
            "from": dict(before),
            "to": dict(after),
            "patients": self.patients,
            "changed": self.changed.count,
            "unchanged": self.patients - self.changed.count - invalid["both"].count,
            "changed_examples": self.changed.examples,
            "differ_otherwise": {"plans": self.reworded.count, "examples": self.reworded.examples},
            "invalid": {side: {"patients": t.count, "examples": t.examples} for side, t in invalid.items()},
            "treatments": self._table(self.treatments, "plans"),
            "alerts": self._table(self.alerts, "plans", titled=False),
            "choices": [
                {"from": a, "to": b, "problems": t.count, "examples": t.examples}
                for (a, b), t in sorted(self.choices.items(), key=lambda kv: (_key(kv[0][0]), _key(kv[0][1])))
            ],
            "problems": {
                aspect: {"problems": t.count, "examples": t.examples}
                for aspect in ("alternatives", "ruled_out", "new", "gone")
                for t in (self.problems.get(aspect, _Tally()),)
            },
            "other_differences": [{"part": part, "plans": n} for part, n in self.other.items()],
            "fail_on": [
                {
                    "condition": c.text,
                    "met": bool(self.met[c.text].count),
                    "plans": self.met[c.text].count,
                    "examples": [e["patient"] for e in self.met[c.text].examples],
                }
                for c in self.fail_on
            ],
            "status": self.status,
        }

    def _table(self, table: Mapping[tuple[str, Any, Any], _Tally], unit: str, titled: bool = True) -> list[dict]:
        out: list[dict[str, Any]] = []
        for (option, before, after), tally in sorted(table.items(), key=_order):
            if not out or out[-1]["id"] != option:
                entry: dict[str, Any] = {"id": option}
                if titled:
                    entry["title"] = self.titles.get(option, option)
                entry |= {"added": 0, "removed": 0, "moved": 0, "moves": []}
                out.append(entry)
            kind = Move(option, before, after).kind
            out[-1][kind] += tally.count
            out[-1]["moves"].append(
                {"from": before, "to": after, "kind": kind, unit: tally.count, "examples": tally.examples}
            )
        return out


def _key(category: str | None) -> tuple[int, str]:
    """Absent first, then categories in the order of :data:`CATEGORIES`, then severities, most pressing first."""
    if category is None:
        return (-1, "")
    order = (*CATEGORIES, *SEVERITIES)
    return (order.index(category), "") if category in order else (len(order), category)


def _order(item: tuple[tuple[str, Any, Any], _Tally]) -> tuple[Any, ...]:
    (option, before, after), _ = item
    return (option, _key(before), _key(after))
