"""The knowledge base's own test cases: a patient in, expectations on the plan out.

Test cases live beside the rules (``kb/tests/*.yaml``) so that a knowledge
engineer edits the policy and its tests together, as OPA keeps policy and tests
in one workflow. The same runner serves pytest (one test per case) and, later,
the ``kb test`` command; coverage is simply the set of rules each case fired.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..documents import validate, yamlio
from ..knowledge import companion_schemas as schemas
from ..knowledge.model import KnowledgeBase
from ..patient.reader import from_document
from ..resolve.resolver import plan
from ..resolve.result import Result
from ..resolve.safety import SafetyInvariantError
from ..session.session import Session


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    source: str
    patient: yamlio.Document  # the inline patient, with the test file's positions
    expect: dict[str, Any]
    where: str


@dataclass
class Outcome:
    case: Case
    failures: list[str] = field(default_factory=list)
    fired: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(kb: KnowledgeBase) -> list[Case]:
    folder = Path(kb.root) / "tests"
    problems: list[Problem] = []
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        name = str(path.relative_to(Path(kb.root).parent))
        try:
            doc = yamlio.read(path, display=name)
        except CicatrixError as exc:
            problems.extend(exc.problems)
            continue
        found = validate.check(doc, schemas.TESTS)
        if found:
            problems.extend(found)
            continue
        for i, raw in enumerate(doc.data["cases"]):
            mark = doc.mark(("cases", i))
            where = f"{name}:{mark.line}" if mark else name
            if raw["id"] in seen:
                problems.append(doc.problem(("cases", i, "id"), f"duplicate case id (first at {seen[raw['id']]})"))
                continue
            seen[raw["id"]] = where
            patient = yamlio.Document(
                file=name,
                data=raw["patient"],
                marks={k[3:]: v for k, v in doc.marks.items() if k[:3] == ("cases", i, "patient")},
                key_marks={k[3:]: v for k, v in doc.key_marks.items() if k[:3] == ("cases", i, "patient")},
            )
            problems.extend(_check_ids(doc, ("cases", i, "expect"), raw["expect"], kb))
            try:  # the patient is checked now, so `kb validate` reports it without running anything
                from_document(patient, kb)
            except CicatrixError as exc:
                problems.extend(exc.problems)
                continue
            cases.append(
                Case(
                    raw["id"],
                    raw.get("description", ""),
                    raw.get("source", ""),
                    patient,
                    raw["expect"],
                    where,
                )
            )
    if problems:
        raise CicatrixError(problems)
    return cases


def _check_ids(doc: yamlio.Document, path: tuple[Any, ...], expect: dict[str, Any], kb: KnowledgeBase):
    """A typo in an expected id would make a test pass vacuously: reject unknown ids."""
    known = set(kb.treatments)

    def check(value: str, where: tuple[Any, ...]) -> Iterator[Problem]:
        for part in value.split("+"):
            if part not in known:
                yield doc.problem(where, f"unknown treatment id {part!r}" + did_you_mean(part, known))

    for key in ("recommend", "not_recommend", "avoid", "not_avoid", "left_out", "not_left_out"):
        for j, value in enumerate(expect.get(key, [])):
            yield from check(value, (*path, key, j))
    for key in ("course_order", "not_in_course"):
        for j, value in enumerate(expect.get(key, [])):
            yield from check(value, (*path, key, j))
    for problem, value in expect.get("choice", {}).items():
        if value is not None:
            yield from check(value, (*path, "choice", problem))
    for key in ("alternatives", "ruled_out"):
        for problem, values in expect.get(key, {}).items():
            for j, value in enumerate(values):
                yield from check(value, (*path, key, problem, j))
    for j, group in enumerate(expect.get("recommend_any", [])):
        for k, value in enumerate(group):
            yield from check(value, (*path, "recommend_any", j, k))
    if "first" in expect:
        yield from check(expect["first"], (*path, "first"))
    for key in ("cautions", "not_cautions", "explains", "not_explains"):
        for value in expect.get(key, {}):
            yield from check(value, (*path, key, value))
    routine = expect.get("routine", {})
    for key in ("evening_includes", "evening_excludes"):
        for j, value in enumerate(routine.get(key, [])):
            yield from check(value, (*path, "routine", key, j))
    for value in routine.get("nights", {}):
        yield from check(value, (*path, "routine", "nights", value))
    if "morning_last" in routine:
        yield from check(routine["morning_last"], (*path, "routine", "morning_last"))


def check(result: Result, expect: dict[str, Any]) -> list[str]:
    """Every way ``result`` differs from ``expect``, in words."""
    failures: list[str] = []
    recs = {r.id: r for r in result.recommendations}
    in_plan = set(recs) | {c for r in result.recommendations for c in r.components}
    avoided = {a.id: a for a in result.avoid}
    shown = ", ".join(recs) or "nothing"
    for tid in expect.get("recommend", []):
        if tid not in recs:
            why = f" (avoided: {avoided[tid].reason})" if tid in avoided else ""
            failures.append(f"expected {tid} to be recommended{why}; recommended: {shown}")
    for group in expect.get("recommend_any", []):
        if not set(group) & set(recs):
            failures.append(f"expected one of {', '.join(group)} to be recommended; recommended: {shown}")
    for tid in expect.get("not_recommend", []):
        if tid in in_plan:
            how = recs[tid].rules if tid in recs else [r.id for r in result.recommendations if tid in r.components]
            failures.append(f"expected {tid} not to be recommended, but it is (by {', '.join(how)})")
    for tid in expect.get("avoid", []):
        if tid not in avoided:
            failures.append(f"expected {tid} in the avoid list; avoided: {', '.join(avoided) or 'nothing'}")
    for tid in expect.get("not_avoid", []):
        if tid in avoided:
            failures.append(f"expected {tid} not to be avoided, but: {avoided[tid].reason}")
    left_out = {x.id: x for x in result.left_out}
    for tid in expect.get("left_out", []):
        if tid not in left_out:
            failures.append(f"expected {tid} left out for a preference; left out: {', '.join(left_out) or 'nothing'}")
    for tid in expect.get("not_left_out", []):
        if tid in left_out:
            failures.append(f"expected {tid} not to be left out, but: {left_out[tid].reason}")
    if "first" in expect:
        procedures = [r.id for r in result.recommendations if r.kind in ("procedure", "combination")]
        top = procedures[0] if procedures else "nothing"
        if top != expect["first"]:
            failures.append(f"expected {expect['first']} ranked first among procedures, got {top}")
    for text in expect.get("notes", []):
        if not any(text.lower() in n.lower() for n in result.notes):
            failures.append(f"expected a note containing {text!r}")
    for text in expect.get("not_notes", []):
        hits = [n for n in result.notes if text.lower() in n.lower()]
        if hits:
            failures.append(f"expected no note containing {text!r}, but: {hits[0]}")
    alerts = {a.id: a.severity for a in result.alerts}
    for aid, severity in expect.get("alerts", {}).items():
        if alerts.get(aid) != severity:
            got = ", ".join(f"{k} ({v})" for k, v in alerts.items()) or "none"
            article = "an" if severity[:1] in "aeiou" else "a"
            failures.append(f"expected {article} {severity} alert {aid}; alerts: {got}")
    if expect.get("no_alerts") and alerts:
        failures.append(f"expected no alert, got {', '.join(alerts)}")
    for tid, text in expect.get("explains", {}).items():
        if tid not in recs or text.lower() not in recs[tid].explanation.lower():
            said = recs[tid].explanation if tid in recs else "not recommended"
            failures.append(f"expected the explanation of {tid} to contain {text!r}; it says: {said}")
    for tid, text in expect.get("not_explains", {}).items():
        if tid in recs and text.lower() in recs[tid].explanation.lower():
            said = recs[tid].explanation
            failures.append(f"expected the explanation of {tid} not to contain {text!r}; it says: {said}")
    for tid, text in expect.get("cautions", {}).items():
        cautions = recs[tid].cautions if tid in recs else ()
        if not any(text.lower() in c.lower() for c in cautions):
            failures.append(f"expected a caution on {tid} containing {text!r}; cautions: {list(cautions)}")
    for tid, text in expect.get("not_cautions", {}).items():
        hits = [c for c in (recs[tid].cautions if tid in recs else ()) if text.lower() in c.lower()]
        if hits:
            failures.append(f"expected no caution on {tid} containing {text!r}, but: {hits[0]}")
    failures += _check_plan(result, expect)
    routine = expect.get("routine", {})
    morning = result.routine.morning
    if "morning_last" in routine and (not morning or morning[-1] != routine["morning_last"]):
        failures.append(f"expected {routine['morning_last']} last in the morning; morning: {list(morning)}")
    evening = {tid for ids in result.routine.evening.values() for tid in ids}
    for tid in routine.get("evening_includes", []):
        if tid not in evening:
            failures.append(f"expected {tid} in the evening routine")
    for tid in routine.get("evening_excludes", []):
        if tid in evening:
            failures.append(f"expected {tid} not in the evening routine")
    for tid, nights in routine.get("nights", {}).items():
        got = sum(tid in ids for ids in result.routine.evening.values())
        if got != nights:
            failures.append(f"expected {tid} on {nights} evenings a week, got {got}")
    return failures


def _problems(result: Result, name: str) -> list[Any]:
    """The problems a test names: by kind ("KIND") or kind and region ("KIND/REGION")."""
    kind, _, region = name.partition("/")
    return [p for p in result.plan.problems if p.kind == kind and (not region or p.region == region)]


def _check_plan(result: Result, expect: dict[str, Any]) -> list[str]:
    """Expectations on the plan: choices, alternatives, what is ruled out where, the course order."""
    failures: list[str] = []
    shown = ", ".join(f"{p.kind}/{p.region}" for p in result.plan.problems) or "none"
    for key in ("choice", "alternatives", "ruled_out"):
        for name, wanted in expect.get(key, {}).items():
            found = _problems(result, name)
            if not found:
                failures.append(f"expected a problem {name!r}; problems: {shown}")
                continue
            for p in found:
                if key == "choice" and p.choice != wanted:
                    failures.append(f"expected {wanted} chosen for {p.title}, got {p.choice}: {p.why}")
                if key == "alternatives":
                    missing = [x for x in wanted if x not in p.alternatives]
                    if missing:
                        failures.append(
                            f"expected {', '.join(missing)} among the alternatives for {p.title}; got "
                            f"{', '.join(p.alternatives) or 'none'}"
                        )
                if key == "ruled_out":
                    ruled = {x.id for x in p.ruled_out}
                    missing = [x for x in wanted if x not in ruled]
                    if missing:
                        failures.append(
                            f"expected {', '.join(missing)} ruled out for {p.title}; ruled out: "
                            f"{', '.join(sorted(ruled)) or 'nothing'}"
                        )
    starts: dict[str, int] = {}
    for phase in result.plan.course:
        for item in phase.items:
            starts.setdefault(item.id, item.start_week)
    order = expect.get("course_order", [])
    for tid in order:
        if tid not in starts:
            failures.append(f"expected {tid} in the course; the course holds {', '.join(starts) or 'nothing'}")
    for before, after in pairwise(order):
        if before in starts and after in starts and starts[after] < starts[before]:
            failures.append(
                f"expected {after} to start no earlier than {before} (week {starts[after]} < week {starts[before]})"
            )
    for tid in expect.get("not_in_course", []):
        if tid in starts:
            failures.append(f"expected {tid} not in the course, but it starts at week {starts[tid]}")
    return failures


def run_case(session: Session, case: Case) -> Outcome:
    """Run one case; a plan that breaks a safety invariant fails the case, not the whole run."""
    patient = from_document(case.patient, session.kb)
    try:
        result = plan(session, patient)
    except SafetyInvariantError as e:
        return Outcome(case, [f"the plan breaks a safety invariant: {e}"], ())
    assert result.consultation is not None
    fired = tuple(dict.fromkeys(f.rule for f in result.consultation.firings))
    return Outcome(case, check(result, case.expect), fired)
