"""``cicatrix kb lint``: what a schema cannot see (rules that can never fire, ...)."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import kb_option


@click.command("lint")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@kb_option
def lint(strict: bool, kb_dir: Path | None) -> int:
    """Find rules that can never fire, treatments no rule recommends, a rule that
    recommends what it avoids, templates and fields no rule reads, and cycles of
    assertions. Errors fail (exit 2); warnings fail only with --strict."""
    from ...engine.authoring.lint import lint as run_lint
    from ...engine.knowledge.loader import load

    problems = run_lint(load(kb_dir))
    for p in problems:
        click.echo(f"{p.severity}: {p.render()}")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s)")
    return 2 if errors or (strict and warnings) else 0


COMMANDS = [lint]
