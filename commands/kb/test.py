"""``cicatrix kb test``: run the knowledge base's own test cases, with rule coverage."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import click

from ..options import kb_option


@click.command("test")
@click.option("--coverage", is_flag=True, help="List every rule with how many cases fired it.")
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    help="Fail when fewer than this percentage of rules are fired (default with --coverage: 100).",
)
@click.option("-k", "pattern", help="Only cases whose id matches this glob or substring.")
@kb_option
def test(coverage: bool, min_coverage: float | None, pattern: str | None, kb_dir: Path | None) -> int:
    """Run kb/tests/*.yaml: each case is a patient and expectations on the plan.

    Prints PASS or FAIL per case with what differed; exit status 1 when a case
    fails or coverage is below --min-coverage.
    """
    from ...engine.authoring.cases import load_cases, run_case
    from ...engine.compile.compiler import compile_kb
    from ...engine.knowledge.loader import load
    from ...engine.session.session import Session

    kb = load(kb_dir)
    cases = load_cases(kb)
    if pattern:
        cases = [c for c in cases if fnmatchcase(c.id, pattern) or pattern in c.id]
        if not cases:
            from ...engine.common.errors import CicatrixError

            raise CicatrixError.about("", f"-k {pattern!r} matches no test case")
    session = Session(compile_kb(kb))
    fired: dict[str, int] = {r.id: 0 for r in kb.rules}
    failed = 0
    for case in cases:
        outcome = run_case(session, case)
        for rule_id in outcome.fired:
            fired[rule_id] += 1
        if outcome.passed:
            click.echo(f"PASS {case.id}")
        else:
            failed += 1
            click.echo(f"FAIL {case.id}  ({case.where})")
            for failure in outcome.failures:
                click.echo(f"     - {failure}")
    covered = sum(1 for n in fired.values() if n)
    percent = 100.0 * covered / len(fired) if fired else 100.0
    if coverage:
        click.echo("")
        click.echo("rule coverage (cases that fired each rule):")
        for rule in kb.rules:
            mark = "" if fired[rule.id] else "   <- never fired"
            click.echo(f"  {fired[rule.id]:>4}  {rule.id}  ({rule.where}){mark}")
        click.echo(f"{covered} of {len(fired)} rules fired ({percent:.1f}%)")
    click.echo(f"{len(cases) - failed} passed, {failed} failed")
    needed = min_coverage if min_coverage is not None else (100.0 if coverage else None)
    if needed is not None and percent < needed:
        click.echo(f"coverage {percent:.1f}% is below {needed:.1f}%", err=True)
        return 1
    return 1 if failed else 0


COMMANDS = [test]
