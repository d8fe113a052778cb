"""``cicatrix kb init DIR``: a knowledge base of one's own, ready to edit and to validate.

A copy of the bundled knowledge base, renamed so its plans do not pass for the
bundled one's, with its JSON Schemas written beside it (``DIR/schemas``) and every
file's ``yaml-language-server`` header pointed at them, so an editor validates the
copy as it does the original, wherever the copy lives.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from ...engine.common.files import ensure_folder, write_atomically
from .schema import render, schemas_for

_HEADER = re.compile(r"^# yaml-language-server: \$schema=\S*?([a-z]+)\.json$", re.MULTILINE)
_NAME = re.compile(r"^name: .*$", re.MULTILINE)


@click.command("init")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--name", help="The new knowledge base's name (default: the folder's name).")
def init(folder: Path, name: str | None) -> int:
    """Write a copy of the bundled knowledge base into DIR (which must not exist or be empty).

    \b
    The copy is renamed (kb.yaml `name`), gets its JSON Schemas in DIR/schemas, and
    each file's schema header points there. Then:
      cicatrix kb validate --kb DIR
      cicatrix consult --example pregnant --kb DIR
    """
    from ...engine.common.errors import CicatrixError
    from ...engine.knowledge.files import BUNDLED_KB

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CicatrixError.about(str(folder), "already exists and is not an empty folder; choose a new one")
    name = name or folder.resolve().name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise CicatrixError.about("", f"--name: {name!r} is not a usable name (letters, digits, '.', '_', '-')")
    schemas = folder / "schemas"
    ensure_folder(schemas)
    written = schemas_for(None)
    for kind, schema in written.items():
        write_atomically(schemas / f"{kind}.json", render(schema))
    copied = 0
    for source in sorted(BUNDLED_KB.rglob("*")):
        if not source.is_file() or source.suffix not in (".yaml", ".md") or "__pycache__" in source.parts:
            continue
        target = folder / source.relative_to(BUNDLED_KB)
        ensure_folder(target.parent)
        text = source.read_text(encoding="utf-8")
        depth = len(target.relative_to(folder).parts) - 1
        text = _HEADER.sub(lambda m, d=depth: f"# yaml-language-server: $schema={'../' * d}schemas/{m[1]}.json", text)
        if target.relative_to(folder) == Path("kb.yaml"):
            text = _NAME.sub(f"name: {name}", text, count=1)
        write_atomically(target, text)
        copied += 1
    click.echo(f"wrote {copied} files and {len(written)} schemas to {folder}: knowledge base {name!r}")
    click.echo(f"next: cicatrix kb validate --kb {folder}", err=True)
    return 0


COMMANDS = [init]
