"""The one user-facing error type, caught once at the top of the command line.

Bad input of any kind (a patient file, a rule file, an argument) is reported as
a list of :class:`Problem` s, each naming the file, the place in it and what was
expected. Collecting problems instead of stopping at the first lets an author fix
a whole file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place in one input file."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: str = "error"

    def render(self) -> str:
        at = f"{self.path}: " if self.path else ""
        if not self.file:
            return f"{at}{self.message}"
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {at}{self.message}"


class CicatrixError(Exception):
    """Bad input: the command line prints the problems and exits with status 2."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, column=None, path="", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.render())

    @classmethod
    def about(
        cls, file: str, message: str, *, line: int | None = None, column: int | None = None, path: str = ""
    ) -> CicatrixError:
        """One problem with one file (or, with ``file=""``, with an argument)."""
        return cls([Problem(file, line, column, path, message)])

    def render(self) -> str:
        return "\n".join(problem.render() for problem in self.problems)


def short(value: object) -> str:
    """A value for a message, at most 60 characters: a long one is cut before it is copied."""
    if isinstance(value, str) and len(value) > 60:
        value = value[:60]
    elif isinstance(value, list) and len(value) > 20:
        value = value[:20]
    elif isinstance(value, dict) and len(value) > 20:
        value = dict(list(value.items())[:20])
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


MAX_SUGGESTED = 64  # longer words are not typos, and matching them would cost time and memory


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """A short suggestion for a typo, or the empty string when nothing is close (or the word is long)."""
    import difflib

    if len(str(word)) > MAX_SUGGESTED:
        return ""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def one_of(choices: Iterable[object]) -> str:
    return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)
