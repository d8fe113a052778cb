"""Running ``batch`` and ``kb impact`` on a Dask cluster: ``--dask ADDRESS``, or ``--dask local``.

One machine's processes (``--jobs``) stop scaling at its cores; a Dask cluster
(dask-jobqueue on a batch system, Kubernetes, a few hosts running ``dask
worker``) takes the same command further with no change to it. This module is
the command line's side of that: it connects (or starts a ``LocalCluster``),
hands the workers partitions of records and gives the results back one by one
in input order, so the commands write, record and count exactly as they do
with local workers. It is not an engine stage: the engine never knows where it
runs, and nothing under ``engine/`` imports this.

The knowledge base is never shipped. Compiled engine objects hold closures and
cannot be pickled, and a knowledge base pickled into every task would cost more
than the consultations; instead each task carries the knowledge base's folder
(``None``: the bundled one, which every worker has since cicatrix is installed
there), its digest and the matcher's name, and each worker process loads and
compiles it the first time, then keeps it (:func:`worker_kb`). So a custom
``--kb`` folder must be on a path every worker can read (a shared file system);
a worker that finds something else there (another version, another copy, no
folder) refuses with a message naming the worker, rather than planning under
another knowledge base.

Dask is an optional extra (``pip install 'cicatrix[dask]'``): it is imported
only when ``--dask`` is given, and its absence is bad input (exit 2) saying how
to install it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import click

INSTALL = "pip install 'cicatrix[dask]'"
PARTITION_SIZE = 100
"""Records per task: about a second of work, so Dask's per-task cost (a few ms) is under 1%,
and small enough that the last tasks of a batch do not leave workers idle for long."""
CONNECT_TIMEOUT = 10.0
KEPT = 4
"""Knowledge bases a worker keeps compiled (``kb impact`` needs two at once); older ones are dropped."""
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False}
"""``--dask local``'s workers run without Dask's statistical profiler: it samples the running
task's stack every 10 ms, a cost (about a tenth, measured) on pure-Python tasks that nobody
reads without a dashboard. A real cluster's workers are set up by whoever runs them
(``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False`` does the same there)."""


def dask_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--dask``, ``--partition-size`` and ``--dask-timeout``, shared by every command that can use a cluster."""
    func = click.option(
        "--dask-timeout",
        "dask_timeout",
        metavar="SECONDS",
        type=click.FloatRange(0.1, 3600),
        default=CONNECT_TIMEOUT,
        show_default=True,
        help="With --dask ADDRESS: how long to wait for the scheduler and its first worker.",
    )(func)
    func = click.option(
        "--partition-size",
        "partition_size",
        metavar="N",
        type=click.IntRange(1, 1_000_000),
        default=PARTITION_SIZE,
        show_default=True,
        help="With --dask: records per Dask task.",
    )(func)
    return click.option(
        "--dask",
        "dask",
        metavar="SCHEDULER",
        default=None,
        help="Run on a Dask cluster: its scheduler's address (tcp://HOST:8786), or 'local' for a LocalCluster"
        f" of this machine's cores. Needs the extra: {INSTALL}. A --kb folder must be on a path every worker"
        " can read.",
    )(func)


def distributed_module() -> Any:
    """The ``distributed`` package (Dask's cluster side), or bad input (exit 2) saying how to install it."""
    from ..engine.common.errors import CicatrixError

    try:
        import distributed
    except ImportError as exc:
        raise CicatrixError(
            f"--dask needs Dask, an optional extra that is not installed ({exc}): install it with {INSTALL}"
        ) from None
    return distributed


def worker_folder(kb_dir: Any) -> str | None:
    """The knowledge-base folder as workers must see it: absolute, since a worker's working folder is its own."""
    return os.path.abspath(kb_dir) if kb_dir is not None else None


# --- on the workers ------------------------------------------------------------------------------


class WorkerError(Exception):
    """A worker cannot plan with the knowledge base asked for. A plain message (it crosses the wire
    pickled), turned into bad input (exit 2) by the command."""


@dataclass
class WorkerKB:
    """A knowledge base loaded and compiled in a worker process, and its one session.

    A Dask worker may run several tasks at once on threads; a session is not
    thread-safe, so each task holds ``lock`` while it plans. Consultations are
    pure Python, so a second thread would only wait for the GIL anyway: run
    workers with ``--nthreads 1`` and more processes.
    """

    kb: Any
    session: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_KBS: dict[tuple[str | None, str, str], WorkerKB] = {}
_KBS_LOCK = threading.Lock()


def worker_kb(folder: str | None, digest: str, matcher: str) -> WorkerKB:
    """The knowledge base in ``folder`` (``None``: the bundled one), compiled once per worker process.

    ``digest`` is the one the command computed: a worker that reads other
    content there (another cicatrix version, a folder that is not shared, an
    edit since) refuses, naming itself and both digests.
    """
    key = (folder, digest, matcher)
    with _KBS_LOCK:
        found = _KBS.get(key)
        if found is None:
            found = _load(folder, digest, matcher)
            while len(_KBS) >= KEPT:
                del _KBS[next(iter(_KBS))]
            _KBS[key] = found
    return found


def _load(folder: str | None, digest: str, matcher: str) -> WorkerKB:
    from ..engine.common.errors import CicatrixError
    from ..engine.compile.compiler import compile_kb
    from ..engine.knowledge.cache import load_cached
    from ..engine.session.session import Session

    name = folder if folder is not None else "the bundled knowledge base"
    if folder is not None and not os.path.isdir(folder):
        raise WorkerError(
            f"Dask worker {_me()}: no folder {folder}: a --kb folder must be on a path every worker can read"
            " (a shared file system)"
        )
    try:
        kb = load_cached(folder)
    except CicatrixError as exc:
        raise WorkerError(f"Dask worker {_me()} cannot load {name}:\n{exc.render()}") from None
    if kb.digest != digest:
        fix = "install the same cicatrix version on the workers" if folder is None else "share the folder as it is"
        raise WorkerError(
            f"Dask worker {_me()} reads another knowledge base in {name} (digest {kb.digest}, not {digest}): {fix}"
        )
    return WorkerKB(kb, Session(compile_kb(kb), matcher))


def _me() -> str:
    """This worker's address, for messages (or the host's name outside a worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


# --- on the command's side -----------------------------------------------------------------------


class Cluster:
    """One command's connection to Dask: ``start`` connects (or starts a LocalCluster), :meth:`ordered`
    runs partitions and yields results in input order, and leaving the ``with`` cancels what is in
    flight and closes the client (and the LocalCluster), on success, error or a stop alike.
    """

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT, hint: str = ""):
        """``hint`` ends the message when the cluster fails mid-run (where the work done so far is kept)."""
        self.address, self.timeout, self.hint = address, timeout, hint
        self.client: Any = None
        self.local: Any = None
        self.pending: deque[Any] = deque()
        self._quiet: list[tuple[logging.Logger, int]] = []

    def __enter__(self) -> Cluster:
        return self

    def start(self) -> None:
        from ..engine.common.errors import CicatrixError

        distributed = distributed_module()
        self._silence()
        if self.address == "local":
            self._start_local(distributed)
            return
        self._check_address()
        try:
            self.client = distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, ValueError, TimeoutError) as exc:
            raise CicatrixError(
                f"--dask {self.address}: cannot reach a Dask scheduler there within {self.timeout:g} s ({exc});"
                " is it running (dask scheduler), and is this its address (tcp://HOST:8786)? Or use --dask local"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except (OSError, TimeoutError):
            raise CicatrixError(
                f"--dask {self.address}: the scheduler has no workers after {self.timeout:g} s; start some"
                " (dask worker ADDRESS, with cicatrix installed)"
            ) from None

    def _start_local(self, distributed: Any) -> None:
        """A LocalCluster of one single-threaded worker process per core.

        Processes, not threads: consultations are pure Python and hold the GIL.
        Ctrl-C in a terminal reaches every process of the group; the workers are
        started while this process ignores SIGINT, and an ignored signal stays
        ignored in the processes started then (a blocked one does not: Python
        starts them with an empty mask), so that only this process handles it and
        closes them in order, as the local pool's workers ignore it. The price: a
        Ctrl-C in the second or two the workers take to start is lost (press it
        again). They die with this process, even on SIGKILL (Dask's own
        parent-alive pipe).
        """
        try:
            before = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: signals are not ours to take
            before = None
        import dask

        try:
            with dask.config.set(LOCAL_CONFIG):  # the workers take the config they are started with
                self.local = distributed.LocalCluster(
                    n_workers=os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: a busy 8787 would warn on stderr
                    silence_logs=logging.ERROR,
                )
            self.client = distributed.Client(self.local, set_as_default=False)
        finally:
            if before is not None:
                signal.signal(signal.SIGINT, before)

    def _check_address(self) -> None:
        """An address Dask cannot use fails at once: Dask's client would wait, then fail obscurely
        (an unknown scheme), or leave a half-made client that hangs the exit (no port)."""
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
        from distributed.comm.registry import backends

        from ..engine.common.errors import CicatrixError

        give = "give the scheduler's address, e.g. tcp://HOST:8786, or 'local'"
        try:
            scheme, place = parse_address(self.address)
            if scheme in ("tcp", "tls", "ws", "wss"):
                host, port = parse_host_port(place)
                if not host or not 0 < port < 65536:
                    raise ValueError("a host and a port from 1 to 65535 are needed")
        except (ValueError, TypeError) as exc:
            raise CicatrixError(f"--dask {self.address}: not a scheduler address ({exc}): {give}") from None
        if scheme not in backends:
            known = ", ".join(f"{s}://" for s in backends if s != "inproc")
            raise CicatrixError(f"--dask {self.address}: Dask does not speak {scheme}:// (it speaks {known}): {give}")

    def _silence(self, everything: bool = False) -> None:
        """Dask's warnings (an unresponsive event loop on a busy machine, say) would interleave with
        the command's own messages on stderr; only its errors are shown, for as long as we run, and
        nothing at all once we are stopping. The levels are put back on the way out."""
        names = ["distributed", "tornado"]
        if everything:
            names += [name for name in logging.root.manager.loggerDict if name.startswith("distributed.")]
        for name in names:
            logger = logging.getLogger(name)
            self._quiet.append((logger, logger.level))
            logger.setLevel(logging.CRITICAL + 1 if everything else logging.ERROR)

    def threads(self) -> int:
        """Tasks the cluster runs at once (its workers' threads), as it is now."""
        return max(1, sum(self.client.nthreads().values()))

    def ordered(
        self, func: Callable[..., list[Any]], args: tuple[Any, ...], items: Iterable[Any], size: int, in_flight: int
    ) -> Iterator[tuple[Any, Any]]:
        """``func(*args, partition)`` for each partition of ``size`` items: ``(item, its result)`` in input order.

        ``func`` returns one result per item of its partition. At most
        ``in_flight`` partitions are out at once (never fewer than two per
        worker thread, so that none idles while the head is collected): the
        input is read, and memory used, a window at a time, as ``--jobs`` does.
        The head partition is awaited, its successor submitted, and its results
        yielded; a finished partition behind the head waits on its worker. The
        items stay here meanwhile, so that the caller has each beside its result.
        """
        stream = iter(items)
        parts = iter(lambda: list(islice(stream, size)), [])
        in_flight = max(in_flight, 2 * self.threads())
        prefix = f"cicatrix-{getattr(func, '__name__', 'task').strip('_')}-{uuid.uuid4().hex[:8]}"
        count = 0

        def submit(part: list[Any]) -> None:
            nonlocal count
            future = self.client.submit(func, *args, part, key=f"{prefix}-{count}", pure=False)
            self.pending.append((future, part))
            count += 1

        for part in islice(parts, in_flight):
            submit(part)
        while self.pending:
            future, part = self.pending[0]
            results = self._result(future)
            self.pending.popleft()  # dropping the future releases its results on the worker
            del future
            following = next(parts, None)
            if following is not None:
                submit(following)
            yield from zip(part, results, strict=True)

    def _result(self, future: Any) -> list[Any]:
        from concurrent.futures import CancelledError

        from distributed.scheduler import KilledWorker

        from ..engine.common.errors import CicatrixError

        try:
            return future.result()
        except WorkerError as exc:
            raise CicatrixError(str(exc)) from None
        except (ImportError, RuntimeError) as exc:  # the scheduler or a worker cannot even read the task
            cause = exc if isinstance(exc, ImportError) else exc.__cause__
            if not isinstance(cause, ImportError) and "deserializ" not in str(exc):
                raise
            raise CicatrixError(
                f"--dask {self.address}: the Dask scheduler or a worker cannot read the task ({cause or exc}):"
                " install cicatrix, the same version as here, on the scheduler and on every worker"
            ) from None
        except (CancelledError, KilledWorker, OSError) as exc:
            said = " ".join(str(exc).split())  # Dask's messages run over several lines
            raise CicatrixError(
                f"--dask {self.address}: the cluster failed ({type(exc).__name__}: {said}){self.hint}"
            ) from None

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:
            self._silence(everything=True)  # a stop interrupts a gather: Dask would log it as an error
        try:
            if self.pending and self.client is not None:
                with contextlib.suppress(Exception):
                    self.client.cancel([future for future, _ in self.pending], force=True)
            self.pending.clear()
            if self.client is not None:
                with contextlib.suppress(Exception):
                    self.client.close(timeout=self.timeout)
            if self.local is not None:
                with contextlib.suppress(Exception):
                    self.local.close(timeout=self.timeout)
        finally:
            self.client = self.local = None
            for logger, level in reversed(self._quiet):
                logger.setLevel(level)
            self._quiet.clear()
