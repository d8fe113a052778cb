"""Cold-start time of one consultation against `python -c pass`.

Run:  python benchmarks/coldstart.py [--runs 15] [--example examples/mixed-facial-scars.yaml]

Run it with the Python of the venv to measure (a plain `pip install .` venv is
the fair case: an editable install adds an import hook). Each command is started
as a fresh process, as a user's shell would start it, and the commands take
turns, so a machine that gets busier part-way slows them alike. It prints the
median wall time and the median CPU time (user + system) of each, and their
ratio to `python -c pass`: on a shared machine the CPU time moves far less.

Three consultations are timed: a warm one (the compiled knowledge base already
cached, as on every run but the first), the first run after an install (an
empty cache each time), and the import of the libraries alone, for scale.

Then where a warm start goes: fresh processes that take the consultation's steps
one at a time (importing click, the rest of the imports, reading the cached
knowledge base, compiling it and building the network, consulting and writing
the JSON), each timed inside the process; the medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# The steps of a warm `consult --format json`, timed inside one fresh process.
PHASES = """
import json, sys, time
marks = [time.perf_counter()]
import click
marks.append(time.perf_counter())
from cicatrix.cli import main
from cicatrix.commands import consult
from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.cache import load_cached
from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session
from cicatrix.render.json import render
marks.append(time.perf_counter())
kb = load_cached(None)
marks.append(time.perf_counter())
session = Session(compile_kb(kb))
marks.append(time.perf_counter())
render(to_dict(plan(session, read(sys.argv[1], kb))))
marks.append(time.perf_counter())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""
PHASE_NAMES = ("import click", "the other imports", "cached knowledge base", "compile + network", "consult + JSON")


def _phases(runs: int, example: str, env: dict[str, str]) -> None:
    samples = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", PHASES, example], check=True, capture_output=True, env=env)
        samples.append(json.loads(done.stdout))
    print(f"\nwhere a warm start goes (inside the process, median of {runs}):")
    for i, name in enumerate(PHASE_NAMES):
        print(f"  {name:<24} {statistics.median(s[i] for s in samples):>6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--example", default=str(REPO / "examples" / "mixed-facial-scars.yaml"))
    args = parser.parse_args()
    cicatrix = shutil.which("cicatrix", path=str(Path(sys.executable).parent)) or shutil.which("cicatrix")
    if cicatrix is None:
        sys.exit("no `cicatrix` beside this Python or on PATH: run with the Python of the venv to measure")
    with tempfile.TemporaryDirectory() as tmp:
        warm_env = {**os.environ, "CICATRIX_CACHE": str(Path(tmp) / "warm")}
        consult = [cicatrix, "consult", args.example, "--format", "json"]
        subprocess.run(consult, check=True, stdout=subprocess.DEVNULL, env=warm_env)  # fill the cache
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], lambda i: warm_env),
            "import click+yaml+jsonschema+experta": (
                [sys.executable, "-c", "import click, yaml, jsonschema; from cicatrix.engine.compile import compat"],
                lambda i: warm_env,
            ),
            "consult --format json (warm cache)": (consult, lambda i: warm_env),
            "consult --format json (first run)": (
                consult,
                lambda i: {**os.environ, "CICATRIX_CACHE": str(Path(tmp) / f"first-{i}")},
            ),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for i in range(args.runs):
            for name, (cmd, env) in commands.items():
                times[name].append(_run(cmd, env(i)))
        _print(times)
        _phases(args.runs, args.example, warm_env)


def _print(times: dict[str, list[tuple[float, float]]]) -> None:
    wall0 = statistics.median(w for w, _ in times["python -c pass"])
    cpu0 = statistics.median(c for _, c in times["python -c pass"])
    print(f"{'command':<40} {'wall ms':>8} {'x pass':>7} {'CPU ms':>8} {'x pass':>7}")
    for name, samples in times.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"{name:<40} {wall * 1000:>8.1f} {wall / wall0:>7.1f} {cpu * 1000:>8.1f} {cpu / cpu0:>7.1f}")


if __name__ == "__main__":
    main()
