"""``cicatrix consult``: run one consultation from a patient file and print the plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from .options import kb_option, write_atomically


@click.command("consult")
@click.argument("patient_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for programs (the documented contract).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the plan to this file (atomically) instead of standard output.",
)
@click.option("--width", type=click.IntRange(40, 200), help="Wrap text output at this width.")
@kb_option
def command(
    patient_file: Path, fmt: str, output: Path | None, width: int | None, kb_dir: Path | None
) -> None:
    """Run a consultation on PATIENT_FILE (YAML or JSON) and print the plan.

    The plan ranks procedures and combinations, lists home care and a weekly
    routine, says what to avoid and why, and cites the source of every
    conclusion. It is decision support, not a diagnosis: a dermatologist decides.

    \b
    Examples:
      cicatrix consult examples/mixed-facial-scars.yaml
      cicatrix consult patient.yaml --format json -o plan.json
    """
    from ..loader import load
    from ..patient import read
    from ..session import Session, plan

    kb = load(kb_dir)
    patient = read(patient_file, kb)
    result = plan(Session(kb), patient)
    if fmt == "json":
        from ..render.json import render as render_json

        text = render_json(result)
    else:
        from ..render.text import render as render_text

        if width is None:
            width = min(shutil.get_terminal_size((88, 24)).columns, 100) if output is None else 88
        text = render_text(result, kb, width=width)
    if output is not None:
        write_atomically(output, text)
    else:
        click.echo(text, nl=False)
