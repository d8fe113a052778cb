"""``cicatrix kb validate``: structure and references of every file, all errors at once."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..options import kb_option


@click.command("validate")
@kb_option
def validate(kb_dir: Path | None) -> int:
    """Check every knowledge-base file against its schema and every reference in it.

    Reports each problem as file:line:column with what is allowed and, for a typo,
    the closest known word. Exit status 2 when anything is wrong.
    """
    from ...engine.authoring.cases import load_cases
    from ...engine.common.errors import CicatrixError
    from ...engine.knowledge.loader import load
    from ...engine.patient.questions import load as load_questions

    start = time.perf_counter()
    kb = load(kb_dir)
    problems = []
    cases = []
    has_questions = (Path(kb.root) / "questions.yaml").is_file()
    for check in (load_cases, load_questions) if has_questions else (load_cases,):
        try:
            found = check(kb)
        except CicatrixError as exc:
            problems.extend(exc.problems)
        else:
            if check is load_cases:
                cases = found
    if problems:
        raise CicatrixError(problems)
    from ...engine.knowledge.files import BUNDLED_KB

    if Path(kb.root).resolve() != BUNDLED_KB.resolve():
        bundled = load(BUNDLED_KB).name if (BUNDLED_KB / "kb.yaml").is_file() else None
        if kb.name == bundled:
            click.echo(
                f"warning: {kb.root}/kb.yaml keeps the bundled name {kb.name!r}: rename it, so plans made with "
                "this knowledge base are not taken for the bundled one's",
                err=True,
            )
    derived = sum(1 for t in kb.templates.values() if t.input is None and not t.builtin)
    click.echo(
        f"ok: {kb.root}: {len(kb.templates) - 3} templates ({derived} derived), {len(kb.treatments)} treatments, "
        f"{len(kb.rules)} rules, {len(cases)} test cases"
        + ("" if has_questions else ", no questions.yaml (interactive consultations unavailable)")
        + f" ({(time.perf_counter() - start) * 1000:.0f} ms)"
    )
    return 0


COMMANDS = [validate]
