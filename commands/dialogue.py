"""The interactive consultation on a terminal: ask, validate, explain, go back.

A plain question-and-answer loop rather than questionary or prompt_toolkit: it
must also run under a scripted stdin (tests, `tmux send-keys`, a pipe given
--interactive), where full-screen widgets either fail or need a pseudo-terminal.
Special answers work at every prompt: ``?``/``help``, ``why`` (``why ids``),
``back`` and ``quit`` (Ctrl-C and Ctrl-D too).

The interview talks on standard error; standard output carries the plan alone,
so ``cicatrix consult --format json > plan.json`` shows the questions and writes
only the plan. When standard error is redirected too (``2> log.txt``) while a
person answers at a terminal, the interview talks on the controlling terminal
(``/dev/tty``) instead, so the questions are still seen. On a terminal the answer
is read with readline (when Python has it), so the arrow keys edit the line and
recall earlier answers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from typing import IO, Any

import click

from ..engine.common.errors import CicatrixError
from ..engine.knowledge.model import KnowledgeBase
from ..engine.patient.questions import BadAnswer, Key, Question, Questionnaire, next_step, parse, show

HINT = "(? help, why, back or <, quit)"


class Quit(Exception):
    """The person chose to leave; nothing is saved."""


MAX_WIDTH = 100


# Where the interview talks while it runs (see ``talking``); None: standard error.
_screen: IO[str] | None = None


def screen() -> IO[str]:
    """The stream the interview talks on: standard error, or the terminal ``talking`` opened."""
    return _screen if _screen is not None else sys.stderr


@contextlib.contextmanager
def talking() -> Iterator[IO[str]]:
    """Talk on standard error, or on the controlling terminal when only it can reach the person.

    A person answering at a terminal (standard input is one) whose standard error
    is redirected (``2> log.txt``) would otherwise see no question at all: then the
    interview opens ``/dev/tty`` and talks there. Without a controlling terminal
    (a cron job, a pipe, Windows) or when standard error is a terminal, nothing changes.
    Nested, it keeps the screen already chosen (a command may wrap the interview and
    its own last words in one ``talking``).
    """
    global _screen
    if _screen is not None:
        yield _screen
        return
    terminal = None
    if _isatty(sys.stdin) and not _isatty(sys.stderr):
        terminal = _open_terminal()
    previous, _screen = _screen, terminal
    try:
        yield screen()
    finally:
        _screen = previous
        if terminal is not None:
            with contextlib.suppress(OSError):
                terminal.close()


def _open_terminal() -> IO[str] | None:
    """The controlling terminal, open for writing; None when there is none."""
    try:
        terminal = open("/dev/tty", "w", encoding="utf-8", errors="replace")  # noqa: SIM115 (closed by talking)
    except OSError:  # no controlling terminal (a daemon, a container without one), or no /dev/tty (Windows)
        return None
    if not _isatty(terminal):
        terminal.close()
        return None
    return terminal


def width() -> int:
    """The terminal's width for help and messages, capped at MAX_WIDTH.

    COLUMNS first (as shutil reads it), then the terminal the interview talks on
    (standard error, or /dev/tty), where it is shown even when standard output is a file.
    """
    columns = shutil.get_terminal_size((0, 0)).columns
    if columns <= 0:
        try:
            columns = os.get_terminal_size(screen().fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = MAX_WIDTH
    return max(40, min(columns, MAX_WIDTH))


def say(text: str = "") -> None:
    """A line of the interview, on standard error (or the terminal): standard output is for the plan."""
    click.echo(text, file=screen())


def say_wrapped(text: str, indent: str = "  ", subsequent: str | None = None) -> None:
    """A paragraph wrapped to the terminal (see ``width``)."""
    lines = textwrap.wrap(
        text,
        width=width(),
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
        break_on_hyphens=False,
    )
    for line in lines or [indent.rstrip()]:
        say(line)


_readline_state: dict[str, bool] = {}


def _line_editing() -> bool:
    """Whether answers are read with readline: standard input and the interview's screen are terminals."""
    try:
        if not (sys.stdin.isatty() and screen().isatty()):
            return False
        if sys.stdin.fileno() != 0 or sys.stdout.fileno() != 1:  # input() uses readline on these only
            return False
    except (AttributeError, ValueError, OSError):
        return False
    if "loaded" not in _readline_state:
        try:
            import readline  # noqa: F401  (importing it gives input() line editing and history)
        except ImportError:  # not on every platform (Windows without pyreadline)
            _readline_state["loaded"] = False
        else:
            _readline_state["loaded"] = True
    return _readline_state["loaded"]


def ask(prompt: str) -> str:
    """One answer. The prompt goes to the interview's screen; EOFError at the end of input, KeyboardInterrupt on Ctrl-C.

    With readline, input() writes the prompt to file descriptor 1, so for the
    length of the question descriptor 1 points at the screen's terminal (standard
    error's, or /dev/tty) and then back at wherever the plan goes (a file, a pipe
    or the same terminal).
    """
    out = screen()
    if _line_editing():
        sys.stdout.flush()
        out.flush()
        saved = os.dup(1)
        try:
            os.dup2(out.fileno(), 1)
            return input(prompt)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    click.echo(prompt, nl=False, file=out)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    answer = line.rstrip("\r\n")
    if not _isatty(sys.stdin):
        say(answer)  # a pipe does not echo the answer: show it, so the transcript reads as a dialogue
    return answer


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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


def _readers(kb: KnowledgeBase, question: Question) -> list:
    """The rules that read this answer, in the knowledge base's order."""
    return [
        rule
        for rule in kb.rules
        if (question.template, question.field) in {(p.template, c.field) for p in rule.patterns for c in p.constraints}
    ]


NO_RULE = "No rule reads this answer yet; it is kept in the saved patient file."
PLAIN_MAX = 8  # titles shown by a plain `why`; `why ids` lists every rule


def _why(kb: KnowledgeBase, question: Question) -> None:
    """What this answer decides, in plain words: the titles of the rules that read it."""
    titles = list(dict.fromkeys(rule.title for rule in _readers(kb, question)))
    if not titles:
        say(NO_RULE)
        return
    say("This answer decides:")
    for title in titles[:PLAIN_MAX]:
        say_wrapped(title, indent="  - ", subsequent="    ")
    if len(titles) > PLAIN_MAX:
        say(f"  and {len(titles) - PLAIN_MAX} more.")
    say("  (why ids: the rules' ids and what each can conclude)")


def _why_ids(kb: KnowledgeBase, question: Question) -> None:
    """The rules that read this answer, and what they can conclude (MYCIN's WHY)."""
    from ..engine.authoring.dependencies import build

    rules = _readers(kb, question)
    if not rules:
        say(NO_RULE)
        return
    graph = build(kb)
    say(f"This answer ({question.template}.{question.field}) is used by {len(rules)} rule(s):")
    for rule in rules:
        conclusions = _conclusions(kb, graph, rule.id)
        shown = ", ".join(conclusions[:6]) + (", ..." if len(conclusions) > 6 else "") or "notes and cautions"
        say_wrapped(f"- {rule.title} [{rule.id}]: can lead to {shown}", indent="  ", subsequent="    ")


def _is_answer(question: Question, raw: str) -> bool:
    try:
        parse(question, raw)
    except BadAnswer:
        return False
    return raw.strip() != ""


def prompt_text(question: Question | None, repeat: str, remembered: dict[Key, Any], key: Key) -> str:
    """The prompt, with the answers it takes and the default (what Enter gives) shown once."""
    if question is None:  # add another group?
        return f"{repeat} {'[Y/n]' if remembered.get(key) else '[y/N]'}: "
    spec = question.spec
    default = remembered.get(key, question.default)
    if spec.type == "boolean" and isinstance(default, bool):
        return f"{question.prompt} {'[Y/n]' if default else '[y/N]'}: "
    parts = [question.prompt]
    if spec.allowed is not None:
        parts.append("[" + ", ".join(map(str, spec.allowed)) + "]")
    elif spec.type == "boolean":
        parts.append("[y/n]")
    if not (default is None and spec.required):
        parts.append(f"[{show(question, default)}]")
    return " ".join(parts) + ": "


def run(kb: KnowledgeBase, q: Questionnaire) -> dict[Key, Any]:
    """Ask until every applicable question is answered; returns the answers."""
    with talking():
        return _interview(kb, q)


def _interview(kb: KnowledgeBase, q: Questionnaire) -> dict[Key, Any]:
    answers: dict[Key, Any] = {}
    remembered: dict[Key, Any] = {}  # earlier answers, offered again as defaults after `back`
    history: list[Key] = []
    titles_shown: set[str] = set()
    say_wrapped("cicatrix consultation: decision support, not a diagnosis; a dermatologist decides.", indent="")
    say_wrapped(f"Press Enter to accept the value in brackets. Any time: {HINT}.", indent="")
    while True:
        step = next_step(q, answers)
        if step is None:
            return answers
        key, question, group = step
        if group.template not in titles_shown and group.title:
            titles_shown.add(group.template)
            say()  # one blank line before each part, the first one too
            say_wrapped(group.title + (f": {group.intro}" if group.intro else ""), indent="")
        if question is not None and group.many and key[2] == group.questions[0].field and key[1] > 0:
            say(f"\n{group.template.capitalize()} group {key[1] + 1}:")
        try:
            raw = ask(prompt_text(question, group.repeat, remembered, key))
        except (KeyboardInterrupt, EOFError):
            raise Quit from None
        word = " ".join(raw.lower().split())
        if question is not None and _is_answer(question, raw):
            word = ""  # a word such as "back" may be a valid answer: a valid answer wins; "<" always goes back
        if _command(kb, word, question, group.intro, answers, history):
            continue
        if question is None and word == "" and remembered.get(key):
            word = "yes"  # Enter keeps the earlier yes offered after `back`
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
            say_wrapped(question.help or question.prompt)
            if question.spec.allowed is not None:
                words = [str(v) for v in question.spec.allowed]
                say_wrapped(f"Answers: {', '.join(words)} (or their number, 1-{len(words)})")
        else:
            say_wrapped(f"Answer yes to describe another group. {intro}".rstrip())
        say_wrapped(
            "Type why to see what this answer decides (why ids for the rules), back to change the previous "
            "answer, quit to stop."
        )
        return True
    if word in ("why", ":why", "why ids", ":why ids"):
        if question is None:
            say("  More groups let the plan treat each group on its own terms.")
        elif word.endswith("ids"):
            _why_ids(kb, question)
        else:
            _why(kb, question)
        return True
    if word in ("back", "<", ":back"):
        if not history:
            say("  This is the first question.")
        else:
            del answers[history.pop()]
            say("  Back to the previous question.")
        return True
    return False


def _value(question: Question | None, word: str, raw: str) -> Any:
    """The parsed answer, or ``_NO_ANSWER`` after saying what was wrong with it."""
    if question is None:
        if word in ("y", "yes"):
            return True
        if word in ("n", "no", ""):
            return False
        say("  Please answer yes or no.")
        return _NO_ANSWER
    try:
        return parse(question, raw)
    except BadAnswer as exc:
        say_wrapped(f"{exc}. Try again, or type ? for help.")
        return _NO_ANSWER


def require_terminal(stdin_is_tty: bool, forced: bool) -> None:
    if not stdin_is_tty and not forced:
        raise CicatrixError.about(
            "",
            "no patient file given and standard input is not a terminal: pass a patient file "
            "(cicatrix consult examples/mixed-facial-scars.yaml), or --interactive to answer from a pipe",
        )
