"""The ``cicatrix`` command line: one click group, one small module per command.

Every user-facing error is a :class:`~cicatrix.engine.errors.CicatrixError`,
caught once here and printed as located messages with exit status 2. Anything
else is a bug: a one-line message and exit status 1 (``CICATRIX_DEBUG=1`` shows
the traceback).
"""

from __future__ import annotations

import os
import sys

import click

from .engine.commands import consult, kb, trace


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cicatrix")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", prog_name="cicatrix", message="%(prog)s %(version)s")
def cli() -> None:
    """Plan acne-scar treatment with an explainable rule-based expert system.

    Decision support, not a diagnosis: a dermatologist decides.

    \b
    Start with:
      cicatrix consult examples/mixed-facial-scars.yaml
    """


cli.add_command(consult.command)
cli.add_command(trace.group)
cli.add_command(kb.group)


def main(argv: list[str] | None = None) -> None:
    from .engine.errors import CicatrixError

    try:
        code = cli.main(args=argv, prog_name="cicatrix", standalone_mode=False)
    except CicatrixError as exc:
        click.echo(exc.render(), err=True)
        count = len(exc.problems)
        if count > 1:
            click.echo(f"cicatrix: {count} problems", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # e.g. `cicatrix consult f.yaml | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("CICATRIX_DEBUG"):
            raise
        click.echo(f"cicatrix: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Please report it; set CICATRIX_DEBUG=1 to see the traceback.", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
