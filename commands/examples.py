"""``cicatrix examples``: list the example patient files that come with the package, or copy one out.

The repository's ``examples/`` folder is installed as ``cicatrix/examples`` (see
pyproject.toml), next to the bundled ``kb/``, and is found the same way: by a
path relative to the package. ``cicatrix consult --example NAME`` runs one.
"""

from __future__ import annotations

from pathlib import Path

import click

# The package's root folder (the repository in a checkout, site-packages/cicatrix installed).
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUFFIXES = (".yaml", ".json")


def available() -> dict[str, Path]:
    """Every example by its name without extension, sorted; an empty mapping if none is installed."""
    if not EXAMPLES.is_dir():
        return {}
    return {p.stem: p for p in sorted(EXAMPLES.iterdir()) if p.suffix in SUFFIXES and p.is_file()}


def find(name: str) -> Path:
    """The example called NAME (with or without its extension); an unknown name is bad input (exit 2)."""
    from ..engine.common.errors import CicatrixError, did_you_mean

    found = available()
    stem = name[: -len(suffix)] if (suffix := Path(name).suffix) in SUFFIXES else name
    path = found.get(stem)
    if path is not None and (stem == name or path.name == name):
        return path
    if not found:
        raise CicatrixError.about("", "no examples are installed with this copy of cicatrix")
    hint = did_you_mean(stem, found)
    raise CicatrixError.about("", f"no example called {name!r} (the examples are: {', '.join(found)}){hint}")


def describe(path: Path) -> str:
    """One line about an example: its leading comment, or for a file without comments (JSON), its scars."""
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text and not text.startswith("yaml-language-server:"):
            lines.append(text)
    if lines:
        return " ".join(lines)
    return _summary(path)


def _summary(path: Path) -> str:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        kinds = list(dict.fromkeys(str(s["type"]).replace("_", " ") for s in data.get("scars", [])))
    except (ValueError, TypeError, KeyError, AttributeError):
        return f"A patient file in {path.suffix[1:].upper()}."
    return f"A patient file in {path.suffix[1:].upper()}: {', '.join(kinds) or 'no'} scars."


@click.command("examples")
@click.option(
    "--copy",
    "copy",
    metavar="NAME",
    help="Copy the example NAME (with or without extension) into DIR (default: the current folder).",
)
@click.argument("folder", metavar="[DIR]", type=click.Path(file_okay=False, path_type=Path), required=False)
def command(copy: str | None, folder: Path | None) -> int:
    """List the example patient files that come with cicatrix, or copy one out to edit.

    \b
    Examples:
      cicatrix examples
      cicatrix consult --example mixed-facial-scars
      cicatrix examples --copy mixed-facial-scars
      cicatrix examples --copy pregnant.yaml my-patients/
    """
    if copy is None:
        if folder is not None:
            raise click.UsageError("DIR is for --copy NAME")
        found = available()
        if not found:
            click.echo("No examples are installed with this copy of cicatrix.", err=True)
            return 0
        width = max(len(p.name) for p in found.values())
        for path in found.values():
            click.echo(f"{path.name:<{width}}  {describe(path)}")
        click.echo(
            "\nRun one with `cicatrix consult --example NAME`; copy one with `cicatrix examples --copy NAME`.", err=True
        )
        return 0
    return _copy(find(copy), folder or Path("."))


def _copy(source: Path, folder: Path) -> int:
    from ..engine.common.errors import CicatrixError
    from ..engine.common.files import write_atomically

    target = folder / source.name
    if not folder.is_dir():
        raise CicatrixError.about(str(folder), "no such folder")
    if target.exists() or target.is_symlink():
        raise CicatrixError.about(str(target), "already exists; not overwriting it (remove it or choose another DIR)")
    write_atomically(target, source.read_bytes())
    click.echo(f"Copied {source.name} to {target}; run it with `cicatrix consult {target}`.", err=True)
    return 0
