"""The ``cicatrix`` command line: one click group, one small module per command.

Commands are imported only when they run, so `cicatrix consult` does not pay
for the authoring toolkit. This is the one place where outcomes become exit
statuses: a command returns its status (0 when all is well, e.g. 1 when a test
case fails) and never exits itself; every user-facing error is a
:class:`~cicatrix.engine.common.errors.CicatrixError`, caught once here and printed as
located messages with exit status 2. Anything else is a bug: a one-line message
and exit status 1 (``CICATRIX_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

COMMANDS = {
    "consult": ("consult", "command", "Run a consultation from a patient file, or interactively."),
    "examples": ("examples", "command", "List the example patient files, or copy one out to edit."),
    "batch": ("batch", "command", "Consult many patients (JSONL, YAML or CSV) into JSON lines."),
    "trace": ("trace", "group", "Inspect a saved trace: show, how, why-not, graph, replay."),
    "history": ("history", "group", "List, show and export the consultations recorded in a store."),
    "kb": ("kb", "group", "Author, check and test a knowledge base."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f".commands.{module}", __package__), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> int:
        """Run the subcommand (through nested groups) and make the status it returns the exit status.

        click ignores a command's return value when it runs standalone (as under
        ``click.testing.CliRunner``), so a non-zero status is raised as click's
        ``Exit``, which both modes turn into that exit status.
        """
        status = super().invoke(ctx)
        status = status if isinstance(status, int) else 0
        if status:
            ctx.exit(status)
        return status


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cicatrix", prog_name="cicatrix", message="%(prog)s %(version)s")
def cli() -> None:
    """Plan acne-scar treatment with an explainable rule-based expert system.

    Decision support, not a diagnosis: a dermatologist decides.

    \b
    Start with:
      cicatrix consult --example mixed-facial-scars
      cicatrix examples           (the other examples, to run or copy)
      cicatrix consult            (answer the questions instead)
    """


def main(argv: list[str] | None = None) -> None:
    from .engine.common.errors import CicatrixError
    from .engine.common.files import StdoutGone, guarded_stdout, silence_stdout

    try:
        # Standard output's own failures (closed, full) are bad input, and are
        # caught up to its last flush; a reader that went away ends quietly.
        with guarded_stdout():
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
    except (StdoutGone, BrokenPipeError):  # e.g. `cicatrix consult f.yaml | head`
        silence_stdout()  # or Python's own flush at exit fails into the closed pipe
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("CICATRIX_DEBUG"):
            raise
        click.echo(f"cicatrix: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Please report it; set CICATRIX_DEBUG=1 to see the traceback.", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
