"""``cicatrix kb schema``: the JSON Schemas, for editors and other tools."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from ...engine.common.files import atomic_output, ensure_folder, is_stdout
from ..options import kb_option

KINDS = ("kb", "templates", "treatments", "plan", "rules", "tests", "questions", "patient")


def schemas_for(kb_dir: Path | None) -> dict[str, dict]:
    from ...engine.knowledge import companion_schemas as schemas
    from ...engine.knowledge.loader import load
    from ...engine.patient.schema import patient_schema

    out = dict(schemas.ALL)
    out["patient"] = patient_schema(load(kb_dir))
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@click.command("schema")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@click.option(
    "--write",
    "folder",
    type=click.Path(file_okay=False, allow_dash=True),
    help="Write one KIND.json per kind into this folder instead of printing (- prints).",
)
@kb_option
def schema(kind: str | None, folder: str | None, kb_dir: Path | None) -> int:
    """Print the JSON Schema (draft 2020-12) of KIND, or of every kind.

    The patient schema is derived from the knowledge base's templates. Point an
    editor at these files (see README, "Authoring rules") to validate as you type.
    """
    found = schemas_for(kb_dir)
    chosen = [kind] if kind else list(KINDS)
    if folder is not None and not is_stdout(folder):
        ensure_folder(folder)
        # Every file complete before any replaces its old one: a failed write replaces none.
        with ExitStack() as files:
            for name in chosen:
                files.enter_context(atomic_output(Path(folder) / f"{name}.json")).write(render(found[name]))
        click.echo(f"wrote {len(chosen)} schema(s) to {folder}")
        return 0
    click.echo(render(found[kind] if kind else {name: found[name] for name in chosen}), nl=False)
    return 0


COMMANDS = [schema]
