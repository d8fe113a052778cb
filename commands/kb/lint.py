"""``cicatrix kb lint``: what a schema cannot see (rules that can never fire, a plan that cannot hold, ...)."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import kb_option


@click.command("lint")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@kb_option
def lint(strict: bool, kb_dir: Path | None) -> int:
    """Find rules that can never fire, treatments no rule recommends, a rule that
    recommends what it avoids, templates and fields no rule reads, cycles of
    assertions, and plan data (plan.yaml) the rules or the course can never
    honour: an ordering the phase order defeats, an unused phase, a procedure
    with no course, a priority option no rule proposes, an idle add-on. Errors
    fail (exit 2); warnings fail only with --strict."""
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
