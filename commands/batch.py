"""``cicatrix batch``: consult many patients, stream one JSON line per patient.

The knowledge base is compiled once per worker process and each worker resets
its engine between patients. Records are read and written in bounded windows,
so memory stays flat however long the input is; output order follows input
order whatever the number of workers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from pathlib import Path
from typing import IO, Any

import click

from .options import kb_option

_WORKER: dict[str, Any] = {}


def _start(kb_dir: str | None, kb: Any = None) -> None:
    """Worker initialiser: load (from cache, unless given) and compile the knowledge base once."""
    from ..engine.compile.compiler import compile_kb
    from ..engine.knowledge.cache import load_cached
    from ..engine.session.session import Session

    kb = kb if kb is not None else load_cached(kb_dir)
    _WORKER["kb"] = kb
    _WORKER["session"] = Session(compile_kb(kb))


def _consult(task: tuple[int, Any, Any, str]) -> tuple[int, str, str | None]:
    """One record -> (line, JSON line, error message for stderr or None)."""
    from ..engine.common.errors import CicatrixError, Problem
    from ..engine.documents.yamlio import Document
    from ..engine.patient.reader import from_data, from_document
    from ..engine.resolve.contract import to_dict
    from ..engine.resolve.resolver import plan

    line, data, problem, source = task
    kb, session = _WORKER["kb"], _WORKER["session"]
    try:
        if problem is not None:
            raise CicatrixError([problem])
        where = f"{source}:{line}"
        patient = from_document(data, kb) if isinstance(data, Document) else from_data(data, kb, source=where)
        out = to_dict(plan(session, patient))
        out["line"] = line
        return line, json.dumps(out, ensure_ascii=False, separators=(",", ":")), None
    except CicatrixError as exc:
        problems = [
            {"line": p.line if p.line is not None else line, "column": p.column, "path": p.path, "message": p.message}
            for p in exc.problems
        ]
        record = {"line": line, "error": {"problems": problems}}
        text = "\n".join(
            (Problem(source, p.line if p.line is not None else line, p.column, p.path, p.message)).render()
            for p in exc.problems
        )
        return line, json.dumps(record, ensure_ascii=False, separators=(",", ":")), text


def _records(path: str, fmt: str, kb: Any) -> Iterator[tuple[int, Any, Any]]:
    from ..engine.patient import batchio

    stream = sys.stdin if path == "-" else open(path, encoding="utf-8", newline="")  # noqa: SIM115
    try:
        kind = batchio.detect(path, fmt)
        if kind == "yaml":
            yield from batchio.read_yaml(stream, path)
        elif kind == "csv":
            yield from batchio.read_csv(stream, path, kb)
        else:
            yield from batchio.read_jsonl(stream, path)
    except UnicodeDecodeError:
        from ..engine.common.errors import CicatrixError

        raise CicatrixError.about(path, "not UTF-8 text") from None
    finally:
        if stream is not sys.stdin:
            stream.close()


def _count(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


@click.command("batch")
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write JSON lines here (atomically) instead of stdout.",
)
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "yaml", "csv"]), default="auto", show_default=True,
              help="Input format; auto goes by the file extension (.jsonl, .yaml, .csv).")  # fmt: skip
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 256), default=None, help="Worker processes (default: the number of cores)."
)
@click.option("--window", type=click.IntRange(1, 1_000_000), default=2000, show_default=True,
              help="Records in flight at once: bounds memory.")  # fmt: skip
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal)."
)
@kb_option
def command(
    input_file: str,
    output: Path | None,
    fmt: str,
    jobs: int | None,
    window: int,
    progress: bool | None,
    kb_dir: Path | None,
) -> int:
    """Consult every patient in INPUT (JSON lines, YAML documents or CSV; - for stdin).

    Each output line is the object `consult --format json` prints for that patient,
    plus "line", the record's line number in INPUT. A record that is not a valid
    patient becomes {"line": N, "error": {...}} and is reported on stderr; the batch
    goes on, and exits 2 if any record failed. See the README for the CSV columns.
    """
    from ..engine.knowledge.cache import load_cached

    kb = load_cached(kb_dir)  # fail early (exit 2) on a bad knowledge base or input path
    if input_file != "-" and not Path(input_file).is_file():
        from ..engine.common.errors import CicatrixError

        raise CicatrixError.about(input_file, "no such input file")
    jobs = jobs or os.cpu_count() or 1
    show = sys.stderr.isatty() if progress is None else progress
    total = (
        _count(input_file)
        if show and fmt in ("auto", "jsonl", "csv") and not input_file.endswith((".yaml", ".yml"))
        else None
    )
    failed = done = 0
    with _output(output) as sink:
        bar = _progress(show, total)
        try:
            records = ((line, data, problem, input_file) for line, data, problem in _records(input_file, fmt, kb))
            for line_text, error in _run(records, jobs, window, kb_dir, kb):
                sink.write(line_text + "\n")
                done += 1
                if error:
                    failed += 1
                    click.echo(error, err=True)
                if bar:
                    bar.advance(1)
            sink.flush()
        finally:
            if bar:
                bar.stop()
    click.echo(f"{done} record(s), {failed} failed", err=True)
    return 2 if failed else 0


def _run(
    records: Iterator[tuple[int, Any, Any, str]], jobs: int, window: int, kb_dir: Path | None, kb: Any
) -> Iterator[tuple[str, str | None]]:
    from ..engine.match.select import matcher_name

    matcher_name()  # a bad CICATRIX_MATCHER is bad input here, not a crash in every worker
    if jobs == 1:
        _start(str(kb_dir) if kb_dir else None, kb)
        for task in records:
            _, text, error = _consult(task)
            yield text, error
        return
    import multiprocessing

    with multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork").Pool(
        jobs, initializer=_start, initargs=(str(kb_dir) if kb_dir else None,)
    ) as pool:
        while True:
            chunk = list(islice(records, window))
            if not chunk:
                break
            for _, text, error in pool.imap(_consult, chunk, chunksize=max(1, len(chunk) // (jobs * 4))):
                yield text, error


def _output(output: Path | None) -> AbstractContextManager[IO[str]]:
    """Standard output, or ``output`` written atomically: replaced only once every line is in."""
    if output is None:
        return nullcontext(sys.stdout)
    from ..engine.common.files import atomic_output

    return atomic_output(output)


def _progress(show: bool, total: int | None):
    if not show:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("consulting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
    task = bar.add_task("batch", total=total)
    bar.start()

    class Bar:
        def advance(self, n: int) -> None:
            bar.advance(task, n)

        def stop(self) -> None:
            bar.stop()

    return Bar()
