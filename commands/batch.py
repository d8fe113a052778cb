"""``cicatrix batch``: consult many patients, stream one JSON line per patient.

The knowledge base is compiled once per worker process and each worker resets
its engine between patients. Records are read and written in bounded windows,
so memory stays flat however long the input is; output order follows input
order whatever the number of workers.

Every record stands alone: one that cannot be read or is not a valid patient
becomes an error line and the batch goes on (:mod:`..engine.patient.batchio`).

Stopping. ``-o FILE`` is written as ``FILE.partial`` first, one whole record
per write, then copied into ``FILE`` atomically once every record is in, and
the ``.partial`` removed. So at any instant, even under SIGKILL, the
``.partial`` holds a sequence of complete records (at most the last one torn by
a kill in the middle of its write), and ``--resume`` continues from it. SIGINT
(Ctrl-C) and SIGTERM stop the batch between two records: the workers are
terminated, no temporary file is left, and the command exits 130 or 143. The
workers ignore SIGINT (the parent decides), end at once on SIGTERM, and on
Linux are killed by the kernel if the parent dies (``PR_SET_PDEATHSIG``);
elsewhere they watch the parent's process id.

Recording (``--store``): each worker also encodes its consultation for the
store (the trace, JSON, compression: the costly part, in parallel); the parent
records them in input order over one connection, each in one transaction, just
before the record's line is written and under the same hold of the signals. So
the store never lacks a record the output has; only SIGKILL between the two can
leave one record in the store that the output lacks, which ``--resume`` then
records a second time.

On a Dask cluster (``--dask``, :mod:`.dask_pool`): only the workers change. The
records go out in partitions (``--partition-size``) to the same per-record code
(:func:`_consult_with`), on workers that load and compile the knowledge base
themselves, once each; this process still reads the input, writes every line,
records into the store and handles the signals, so the output, messages, exit
status, ``--resume`` and ``--store`` are those of ``--jobs``. A stop cancels the
partitions in flight and closes the client (and a ``--dask local`` cluster,
whose workers ignore Ctrl-C as the pool's do); a remote cluster's workers are
not ours and stay up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import IO, Any, NamedTuple

import click

from .dask_pool import dask_options
from .options import kb_option, store_option

_WORKER: dict[str, Any] = {}
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _start(kb_dir: str | None, kb: Any = None, parent: int | None = None, record: bool = False) -> None:
    """Worker initialiser: load (from cache, unless given) and compile the knowledge base once.

    ``record`` (``--store``): each consultation also comes back encoded for the
    store, so the costly part of recording runs in the workers, in parallel.
    """
    from ..engine.common.memory import settle

    if parent is not None:
        _become_worker(parent)
    from ..engine.compile.compiler import compile_kb
    from ..engine.knowledge.cache import load_cached
    from ..engine.session.session import Session

    kb = kb if kb is not None else load_cached(kb_dir)
    _WORKER["kb"] = kb
    _WORKER["session"] = Session(compile_kb(kb))
    _WORKER["record"] = record
    if parent is not None:
        settle()  # a worker process keeps its knowledge base until it exits


def _become_worker(parent: int) -> None:
    """In a worker process: Ctrl-C is the parent's to handle, SIGTERM ends it at once, and it dies with the parent.

    The parent starts the workers with SIGINT and SIGTERM blocked, so that
    neither can reach a worker before these handlers are in place.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _die_with_parent():
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was told
        os.kill(os.getpid(), signal.SIGKILL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _die_with_parent() -> bool:
    """Ask Linux to kill this process when its parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:  # pragma: no cover - only where prctl is missing
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)


def _consult(task: tuple[int, Any, Any, str]) -> tuple[int, str, str | None, Any]:
    """One record -> (line, JSON line, error message for stderr or None, the store's row or None)."""
    return _consult_with(_WORKER, task)


def _dask_partition(
    folder: str | None, digest: str, matcher: str, record: bool, tasks: list[tuple[int, Any, Any, str]]
) -> list[tuple[str, str | None, Any]]:
    """On a Dask worker: a partition of records through the knowledge base this worker keeps compiled.

    The very code the local workers run (:func:`_consult_with`), so the lines,
    messages and store rows are the same bytes whichever ran them.
    """
    from .dask_pool import worker_kb

    loaded = worker_kb(folder, digest, matcher)
    state = {"kb": loaded.kb, "session": loaded.session, "record": record}
    with loaded.lock:
        return [_consult_with(state, task)[1:] for task in tasks]


def _consult_with(state: dict[str, Any], task: tuple[int, Any, Any, str]) -> tuple[int, str, str | None, Any]:
    """:func:`_consult` with the worker's knowledge base, session and ``record`` flag given."""
    from ..engine.common.errors import CicatrixError, Problem
    from ..engine.common.jsonline import json_line
    from ..engine.documents.yamlio import Document
    from ..engine.patient.reader import from_data, from_document
    from ..engine.resolve.contract import to_dict
    from ..engine.resolve.resolver import plan

    line, data, problems, source = task
    kb, session = state["kb"], state["session"]
    try:
        if problems:
            raise CicatrixError(problems)
        where = f"{source}:{line}"
        patient = from_document(data, kb) if isinstance(data, Document) else from_data(data, kb, source=where)
        result = plan(session, patient)
        out = to_dict(result)
        row = _row(kb, result, out, source, line) if state.get("record") else None
        out["line"] = line
        return line, json_line(out), None, row
    except CicatrixError as exc:
        found = [
            {"line": p.line if p.line is not None else line, "column": p.column, "path": p.path, "message": p.message}
            for p in exc.problems
        ]
        record = {"line": line, "error": {"problems": found}}
        text = "\n".join(
            (Problem(source, p.line if p.line is not None else line, p.column, p.path, p.message)).render()
            for p in exc.problems
        )
        return line, json_line(record), text, None


def _row(kb: Any, result: Any, result_json: dict[str, Any], source: str, line: int) -> Any:
    """The consultation encoded for the store (before "line" joins the JSON: the plan is consult's own)."""
    from ..render.json import render as render_json
    from ..store import consultation, encode

    name = "<stdin>" if source == "-" else source
    return encode(consultation(kb, result, result_json, render_json(result_json), name, line))


def _records(path: str, fmt: str, kb: Any) -> Iterator[tuple[int, Any, Any]]:
    from ..engine.common.errors import CicatrixError
    from ..engine.patient import batchio

    if path == "-":
        stream: IO[Any] = getattr(sys.stdin, "buffer", sys.stdin)
        if stream is None:
            raise CicatrixError.about("-", "cannot read: standard input is closed")
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CicatrixError.about(path, f"cannot read: {(exc.strerror or str(exc)).lower()}") from None
    try:
        kind = batchio.detect(path, fmt)
        if kind == "yaml":
            yield from batchio.read_yaml(stream, path)
        elif kind == "csv":
            yield from batchio.read_csv(stream, path, kb)
        else:
            yield from batchio.read_jsonl(stream, path)
    finally:
        if path != "-":
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
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Write JSON lines here instead of stdout: into FILE.partial as they come, then atomically into FILE.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue a batch that was stopped: keep the complete records already in -o FILE.partial (or FILE),"
    " skip as many inputs, and do only the rest. Give the same INPUT and options.",
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
@store_option(
    "Also record each consultation (patient, plan, trace) in this SQLite store, in input order, one"
    " transaction each, for `cicatrix history`. Records that fail are not recorded."
)
@dask_options
@kb_option
def command(
    input_file: str,
    output: Path | None,
    resume: bool,
    fmt: str,
    jobs: int | None,
    window: int,
    progress: bool | None,
    store_path: Path | None,
    dask: str | None,
    partition_size: int,
    dask_timeout: float,
    kb_dir: Path | None,
) -> int:
    """Consult every patient in INPUT (JSON lines, YAML documents or CSV; - for stdin).

    Each output line is the object `consult --format json` prints for that patient,
    plus "line", the record's line number in INPUT. A record that cannot be read or
    is not a valid patient (each is held to 1 MB, 64 levels of nesting, numbers of
    64 characters) becomes {"line": N, "error": {...}} and is reported on stderr as
    INPUT:LINE: message; the batch goes on, and exits 2 if any record failed, else 0.

    \b
    Ctrl-C (SIGINT) or SIGTERM stops the batch between two records: exit 130 or
    143, no worker left running. With -o FILE the records done so far are kept,
    whole, in FILE.partial (FILE is written only once the batch is complete):
    run the same command with --resume to finish it, each record exactly once.
    The .partial stays whole even if the batch is killed (SIGKILL): --resume
    drops a torn last line and redoes it. See the README for the CSV columns.

    \b
    --dask SCHEDULER runs the records on a Dask cluster, --partition-size at a
    time, with the same output, messages and exit status as --jobs; --dask local
    starts one on this machine's cores. Each worker loads the knowledge base
    itself: a --kb folder must be on a path every worker can read.
    """
    with _Signals() as signals:
        state = _State()
        try:
            on = _Dask(dask, partition_size, dask_timeout) if dask else None
            return _batch(
                state, signals, input_file, output, resume, fmt, jobs, window, progress, kb_dir, store_path, on
            )
        except _Stopped as stop:
            name = signal.Signals(stop.signum).name
            kept = f"; they are in {state.partial}: add --resume to finish" if state.partial and state.written else ""
            click.echo(f"cicatrix: stopped by {name} after {state.written} record(s){kept}", err=True)
            return 128 + stop.signum


class _State:
    """What a stop must report: records in the output so far, and where they are kept."""

    def __init__(self) -> None:
        self.written = 0
        self.partial: Path | None = None


def _batch(
    state: _State,
    signals: _Signals,
    input_file: str,
    output: Path | None,
    resume: bool,
    fmt: str,
    jobs: int | None,
    window: int,
    progress: bool | None,
    kb_dir: Path | None,
    store_path: Path | None = None,
    dask: _Dask | None = None,
) -> int:
    from ..engine.common.errors import CicatrixError
    from ..engine.knowledge.cache import load_cached

    if dask is not None:
        if jobs is not None:
            raise CicatrixError("--jobs and --dask exclude each other: with --dask the cluster's workers do the work")
        from .dask_pool import distributed_module

        distributed_module()  # not installed: say so before any output is touched

    kb = load_cached(kb_dir)  # fail early (exit 2) on a bad knowledge base or input path
    if input_file != "-" and not Path(input_file).is_file():
        raise CicatrixError.about(input_file, "no such input file")
    sink = _sink(output, resume)
    store = _store(store_path)
    jobs = jobs or os.cpu_count() or 1
    show = sys.stderr.isatty() if progress is None else progress
    total = (
        _count(input_file)
        if show and fmt in ("auto", "jsonl", "csv") and not input_file.endswith((".yaml", ".yml"))
        else None
    )
    records = ((line, data, problems, input_file) for line, data, problems in _records(input_file, fmt, kb))
    if sink.done:
        click.echo(f"resuming after the {sink.done} record(s) in {sink.source}", err=True)
        _skip(records, sink, input_file)
    state.written, failed = sink.done, sink.failed
    with sink:
        state.partial = sink.partial
        bar = _progress(show, total, sink.done)
        try:
            record = store is not None
            if dask:
                workers: _Workers | _DaskWorkers = _DaskWorkers(dask, kb_dir, kb, record, sink.partial)
            else:
                workers = _Workers(jobs, kb_dir, kb, record)
            with workers:
                with signals.hold():  # a stop while the pool starts comes once it has started, to end it
                    workers.start()
                for text, error, row in workers.run(records, window):
                    with signals.hold():  # a record is written whole, or not at all
                        if row is not None:  # into the store first: a kill between the two loses nothing
                            store.add(row)
                        sink.write(text + "\n")
                        state.written += 1
                        if error:
                            failed += 1
                            click.echo(error, err=True)
                    if bar:
                        bar.advance(1)
        finally:
            if bar:
                bar.stop()
        sink.finish()
    click.echo(f"{state.written} record(s), {failed} failed", err=True)
    return 2 if failed else 0


def _store(path: Path | None) -> Any:
    """The store to record into, opened (checked, migrated) before any record runs, closed with the command."""
    if path is None:
        return None
    from ..store import open_store

    return click.get_current_context().with_resource(open_store(path))


def _skip(records: Iterator[tuple[int, Any, Any, str]], sink: _Sink, input_file: str) -> None:
    """Pass over the inputs whose records the output already has, checking that it is this input's output."""
    from ..engine.common.errors import CicatrixError

    for _ in islice(records, sink.done - 1):
        pass
    last = next(records, None)
    if last is None:
        raise CicatrixError.about(
            str(sink.source), f"has {sink.done} record(s), more than {input_file} holds: it is not its output"
        )
    if last[0] != sink.last_line:
        raise CicatrixError.about(
            str(sink.source),
            f"record {sink.done} is for line {sink.last_line}, but {input_file}'s record {sink.done} is on line"
            f" {last[0]}: it is not the output of this input (run without --resume to start again)",
        )


# --- signals -------------------------------------------------------------------------------------


class _Stopped(BaseException):
    """SIGINT or SIGTERM: the batch stops between two records (a BaseException, as KeyboardInterrupt is)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT and SIGTERM turned into :class:`_Stopped`, once, and never inside a :meth:`hold`."""

    def __init__(self) -> None:
        self.saved: dict[int, Any] = {}
        self.held = 0
        self.pending: int | None = None
        self.fired = False

    def __enter__(self) -> _Signals:
        for sig in _SIGNALS:
            with contextlib.suppress(ValueError):  # not the main thread: signals are not ours to take
                self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.fired:  # already stopping: a second Ctrl-C must not break the clean-up
            return
        if self.held:
            self.pending = self.pending or signum
            return
        self.fired = True
        raise _Stopped(signum)

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.held += 1
        try:
            yield
        finally:
            self.held -= 1
        if not self.held and self.pending and not self.fired:
            self.fired = True
            raise _Stopped(self.pending)


# --- workers -------------------------------------------------------------------------------------


class _Workers:
    """The consultations: in this process for one job, else a pool whose workers never outlive it."""

    def __init__(self, jobs: int, kb_dir: Path | None, kb: Any, record: bool = False):
        self.jobs, self.kb_dir, self.kb = jobs, str(kb_dir) if kb_dir else None, kb
        self.record = record
        self.pool: Any = None
        self.settled = False

    def __enter__(self) -> _Workers:
        return self

    def start(self) -> None:
        from ..engine.match.select import matcher_name

        matcher_name()  # a bad CICATRIX_MATCHER is bad input here, not a crash in every worker
        if self.jobs == 1:
            from ..engine.common.memory import settle

            _start(self.kb_dir, self.kb, None, self.record)
            settle()  # until __exit__: this process may go on (a test, a library caller)
            self.settled = True
            return
        import multiprocessing

        context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
        block = hasattr(signal, "pthread_sigmask")
        before = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS) if block else None
        try:  # workers start with the signals blocked; _become_worker unblocks them
            initargs = (self.kb_dir, None, os.getpid(), self.record)
            self.pool = context.Pool(self.jobs, initializer=_start, initargs=initargs)
        finally:
            if block:
                signal.pthread_sigmask(signal.SIG_SETMASK, before)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.settled:
            from ..engine.common.memory import unsettle

            unsettle()
        if self.pool is None:
            return
        if kind is None:
            self.pool.close()
            self.pool.join()
        else:
            self.pool.terminate()  # SIGTERM to each worker, then wait for them all

    def run(self, records: Iterator[tuple[int, Any, Any, str]], window: int) -> Iterator[tuple[str, str | None, Any]]:
        if self.pool is None:
            for task in records:
                _, text, error, row = _consult(task)
                yield text, error, row
            return
        while True:
            chunk = list(islice(records, window))
            if not chunk:
                break
            size = max(1, len(chunk) // (self.jobs * 4))
            for _, text, error, row in self.pool.imap(_consult, chunk, chunksize=size):
                yield text, error, row


class _Dask(NamedTuple):
    """``--dask`` and its settings."""

    address: str
    partition_size: int
    timeout: float


class _DaskWorkers:
    """``--dask``: the consultations on a Dask cluster (:mod:`.dask_pool`), in place of :class:`_Workers`.

    The same three steps: ``start`` connects (or starts a LocalCluster), ``run``
    yields the results in input order, and leaving the ``with`` cancels what is
    in flight and closes the client and any LocalCluster, whatever happened. The
    parent still reads the input, writes every line and records into the store,
    so everything around the workers (order, --resume, the store, signals) is as
    with --jobs.
    """

    def __init__(self, dask: _Dask, kb_dir: Path | None, kb: Any, record: bool, partial: Path | None = None):
        from .dask_pool import Cluster, worker_folder

        hint = f"; the records done so far (if any) are in {partial}: add --resume to finish" if partial else ""
        self.cluster = Cluster(dask.address, dask.timeout, hint)
        self.size = dask.partition_size
        self.folder, self.digest, self.record = worker_folder(kb_dir), kb.digest, record
        self.matcher = ""

    def __enter__(self) -> _DaskWorkers:
        return self

    def start(self) -> None:
        from ..engine.match.select import matcher_name

        self.matcher = matcher_name()  # the workers' environment is not ours: the name travels with each task
        self.cluster.start()

    def __exit__(self, *exc: object) -> None:
        self.cluster.__exit__(*exc)

    def run(self, records: Iterator[tuple[int, Any, Any, str]], window: int) -> Iterator[tuple[str, str | None, Any]]:
        args = (self.folder, self.digest, self.matcher, self.record)
        in_flight = -(-window // self.size)  # --window records in flight, in whole partitions
        for _, result in self.cluster.ordered(_dask_partition, args, records, self.size, in_flight):
            yield result


# --- output --------------------------------------------------------------------------------------

_ERROR_LINE = re.compile(rb'\{"line":\d+,"error":')


class _Sink:
    """Where the JSON lines go. ``done``/``failed``: records already there (``--resume``)."""

    partial: Path | None = None
    source: Path | None = None
    done = failed = 0
    last_line: int | None = None

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def write(self, text: str) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class _Stdout(_Sink):
    """Standard output, flushed after every record so that a stop leaves whole lines."""

    def write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()


class _Direct(_Sink):
    """A device or a FIFO (``-o /dev/null``): written as it is, through :func:`atomic_output`."""

    def __init__(self, output: Path):
        self.output = output

    def __enter__(self) -> _Direct:
        from ..engine.common.files import atomic_output

        self._context = atomic_output(self.output)
        self._handle = self._context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)

    def write(self, text: str) -> None:
        self._handle.write(text)
        self._handle.flush()


class _Partial(_Sink):
    """A regular file: appended to ``FILE.partial`` record by record, copied atomically into ``FILE`` at the end."""

    def __init__(self, output: Path, resume: bool):
        self.output = output
        self.partial = Path(f"{output}.partial")
        self.fd: int | None = None
        self.size = 0  # bytes of complete records in the .partial
        if resume:
            self._previous()

    def _previous(self) -> None:
        """Count the complete records of the interrupted run: its .partial, else a finished FILE."""
        for source in (self.partial, self.output):
            if source.is_file():
                self.source = source
                break
        else:
            return
        last = b""
        try:
            with self.source.open("rb") as handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # torn by a kill: dropped, and done again
                    self.done += 1
                    self.size += len(raw)
                    self.failed += bool(_ERROR_LINE.match(raw))
                    last = raw
        except OSError as exc:
            raise _cannot("read", self.source, exc) from None
        if last:
            try:
                self.last_line = json.loads(last)["line"]
            except (ValueError, KeyError, TypeError):
                from ..engine.common.errors import CicatrixError

                raise CicatrixError.about(
                    str(self.source), f"line {self.done} is not a batch record: cannot resume from it"
                ) from None

    def __enter__(self) -> _Partial:
        try:
            if self.source == self.partial:
                self.fd = os.open(self.partial, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
                os.ftruncate(self.fd, self.size)
            else:
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
                self.fd = os.open(self.partial, flags, 0o666)
                if self.source is not None:  # a finished FILE: its records start the .partial
                    with self.source.open("rb") as handle:
                        _copy(handle, self.fd, self.size)
        except OSError as exc:
            if self.fd is not None:
                os.close(self.fd)
            raise _cannot("write", self.partial, exc) from None
        return self

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            raise _cannot("write", self.partial, exc) from None
        self.size += len(data)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, self.size)  # a record half-written when it all stopped goes
        os.close(self.fd)
        self.fd = None
        if kind is not None and self.size == 0:
            with contextlib.suppress(OSError):
                self.partial.unlink()  # nothing to resume from

    def finish(self) -> None:
        """Every record is in: the .partial becomes FILE, atomically, and goes."""
        from ..engine.common.files import atomic_output

        assert self.fd is not None
        os.close(self.fd)
        self.fd = None
        with self.partial.open("rb") as handle, atomic_output(self.output, "wb") as out:
            while chunk := handle.read(1024 * 1024):
                out.write(chunk)
        self.partial.unlink()


def _copy(handle: IO[bytes], fd: int, size: int) -> None:
    while size > 0:
        chunk = handle.read(min(size, 1024 * 1024))
        if not chunk:
            break
        size -= len(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def _cannot(what: str, path: Path, exc: OSError) -> Exception:
    from ..engine.common.errors import CicatrixError

    return CicatrixError.about(str(path), f"cannot {what}: {(exc.strerror or str(exc)).lower()}")


def _sink(output: Path | None, resume: bool) -> _Sink:
    """The output for ``-o`` (checked before any record runs)."""
    from ..engine.common.errors import CicatrixError

    if output is None or str(output) == "-":
        if resume:
            raise CicatrixError("--resume needs -o FILE: the output of the batch to continue")
        return _Stdout()
    name = str(output)
    target = os.path.realpath(name)
    try:
        found = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise _cannot("write", output, exc) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise CicatrixError.about(name, "cannot write: it is a folder")
    if found is not None and not stat.S_ISREG(found.st_mode):
        if resume:
            raise CicatrixError.about(name, "--resume needs a regular file to continue, not a device")
        return _Direct(output)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CicatrixError.about(name, f"the folder {folder!r} {what}")
    if found is not None and not os.access(target, os.W_OK):
        raise CicatrixError.about(name, "cannot write: the file is read-only (permission denied)")
    return _Partial(output, resume)


def _rate_column():
    """Patients per second, as rich measures it over the last records (blank until known)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")

    return Rate()


def _progress(show: bool, total: int | None, done: int = 0):
    """A bar on stderr: records done of the total, the rate, time spent and time left."""
    if not show:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("consulting"),
        BarColumn(),
        MofNCompleteColumn(),
        _rate_column(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        transient=True,
    )
    task = bar.add_task("batch", total=total, completed=done)
    bar.start()

    class Bar:
        def advance(self, n: int) -> None:
            bar.advance(task, n)

        def stop(self) -> None:
            bar.stop()

    return Bar()
