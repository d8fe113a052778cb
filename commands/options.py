"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def kb_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--kb",
        "kb_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CICATRIX_KB",
        default=None,
        show_envvar=True,
        help="Knowledge-base folder to use instead of the bundled one.",
    )(func)


def store_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--store FILE`` (or ``CICATRIX_STORE``): the same option wherever a store is written or read."""
    return click.option(
        "--store", "store_path", type=click.Path(path_type=Path), envvar="CICATRIX_STORE", show_envvar=True, help=help
    )


def text_width() -> int:
    """One wrap width for every command's text: the terminal's (40 to 100), else 88.

    Plans, trees and help all wrap alike, so a person reading several commands'
    output in one terminal sees one measure, and piped output is stable.
    """
    import shutil
    import sys

    if sys.stdout.isatty():
        return max(40, min(shutil.get_terminal_size((88, 24)).columns, 100))
    return 88


def show(text: str) -> None:
    """Text to stdout; through a pager (``$PAGER``, else ``less``) when it is longer
    than the terminal, and only when stdout is a terminal: never when piped.

    ``CICATRIX_PAGER=0`` (or ``PAGER=cat``) turns the pager off.
    """
    import os
    import shutil
    import sys

    rows = shutil.get_terminal_size((80, 24)).lines
    paged = sys.stdout.isatty() and os.environ.get("CICATRIX_PAGER", "1") != "0" and text.count("\n") >= rows
    if paged:
        click.echo_via_pager(text)
    else:
        click.echo(text, nl=False)
