"""The interactive consultation on a terminal: ask, validate, explain, go back.

click's prompts rather than questionary or prompt_toolkit: the dialogue is a
plain question-and-answer loop that must also run under a scripted stdin (tests,
`tmux send-keys`, a pipe given --interactive), where full-screen widgets either
fail or need a pseudo-terminal. Special answers work at every prompt:
``?``/``help``, ``why``, ``back`` and ``quit`` (Ctrl-C and Ctrl-D too).
"""

from __future__ import annotations

from typing import Any

import click

from ..engine.common.errors import CicatrixError
from ..engine.knowledge.model import KnowledgeBase
from ..engine.patient.questions import BadAnswer, Key, Question, Questionnaire, next_step, parse, show

HINT = "(? help, why, back or <, quit)"


class Quit(Exception):
    """The person chose to leave; nothing is saved."""


def _describe_target(rule, target: str) -> str:
    """A variable target in words: "$t" bound from a treatment pattern becomes its tags or kind."""
    if not target.startswith("$"):
        return target
    from ..engine.knowledge.model import Var

    for p in rule.when:
        if p.template != "treatment":
            continue
        if not any(
            c.field == "id" and any(isinstance(t.value, Var) and t.value.name == target[1:] for t in c.tests)
            for c in p.constraints
        ):
            continue
        parts = []
        for c in p.constraints:
            for t in c.tests:
                if c.field == "tags" and t.op == "contains":
                    parts.append(f"tagged {t.value}")
                elif c.field == "kind" and t.op == "eq":
                    parts.append(f"{t.value}s")
                elif c.field.startswith("downtime") and not isinstance(t.value, Var):
                    parts.append(f"by {c.field.replace('_', ' ')}")
        return "treatments " + " ".join(parts) if parts else "treatments"
    return "treatments"


def _conclusions(kb: KnowledgeBase, graph, rule_id: str, depth: int = 0) -> list[str]:
    rule = kb.rule(rule_id)
    found = [
        f"{kind} {_describe_target(rule, target)}" for kind, target in graph.concludes[rule_id] if kind != "caution"
    ]
    if not found and depth < 3:  # a profile rule: what do the rules it feeds conclude?
        for other in graph.feeds[rule_id]:
            found += _conclusions(kb, graph, other, depth + 1)
    return list(dict.fromkeys(found))


def _why(kb: KnowledgeBase, question: Question) -> list[str]:
    """The rules that read this answer, and what they can conclude (MYCIN's WHY)."""
    import shutil
    import textwrap

    from ..engine.authoring.dependencies import build

    graph = build(kb)
    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    lines = []
    for rule in kb.rules:
        reads = {(p.template, c.field) for p in rule.patterns for c in p.constraints}
        if (question.template, question.field) not in reads:
            continue
        conclusions = _conclusions(kb, graph, rule.id)
        shown = ", ".join(conclusions[:6]) + (", ..." if len(conclusions) > 6 else "") or "notes and cautions"
        text = f"- {rule.title} [{rule.id}]: can lead to {shown}"
        lines.extend(textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="    "))
    if not lines:
        return ["No rule reads this answer yet; it is kept in the saved patient file."]
    count = sum(1 for line in lines if line.startswith("  - "))
    return [f"This answer ({question.template}.{question.field}) is used by {count} rule(s):", *lines]


def _is_answer(question: Question, raw: str) -> bool:
    try:
        parse(question, raw)
    except BadAnswer:
        return False
    return raw.strip() != ""


def _prompt_text(question: Question | None, repeat: str, remembered: dict[Key, Any], key: Key) -> tuple[str, str]:
    if question is None:
        return f"{repeat} [y/N]", "yes" if remembered.get(key) else "no"
    spec = question.spec
    options = ""
    if spec.allowed is not None:
        options = " [" + ", ".join(map(str, spec.allowed)) + "]"
    elif spec.type == "boolean":
        options = " [y/n]"
    default = remembered.get(key, question.default)
    if default is None and spec.required:
        return f"{question.prompt}{options}", ""
    return f"{question.prompt}{options}", show(question, default)


def run(kb: KnowledgeBase, q: Questionnaire) -> dict[Key, Any]:
    """Ask until every applicable question is answered; returns the answers."""
    answers: dict[Key, Any] = {}
    remembered: dict[Key, Any] = {}  # earlier answers, offered again as defaults after `back`
    history: list[Key] = []
    titles_shown: set[str] = set()
    click.echo("cicatrix consultation: decision support, not a diagnosis; a dermatologist decides.")
    click.echo(f"Press Enter to accept the value in brackets. Any time: {HINT}.\n")
    while True:
        step = next_step(q, answers)
        if step is None:
            return answers
        key, question, group = step
        if group.template not in titles_shown and group.title:
            titles_shown.add(group.template)
            click.echo(f"\n{group.title}" + (f": {group.intro}" if group.intro else ""))
        if question is not None and group.many and key[2] == group.questions[0].field and key[1] > 0:
            click.echo(f"\n{group.template.capitalize()} group {key[1] + 1}:")
        text, default = _prompt_text(question, group.repeat, remembered, key)
        try:
            raw = click.prompt(text, default=default or None, show_default=bool(default))
        except (click.exceptions.Abort, EOFError):
            raise Quit from None
        word = raw.strip().lower()
        if question is not None and _is_answer(question, raw):
            word = ""  # a word such as "back" may be a valid answer: a valid answer wins; "<" always goes back
        if _command(kb, word, question, group.intro, answers, history):
            continue
        value = _value(question, word, raw)
        if value is not _NO_ANSWER:
            answers[key] = remembered[key] = value
            history.append(key)


_NO_ANSWER = object()


def _command(
    kb: KnowledgeBase, word: str, question: Question | None, intro: str, answers: dict[Key, Any], history: list[Key]
) -> bool:
    """Carry out a special word (quit, help, why, back); False when ``word`` is none."""
    if word in ("quit", "exit", ":quit"):
        raise Quit
    if word in ("?", "help", ":help"):
        if question is not None:
            click.echo(f"  {question.help or question.prompt}")
            if question.spec.allowed is not None:
                words = [str(v) for v in question.spec.allowed]
                click.echo(f"  Answers: {', '.join(words)} (or their number, 1-{len(words)})")
        else:
            click.echo(f"  Answer yes to describe another group. {intro}".rstrip())
        click.echo("  Type why to see which rules use this answer, back to change the previous answer,")
        click.echo("  quit to stop.")
        return True
    if word in ("why", ":why"):
        if question is None:
            click.echo("  More groups let the plan treat each group on its own terms.")
        else:
            for line in _why(kb, question):
                click.echo(line)
        return True
    if word in ("back", "<", ":back"):
        if not history:
            click.echo("  This is the first question.")
        else:
            del answers[history.pop()]
            click.echo("  Back to the previous question.")
        return True
    return False


def _value(question: Question | None, word: str, raw: str) -> Any:
    """The parsed answer, or ``_NO_ANSWER`` after saying what was wrong with it."""
    if question is None:
        if word in ("y", "yes"):
            return True
        if word in ("n", "no", ""):
            return False
        click.echo("  Please answer yes or no.")
        return _NO_ANSWER
    try:
        return parse(question, raw)
    except BadAnswer as exc:
        click.echo(f"  {exc}. Try again, or type ? for help.")
        return _NO_ANSWER


def require_terminal(stdin_is_tty: bool, forced: bool) -> None:
    if not stdin_is_tty and not forced:
        raise CicatrixError.about(
            "",
            "no patient file given and standard input is not a terminal: pass a patient file "
            "(cicatrix consult examples/mixed-facial-scars.yaml), or --interactive to answer from a pipe",
        )
