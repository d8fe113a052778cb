"""``cicatrix history``: list, show and export the consultations recorded in a store.

A store is written by ``consult --store`` and ``batch --store`` (:mod:`..store`).
This command only reads it (it migrates an older store to the current schema, as
every opening does). ``history`` alone lists, as ``history list`` does.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from ..engine.common.jsonline import json_line
from .options import kb_option, store_option, text_width

STORE = store_option("The store to read: the SQLite file `consult --store` and `batch --store` write.")
_KB_DIGEST = click.option(
    "--kb-digest",
    metavar="DIGEST",
    help="Only records made with this knowledge base: its digest, or its first hex digits (at least 4).",
)
_SINCE = click.option(
    "--since",
    "since_text",
    metavar="WHEN",
    help="Only records made since WHEN: a date (2025-12-01), a UTC time (2025-12-01T08:30, or with an"
    " offset: +01:00), or an age (90m, 12h, 7d, 2w).",
)


def _filters(func: Any) -> Any:
    return _KB_DIGEST(_SINCE(func))


class _ListByDefault(click.Group):
    """``history`` with no subcommand, or with list's options only, lists."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("history", cls=_ListByDefault)
def group() -> None:
    """List, show and export the consultations recorded in a store.

    `consult --store FILE` and `batch --store FILE` record each consultation in
    FILE, an SQLite file (or set CICATRIX_STORE): the patient input, the
    knowledge base's name, version and digest, the plan exactly as `consult
    --format json` prints it, the trace as `consult --trace` writes it, and when
    (UTC). `history` alone lists the records, newest first.

    \b
    Examples:
      cicatrix consult patient.yaml --store visits.db
      cicatrix batch patients.jsonl -o plans.jsonl --store visits.db
      cicatrix history --store visits.db
      cicatrix history list --store visits.db --since 7d --limit 50
      cicatrix history show 12 --store visits.db
      cicatrix history show 12 --store visits.db --format json -o plan.json
      cicatrix history show 12 --store visits.db --trace t.json && cicatrix trace how t.json tca_cross
      cicatrix history export --store visits.db --kb-digest 43cfd476 -o visits.jsonl
    """


def _open(path: Path | None):
    """The store to read, closed with the command; an error when none is given."""
    from ..engine.common.errors import CicatrixError
    from ..store import open_store

    if path is None:
        raise CicatrixError("no store given: use --store FILE or set CICATRIX_STORE")
    return click.get_current_context().with_resource(open_store(path, create=False))


_AGE = re.compile(r"(\d{1,9})\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: a date, a time (UTC unless it has an offset), or an age before ``now``."""
    if text is None:
        return None
    from ..engine.common.errors import CicatrixError

    value = text.strip()
    age = _AGE.fullmatch(value.lower())
    try:
        if age:
            return (now or datetime.now(timezone.utc)) - timedelta(**{_UNITS[age[2]]: int(age[1])})
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value)
    except (ValueError, OverflowError):
        raise CicatrixError.about(
            "--since",
            f"{text!r} is not a date, a time or an age: give e.g. 2025-12-01, 2025-12-01T08:30 (UTC), "
            "2025-12-01T08:30+01:00, or 90m, 12h, 7d, 2w",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _digest(text: str | None) -> str | None:
    from ..store import digest_prefix

    return None if text is None else digest_prefix(text)


# --- list ----------------------------------------------------------------------------


@group.command("list")
@STORE
@_filters
@click.option(
    "--limit",
    type=click.IntRange(0, 1_000_000_000),
    default=20,
    show_default=True,
    help="Show at most this many records, the newest; 0 shows them all.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--width", type=click.IntRange(40, 200), help="Fit the table to this width.")
def list_(
    store_path: Path | None, kb_digest: str | None, since_text: str | None, limit: int, fmt: str, width: int | None
) -> int:
    """List the records, newest first: id, when (UTC), knowledge base, source, choices.

    CHOICES is the plan's choice for each of its problems, in the plan's order
    (- where nothing fits), after the number of alerts if it has any. A batch
    record's source is INPUT:LINE.

    \b
    Examples:
      cicatrix history --store visits.db
      cicatrix history --store visits.db --since 2025-12-01 --limit 0
      cicatrix history --store visits.db --kb-digest 43cfd476 --format json
    """
    store = _open(store_path)
    filters = {"kb_digest": _digest(kb_digest), "since": since(since_text)}
    total = store.count(**filters)
    entries = list(store.entries(**filters, limit=limit or None, newest_first=True))
    rows = [(e, _summary(store.plan(e.id), store.name, e.id)) for e in entries]
    if fmt == "json":
        import json

        records = [
            {"id": e.id, "recorded": e.recorded, "source": e.source, "line": e.line,
             "kb": {"name": e.kb.name, "version": e.kb.version, "digest": e.kb.digest},
             "cicatrix": e.cicatrix, "choices": choices, "alerts": alerts}
            for e, (choices, alerts) in rows
        ]  # fmt: skip
        click.echo(json.dumps({"store": store.name, "total": total, "records": records}, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        filtered = any(v is not None for v in filters.values())
        click.echo(f"No records in {store.name} match." if filtered else f"No records in {store.name} yet.")
        return 0
    click.echo(_table(rows, width or text_width()), nl=False)
    if total > len(rows):
        click.echo(f"{len(rows)} of {total} records shown, newest first; --limit 0 shows them all.")
    return 0


def _summary(plan_text: str, store: str, record_id: int) -> tuple[list[str | None], int]:
    """(the choice of each problem, the number of alerts) from a stored plan."""
    import json

    from ..engine.common.errors import CicatrixError

    try:
        plan = json.loads(plan_text)
        problems = plan.get("plan", {}).get("problems", [])
        return [p.get("choice") for p in problems], len(plan.get("alerts", []))
    except (ValueError, AttributeError, TypeError):
        raise CicatrixError.about(store, f"record {record_id} is damaged: its plan is not a plan") from None


def _table(rows: list[tuple[Any, tuple[list[str | None], int]]], width: int) -> str:
    """Aligned columns fitted to ``width``: a long source is cut at its start (its file name is at the end),
    the choices at their end. The knowledge base's name is shown only when the rows have more than one."""
    names = {e.kb.name for e, _ in rows}
    cells = []
    for e, (choices, alerts) in rows:
        chosen = ", ".join(c or "-" for c in choices) or "-"
        alert = f"{alerts} alert{'s' if alerts != 1 else ''}: " if alerts else ""
        kb = f"{e.kb.version} {_short(e.kb.digest)[:8]}"
        cells.append([str(e.id), e.recorded[:16].replace("T", " "), f"{e.kb.name} {kb}" if len(names) > 1 else kb,
                      e.where, alert + chosen])  # fmt: skip
    head = ["ID", "RECORDED (UTC)", "KNOWLEDGE BASE" if len(names) > 1 else "KB", "SOURCE", "CHOICES"]
    sizes = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(4)]
    room = width - sum(sizes[:3]) - 8  # what the source and the choices share, less the gaps
    sizes[3] = max(len(head[3]), min(sizes[3], 32, room - 26))
    for c in cells:
        if len(c[3]) > sizes[3]:
            c[3] = "..." + c[3][-(sizes[3] - 3) :]
    indent = sum(sizes) + 8
    lines = []
    for row in (head, *cells):
        first = "  ".join([row[0].rjust(sizes[0]), *(row[i].ljust(sizes[i]) for i in (1, 2, 3))]) + "  "
        wrapped = textwrap.wrap(row[4], max(width - indent, 12), break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(first + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n"


# --- show ----------------------------------------------------------------------------


@group.command("show")
@click.argument("record_id", metavar="ID", type=int)
@STORE
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="json is the plan exactly as recorded; text and markdown print it as `consult` does, which needs"
    " the knowledge base that made it (--kb).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the plan to this file (atomically) instead of standard output (-).")  # fmt: skip
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Also write the record's trace to this file, as `consult --trace` wrote it, for `cicatrix trace`.",
)
@click.option("--explain", is_flag=True, help="Append how each recommendation was concluded (text and markdown).")
@click.option("--all", "show_all", is_flag=True, help="Also list every option considered (text and markdown).")
@click.option("--width", type=click.IntRange(40, 200), help="Wrap text output at this width.")
@kb_option
def show(
    record_id: int,
    store_path: Path | None,
    fmt: str,
    output: str | None,
    trace_file: str | None,
    explain: bool,
    show_all: bool,
    width: int | None,
    kb_dir: Path | None,
) -> int:
    """Show record ID's plan as `consult` printed it (and write its trace).

    ID is a record's id, as `cicatrix history` lists it.

    With --format json the plan is printed exactly as recorded. Text and markdown
    are made again from the recorded patient with the knowledge base that made
    the plan (the bundled one, or --kb DIR: its digest must be the record's),
    and checked to be the recorded plan. --trace writes the recorded trace, so
    `cicatrix trace how` and `why-not` answer questions about it.

    \b
    Examples:
      cicatrix history show 12 --store visits.db
      cicatrix history show 12 --store visits.db --format json
      cicatrix history show 12 --store visits.db --trace t.json --format json -o /dev/null
      cicatrix trace why-not t.json punch_excision
    """
    import json

    from .consult import _write

    store = _open(store_path)
    entry = store.entry(record_id)
    plan_text = store.plan(record_id)
    if explain and fmt == "json":
        click.echo("cicatrix: warning: --explain does not apply to --format json; ignored", err=True)
    if fmt == "json":
        text = plan_text
    else:
        width = width or (text_width() if output is None or output == "-" else 88)
        text = _again(store.name, entry, plan_text, fmt, kb_dir, explain, show_all, width)
    trace_text = None
    if trace_file is not None:
        trace_text = json.dumps(store.trace(record_id), indent=1, ensure_ascii=False) + "\n"  # as --trace writes it
    _write(text, output, trace_text, trace_file)
    return 0


def _again(
    name: str, entry: Any, plan_text: str, fmt: str, kb_dir: Path | None, explain: bool, show_all: bool, width: int
) -> str:
    """The plan as text or markdown: the recorded patient consulted again with the same knowledge base.

    Text needs the knowledge base (titles, the course's phases), which a record
    names by digest but does not hold; the plan made again is checked against
    the recorded one, so what is printed is the recorded plan.
    """
    from ..engine.common.errors import CicatrixError
    from ..engine.knowledge.cache import load_cached
    from ..engine.patient.reader import from_data
    from ..engine.resolve.contract import to_dict
    from ..engine.resolve.resolver import plan
    from ..engine.session.session import Session
    from ..render.json import render as render_json
    from .consult import _how, _render

    kb = load_cached(kb_dir)
    if kb.digest != entry.kb.digest:
        raise CicatrixError.about(
            name,
            f"record {entry.id} was made with knowledge base {entry.kb.name} {entry.kb.version}"
            f" (digest {_short(entry.kb.digest)}), not with {kb.name} {kb.version} (digest {_short(kb.digest)}):"
            f" printing it as {fmt} needs the knowledge base that made it (give it with --kb DIR);"
            " --format json prints the plan as recorded",
        )
    result = plan(Session(kb), from_data(entry.patient, kb, source=entry.where))
    result_json = to_dict(result)
    if render_json(result_json) != plan_text:
        raise CicatrixError.about(
            name,
            f"record {entry.id}: its patient, consulted again with the same knowledge base, gives another plan than"
            " the one recorded (was it made by another cicatrix?); --format json prints the plan as recorded",
        )
    how = _how(kb, result, result_json, Path(entry.where)) if explain else None
    return _render(fmt, kb, result, result_json, how, width, show_all)


def _short(digest: str) -> str:
    """A digest as people compare them: its first 12 hex digits."""
    return digest.removeprefix("sha256:")[:12]


# --- export --------------------------------------------------------------------------


@group.command("export")
@STORE
@_filters
@click.option(
    "--limit", type=click.IntRange(1, 1_000_000_000), help="Export only the most recent N of the records that match."
)
@click.option(
    "-o",
    "--output",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the JSON lines to this file (atomically: all of them or none) instead of standard output (-).",
)
@click.option(
    "--trace/--no-trace",
    "with_trace",
    default=True,
    show_default=True,
    help="Include each record's trace (about 300 KB of JSON each).",
)
def export(
    store_path: Path | None,
    kb_digest: str | None,
    since_text: str | None,
    limit: int | None,
    output: str,
    with_trace: bool,
) -> int:
    """Export the records as JSON lines, oldest first.

    Each line is one record: {"id", "recorded" (UTC, ISO 8601), "source",
    "line" (a batch record's line in its input, else null), "cicatrix" (the
    version that made it), "kb": {"name", "version", "digest"}, "patient" (the
    normalised input), "plan" (as `consult --format json` prints it), "trace"
    (as `consult --trace` writes it; left out with --no-trace)}.

    \b
    Examples:
      cicatrix history export --store visits.db -o visits.jsonl
      cicatrix history export --store visits.db --since 2025-12-01 --no-trace | jq .plan.alerts
    """
    from ..engine.common.files import STDOUT_NAME, atomic_output, is_stdout

    store = _open(store_path)
    filters = {"kb_digest": _digest(kb_digest), "since": since(since_text)}
    if limit is None:
        entries: Iterable[Any] = store.entries(**filters)
    else:  # the most recent N, still in the order they were recorded
        entries = reversed(list(store.entries(**filters, limit=limit, newest_first=True)))
    count = 0
    with atomic_output(output) as out:
        for entry in entries:
            out.write(_line(store, entry, with_trace) + "\n")
            count += 1
    where = STDOUT_NAME if is_stdout(output) else output
    click.echo(f"{count} record(s) exported to {where}", err=True)
    return 0


def _line(store: Any, entry: Any, with_trace: bool) -> str:
    """One record as one JSON line (UTF-8 as it is; a lone surrogate stays escaped)."""
    import json

    record: dict[str, Any] = {
        "id": entry.id,
        "recorded": entry.recorded,
        "source": entry.source,
        "line": entry.line,
        "cicatrix": entry.cicatrix,
        "kb": {"name": entry.kb.name, "version": entry.kb.version, "digest": entry.kb.digest},
        "patient": entry.patient,
        "plan": json.loads(store.plan(entry.id)),
    }
    if with_trace:
        record["trace"] = store.trace(entry.id)
    return json_line(record)
