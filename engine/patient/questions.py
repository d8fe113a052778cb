"""The interactive questionnaire: which question comes next, and what an answer means.

Questions are knowledge (``kb/questions.yaml``); this module only sequences them
and parses answers against the field each one fills. It does no input or output,
so the dialogue on a terminal, a test and any future front end share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..common.numbers import plain
from ..documents import validate, yamlio
from ..knowledge import companion_schemas as schemas
from ..knowledge.constraints import holds
from ..knowledge.model import FieldSpec, KnowledgeBase, Test, Var
from ..knowledge.rule_parser import RuleParser

Key = tuple[Any, ...]  # (template, field) for a mapping; (template, index, field) or (template, index, "+more")
MORE = "+more"


@dataclass(frozen=True)
class Condition:
    template: str
    field: str
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class Question:
    template: str
    field: str
    spec: FieldSpec
    prompt: str
    help: str
    default: Any
    ask_if: tuple[tuple[Condition, ...], ...]  # any of (all of)


@dataclass(frozen=True)
class Group:
    template: str
    key: str  # where the patient file holds it
    title: str
    intro: str
    repeat: str
    many: bool
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Questionnaire:
    groups: tuple[Group, ...]
    file: str

    def group(self, template: str) -> Group:
        return next(g for g in self.groups if g.template == template)


def load(kb: KnowledgeBase) -> Questionnaire:
    """Read and check ``questions.yaml`` against the templates; every problem at once."""
    path = Path(kb.root) / "questions.yaml"
    name = str(path.relative_to(Path(kb.root).parent))
    if not path.is_file():
        raise CicatrixError.about(name, "missing: the interactive questionnaire needs this file")
    doc = yamlio.read(path, display=name)
    problems = validate.check(doc, schemas.QUESTIONS)
    if problems:
        raise CicatrixError(problems)
    reader = _Reader(doc, kb, problems)
    groups = [g for g in (reader.group(raw, ("groups", gi)) for gi, raw in enumerate(doc.data["groups"])) if g]
    asked = {g.template for g in groups}
    for template in kb.input_templates():
        required = [f for f, s in template.fields.items() if s.required]
        if template.name not in asked and (required or (template.input and template.input.min_items)):
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    "groups",
                    f"no group asks about template {template.name!r}, which the patient file needs",
                )
            )
    if problems:
        raise CicatrixError(problems)
    return Questionnaire(tuple(groups), name)


class _Reader:
    """Turns the checked document into groups and questions, collecting problems."""

    def __init__(self, doc: yamlio.Document, kb: KnowledgeBase, problems: list[Problem]):
        self.doc, self.kb, self.problems = doc, kb, problems
        self.parser = RuleParser(doc, kb.templates, kb.treatments, kb.sources, problems)

    def group(self, raw: dict[str, Any], gpath: tuple[Any, ...]) -> Group | None:
        template = self.kb.templates.get(raw["template"])
        if template is None or template.input is None:
            choices = [t.name for t in self.kb.input_templates()]
            self.problems.append(
                self.doc.problem(
                    (*gpath, "template"),
                    f"{raw['template']!r} is not a template read from the patient file"
                    + did_you_mean(raw["template"], choices),
                )
            )
            return None
        questions = [self.question(template, q, (*gpath, "questions", qi)) for qi, q in enumerate(raw["questions"])]
        return Group(
            template.name,
            template.input.key,
            raw.get("title", ""),
            raw.get("intro", ""),
            raw.get("repeat", ""),
            template.input.many,
            tuple(q for q in questions if q is not None),
        )

    def question(self, template: Any, q: dict[str, Any], qpath: tuple[Any, ...]) -> Question | None:
        spec = template.fields.get(q["field"])
        if spec is None:
            self.problems.append(
                self.doc.problem(
                    (*qpath, "field"),
                    f"template {template.name!r} has no field {q['field']!r}"
                    + did_you_mean(q["field"], template.fields),
                )
            )
            return None
        alternatives = q.get("ask_if", [])
        listed = isinstance(alternatives, list)
        alternatives = alternatives if listed else [alternatives]
        ask_if = tuple(
            self.conditions(alt, (*qpath, "ask_if", *([ai] if listed else []))) for ai, alt in enumerate(alternatives)
        )
        return Question(
            template.name,
            spec.name,
            spec,
            " ".join(q["prompt"].split()),
            " ".join(q.get("help", "").split()),
            q.get("default", spec.default),
            ask_if,
        )

    def conditions(self, alt: dict[str, Any], apath: tuple[Any, ...]) -> tuple[Condition, ...]:
        """One ``ask_if`` alternative: all of its conditions must hold."""
        conditions = []
        for key, value in alt.items():
            tname, fname = key.split(".", 1)
            cpath = (*apath, key)
            other = self.kb.templates.get(tname)
            if other is None or fname not in other.fields:
                known = [f"{t.name}.{f}" for t in self.kb.input_templates() for f in t.fields]
                self.problems.append(
                    self.doc.problem(cpath, f"unknown field {key!r}" + did_you_mean(key, known), key=True)
                )
                continue
            tests = self.parser.tests(value, other.fields[fname], key, cpath)
            if any(isinstance(t.value, Var) for t in tests):
                self.problems.append(self.doc.problem(cpath, "ask_if conditions take values, not variables"))
                continue
            conditions.append(Condition(tname, fname, tests))
        return tuple(conditions)


# --- sequencing -------------------------------------------------------------------


def _values(answers: dict[Key, Any], template: str) -> list[dict[str, Any]]:
    """Answers so far for one template, one dict per item (list templates: per group)."""
    items: dict[int, dict[str, Any]] = {}
    for key, value in answers.items():
        if key[0] != template:
            continue
        if len(key) == 2:
            items.setdefault(0, {})[key[1]] = value
        elif key[2] != MORE:
            items.setdefault(key[1], {})[key[2]] = value
    return [items[i] for i in sorted(items)]


def applies(question: Question, answers: dict[Key, Any], current: dict[str, Any] | None = None) -> bool:
    """Whether ``ask_if`` holds; a condition on the question's own group looks at the current item."""
    if not question.ask_if:
        return True
    for alternative in question.ask_if:
        ok = True
        for c in alternative:
            if c.template == question.template and current is not None:
                items = [current]
            else:
                items = _values(answers, c.template)
            if not any(c.field in item and all(holds(t, item[c.field], {}) for t in c.tests) for item in items):
                ok = False
                break
        if ok:
            return True
    return False


def steps(q: Questionnaire, answers: dict[Key, Any]) -> Iterator[tuple[Key, Question | None, Group]]:
    """The questions to ask given the answers so far, in order (None = the add-another question)."""
    for group in q.groups:
        if not group.many:
            current: dict[str, Any] = {}
            for question in group.questions:
                key = (group.template, question.field)
                if applies(question, answers, current):
                    yield key, question, group
                    if key in answers:
                        current[question.field] = answers[key]
            continue
        index = 0
        while True:
            current = {}
            for question in group.questions:
                key = (group.template, index, question.field)
                if applies(question, answers, current):
                    yield key, question, group
                    if key in answers:
                        current[question.field] = answers[key]
            more = (group.template, index, MORE)
            yield more, None, group
            if answers.get(more) is True:
                index += 1
                continue
            break


def next_step(q: Questionnaire, answers: dict[Key, Any]) -> tuple[Key, Question | None, Group] | None:
    for key, question, group in steps(q, answers):
        if key not in answers:
            return key, question, group
    return None


def to_patient(q: Questionnaire, answers: dict[Key, Any]) -> dict[str, Any]:
    """The answers as a patient document (only the questions that were asked)."""
    asked = {key for key, _, _ in steps(q, answers)}
    doc: dict[str, Any] = {}
    for group in q.groups:
        if group.many:
            items = []
            index = 0
            while (group.template, index, MORE) in asked:
                item = {
                    question.field: answers[(group.template, index, question.field)]
                    for question in group.questions
                    if (group.template, index, question.field) in asked
                    and (group.template, index, question.field) in answers
                }
                items.append(item)
                index += 1
            doc[group.key] = items
        else:
            doc[group.key] = {
                question.field: answers[(group.template, question.field)]
                for question in group.questions
                if (group.template, question.field) in asked and (group.template, question.field) in answers
            }
    return doc


# --- answers -------------------------------------------------------------------------

_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}
_NONE = {"none", "unknown", "skip", "never", "-", "null"}


class BadAnswer(ValueError):
    """An answer that does not fit the question; the message says what would."""


def choices(spec: FieldSpec) -> list[Any]:
    return list(spec.allowed) if spec.allowed is not None else []


def _one(spec: FieldSpec, text: str) -> Any:
    options = choices(spec)
    lowered = text.strip().lower()
    for value in options:
        if lowered in (str(value).lower(), spec.label(value).lower()):
            return value
    if lowered.isdigit() and options and 1 <= int(lowered) <= len(options):
        return options[int(lowered) - 1]
    names = [str(o) for o in options]
    raise BadAnswer(f"{text.strip()!r} is not one of: {', '.join(names)}" + did_you_mean(lowered, names))


def parse(question: Question, text: str) -> Any:
    """The value an answer stands for; empty means the default. Raises BadAnswer."""
    spec = question.spec
    raw = text.strip()
    if raw == "":
        return question.default
    if spec.type == "list":
        if raw.lower() in _NONE or raw.lower() in _NO:
            return []
        values = [_one(spec, part) for part in raw.replace(";", ",").split(",") if part.strip()]
        return list(dict.fromkeys(values))
    if raw.lower() in _NONE and spec.nullable:
        return None
    if spec.type == "boolean":
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        raise BadAnswer("answer yes or no (y/n)")
    if spec.type in ("integer", "number"):
        try:
            value: float = int(raw) if spec.type == "integer" else float(raw)
        except ValueError:
            raise BadAnswer(f"expected {spec.describe_allowed()}") from None
        if spec.type == "number":
            value = plain(value)
        if not spec.accepts(value):
            raise BadAnswer(f"expected {spec.describe_allowed()}")
        return value
    return _one(spec, raw)


def show(question: Question, value: Any) -> str:
    """How a value is shown as a default in the prompt."""
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
