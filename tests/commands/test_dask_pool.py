"""--dask: ``batch`` and ``kb impact`` on a Dask cluster give what they give locally, byte for byte.

One LocalCluster of two worker processes serves the module (it takes seconds to
start), given to the commands by its scheduler's address as a remote cluster
would be. Checked: 2,000 generated patients (a few bad) give the very output,
stderr and exit status of ``--jobs 1``; ``--resume`` and ``--store`` work the
same; ``kb impact`` reports the same; a worker that finds another knowledge
base refuses; a missing extra, a bad or unreachable address are bad input
(exit 2) without a hang; Ctrl-C on ``--dask local`` stops it as it stops
``--jobs``, leaving no worker.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import EXAMPLES, REPO
from .kb.test_impact import WITHDRAWN
from .test_batch import CLI, LINUX, _children, _running


def _generator():
    """benchmarks/batch.py's patient generator (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("cicatrix_bench_batch", REPO / "benchmarks" / "batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.patient


BAD = ['{"scars": [{"type": "bocar"}]}', "not json", '{"scars": []}', "[1, 2]"]


def _patients(path: Path, count: int, seed: int = 16) -> Path:
    """``count`` generated patients as JSON lines, one in 97 replaced by a bad record and a blank line
    now and then, so that error lines, stderr messages and the exit status are compared too."""
    patient, rng = _generator(), random.Random(seed)
    lines = []
    for i in range(count):
        record = patient(rng)
        lines.append(BAD[i % len(BAD)] if i % 97 == 41 else json.dumps(record))
        if i % 500 == 250:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of two single-threaded worker processes; its scheduler's address."""
    import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def generated(scheduler, tmp_path_factory) -> tuple[Path, dict[str, tuple[int, bytes, str]]]:
    """2,000 generated patients through `batch --jobs 1` and `batch --dask` on the cluster: the input, and
    each run's exit status, output and stderr.

    The two run at once, as separate processes: the local run uses one core and
    the cluster's two workers share the rest, so the pair takes about as long as
    the local run alone (a few tens of seconds on two cores) instead of both.
    """
    folder = tmp_path_factory.mktemp("generated")
    path = _patients(folder / "in.jsonl", 2000)
    runs = {
        "local": ["--jobs", "1"],
        "dask": ["--dask", scheduler, "--partition-size", "64"],
    }
    procs = {
        name: subprocess.Popen(
            [str(CLI), "batch", str(path), "-o", str(folder / f"{name}.jsonl"), *args], stderr=subprocess.PIPE
        )
        for name, args in runs.items()
    }
    out = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        out[name] = (proc.returncode, (folder / f"{name}.jsonl").read_bytes(), err.decode())
    return path, out


def test_2000_generated_patients_are_byte_identical_to_local_batch(generated):
    _, runs = generated
    (local_code, local_out, local_err), (dask_code, dask_out, dask_err) = runs["local"], runs["dask"]
    assert local_code == dask_code == 2, dask_err[-500:]  # some records are bad
    assert dask_out == local_out
    assert dask_err == local_err
    assert local_err.endswith("2000 record(s), 21 failed\n") and local_out.count(b"\n") == 2000


def test_resume_and_the_store_work_as_with_local_workers(scheduler, tmp_path, run_cli):
    from cicatrix.store import open_store

    path = _patients(tmp_path / "in.jsonl", 80, seed=3)
    reference = tmp_path / "reference.jsonl"
    assert run_cli("batch", str(path), "--jobs", "1", "-o", str(reference), "--store", str(tmp_path / "a.db")).code == 2
    whole = reference.read_bytes().splitlines(keepends=True)
    out, partial = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial"
    partial.write_bytes(b"".join(whole[:30]) + whole[30][:25])  # as a kill in the middle of a write leaves it
    store = tmp_path / "b.db"
    args = ("--dask", scheduler, "--partition-size", "7", "--store", str(store))
    run = run_cli("batch", str(path), "-o", str(out), "--resume", *args)
    assert run.code == 2 and f"resuming after the 30 record(s) in {partial}" in run.err
    assert out.read_bytes() == reference.read_bytes() and not partial.exists()
    with open_store(tmp_path / "a.db", create=False) as a, open_store(store, create=False) as b:
        local = [(e.line, e.patient) for e in a.entries()]
        remote = [(e.line, e.patient) for e in b.entries()]
    good = [json.loads(line)["line"] for line in whole[30:] if b'"error"' not in line]
    assert [line for line, _ in remote] == good  # the records done now, each once, in input order
    assert remote == [x for x in local if x[0] in set(good)]


def test_kb_impact_gives_the_same_report(scheduler, tmp_path, run_cli, monkeypatch):
    """An edited copy against the bundled knowledge base, named by a relative path: the workers,
    whose working folder is not ours, are given it absolute."""
    import shutil

    shutil.copytree(REPO / "kb", tmp_path / "kb")
    with (tmp_path / "kb" / "rules" / "20-contraindications.yaml").open("a", encoding="utf-8") as handle:
        handle.write(WITHDRAWN)
    monkeypatch.chdir(tmp_path)
    cohort = (str(EXAMPLES), str(_patients(tmp_path / "c.jsonl", 50, seed=5)))
    common = ("kb", "impact", "--to", "kb", *cohort, "--reasons", "3", "--fail-on", "avoid:tca_cross")
    local = run_cli(*common, "--format", "json")
    dask = run_cli(*common, "--format", "json", "--dask", scheduler, "--partition-size", "9")
    assert local.code == dask.code == 1, dask.err
    assert dask.out == local.out and dask.err == local.err  # the text report is rendered from the same data
    report = json.loads(local.out)
    assert report["patients"] == 57 and report["changed"] > 10
    assert any(e["reason"] for t in report["treatments"] for m in t["moves"] for e in m["examples"])


def test_a_worker_that_finds_another_knowledge_base_refuses(scheduler, tmp_path):
    from cicatrix.commands.batch import _dask_partition
    from cicatrix.commands.dask_pool import Cluster, WorkerError, worker_kb
    from cicatrix.engine.common.errors import CicatrixError

    with pytest.raises(WorkerError, match="reads another knowledge base in the bundled knowledge base"):
        worker_kb(None, "sha256:0", "incremental")
    with pytest.raises(WorkerError, match="must be on a path every worker can read"):
        worker_kb(str(tmp_path / "nowhere"), "sha256:0", "incremental")
    records = [(1, {"scars": [{"type": "boxcar"}]}, (), "in.jsonl")]
    with Cluster(scheduler) as cluster, pytest.raises(CicatrixError) as info:
        cluster.start()
        list(cluster.ordered(_dask_partition, (None, "sha256:0", "incremental", False), records, 10, 0))
    assert "Dask worker tcp://" in str(info.value) and "install the same cicatrix version" in str(info.value)


def test_without_dask_installed_it_says_how_to_install_it(tmp_path, run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    path = _patients(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    for args in (("batch", str(path), "-o", str(out)), ("kb", "impact", "--from", str(REPO / "kb"), str(path))):
        run = run_cli(*args, "--dask", "local")
        assert run.code == 2 and run.out == ""
        assert "--dask needs Dask, an optional extra that is not installed" in run.err
        assert "pip install 'cicatrix[dask]'" in run.err and "Traceback" not in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output begun


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (None, "cannot reach a Dask scheduler there within 1 s"),
        ("http://127.0.0.1:8786", "Dask does not speak http://"),
        ("127.0.0.1", "not a scheduler address (missing port number"),
        ("tcp://host:0", "a host and a port from 1 to 65535 are needed"),
    ],
    ids=["nothing-listening", "unknown-scheme", "no-port", "port-0"],
)
def test_a_bad_scheduler_address_is_bad_input_without_a_hang(tmp_path, run_cli, address, message):
    address = address or f"tcp://127.0.0.1:{_free_port()}"
    path = _patients(tmp_path / "in.jsonl", 3)
    start = time.monotonic()
    run = run_cli("batch", str(path), "--dask", address, "--dask-timeout", "1", "-o", str(tmp_path / "out.jsonl"))
    assert run.code == 2 and f"--dask {address}: " in run.err and message in run.err, run.err
    assert time.monotonic() - start < 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_jobs_and_dask_exclude_each_other(tmp_path, run_cli):
    run = run_cli("batch", str(_patients(tmp_path / "in.jsonl", 3)), "--jobs", "2", "--dask", "local")
    assert run.code == 2 and "--jobs and --dask exclude each other" in run.err


def test_help_names_the_options_and_the_extra(run_cli):
    for args in (("batch",), ("kb", "impact")):
        text = " ".join(run_cli(*args, "--help").out.split())
        for words in ("--dask SCHEDULER", "--partition-size N", "--dask-timeout", "cicatrix[dask]", "every worker"):
            assert words in text


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_ctrl_c_on_a_local_cluster_stops_cleanly_and_resume_finishes(generated, scheduler, tmp_path):
    """SIGINT to the whole process group, as Ctrl-C in a terminal: exit 130, no traceback from the
    workers (they ignore it; the command closes them), none left, whole records kept for --resume."""
    source, runs = generated
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:200]))  # 200 records, no blank line
    reference = b"".join(runs["local"][1].splitlines(keepends=True)[:200])  # their lines, from the local run
    out, partial = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial"
    argv = [str(CLI), "batch", str(path), "-o", str(out), "--partition-size", "5"]
    proc = subprocess.Popen([*argv, "--dask", "local"], stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(proc.pid)
        assert len(workers) >= 2 and proc.poll() is None  # the LocalCluster's worker processes
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text and "distributed" not in text
    assert "cicatrix: stopped by SIGINT after" in text and f"they are in {partial}" in text
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(w) for w in workers), "a worker outlived the batch"
    kept = partial.read_bytes()
    assert kept.endswith(b"\n") and reference.startswith(kept) and len(kept) < len(reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl.partial"]
    resumed = subprocess.run([*argv, "--resume", "--dask", scheduler], capture_output=True, timeout=120)
    assert resumed.returncode == 2, resumed.stderr.decode()  # bad records, in the part kept or the rest
    assert out.read_bytes() == reference


def test_a_cluster_that_fails_mid_run_is_bad_input_saying_what_and_where_the_work_is():
    """The scheduler gone (its futures cancelled), or a scheduler or worker without cicatrix (the
    task cannot be unpickled there): exit 2 with Dask's reason on one line, not an internal error."""
    from concurrent.futures import CancelledError

    from cicatrix.commands.dask_pool import Cluster
    from cicatrix.engine.common.errors import CicatrixError

    class Failed:
        def __init__(self, exc: BaseException):
            self.exc = exc

        def result(self):
            raise self.exc

    cluster = Cluster("tcp://host:8786", hint="; the records done so far are in out.jsonl.partial")
    lost = CancelledError("cancelled for reason: scheduler-connection-lost.\nClient lost the connection.")
    with pytest.raises(CicatrixError) as info:
        cluster._result(Failed(lost))
    assert str(info.value) == (
        "--dask tcp://host:8786: the cluster failed (CancelledError: cancelled for reason: scheduler-connection-lost."
        " Client lost the connection.); the records done so far are in out.jsonl.partial"
    )
    unreadable = RuntimeError("Error during deserialization of the task graph.")
    unreadable.__cause__ = ModuleNotFoundError("No module named 'cicatrix'")
    with pytest.raises(CicatrixError, match=r"No module named 'cicatrix'.*on the scheduler and on every worker"):
        cluster._result(Failed(unreadable))
    with pytest.raises(RuntimeError, match="a bug"):  # anything else is a bug, reported as one
        cluster._result(Failed(RuntimeError("a bug")))
