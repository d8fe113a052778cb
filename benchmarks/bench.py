"""Per-consultation cost against knowledge-base size: stock experta, the incremental
matcher, and CLIPS (through clipspy, when installed: ``pip install -e '.[bench]'``).

Run:  python benchmarks/bench.py [--sizes 10,100,1000,5000] [--patients 200]

Each size runs in its own process (so peak memory is that size's own). For each it
prints load+compile time, the median time of one consultation with the engine
built once and reset between patients, and the peak resident memory. Times are
wall-clock on a noisy machine: compare the ratios within one run, not absolute
numbers across runs.

The CLIPS column here keeps clipspy's Python error router on, which CLIPS calls
back for every character ``assert_string`` parses (~80% of that column): it is
clipspy's cost, not the engine's. ``clips_fair.py`` measures the CLIPS engine itself,
with the router off, shape by shape, after checking both engines fire the same rules.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(n: int, count: int, matcher: str) -> dict[str, float]:
    from synthetic import patients, write_kb

    from cicatrix.engine.compile.compiler import compile_kb
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.engine.patient.reader import from_data
    from cicatrix.engine.session.session import Session

    with tempfile.TemporaryDirectory() as tmp:
        root = write_kb(Path(tmp) / "kb", n)
        start = time.perf_counter()
        kb = load(root)
        compiled = compile_kb(kb)
        session = Session(compiled, matcher=matcher)
        build = time.perf_counter() - start
        inputs = [from_data(p, kb) for p in patients(n, count)]
        for p in inputs[:10]:  # warm up
            session.consult(p)
        times, firings = [], 0
        for p in inputs:
            t = time.perf_counter()
            result = session.consult(p)
            times.append(time.perf_counter() - t)
            firings += len(result.firings)
    return {
        "build_s": build,
        "consult_ms": _median_ms(times),
        "firings": firings / len(inputs),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_clips(n: int, count: int) -> dict[str, float] | None:
    try:
        import clips
    except ImportError:
        return None
    from synthetic import clips_facts, clips_program, patients

    env = clips.Environment()
    start = time.perf_counter()
    for construct in clips_program(n):
        env.build(construct)
    build = time.perf_counter() - start
    inputs = [clips_facts(p) for p in patients(n, count)]
    times, firings = [], 0
    for facts in inputs[:10] + inputs:
        t = time.perf_counter()
        env.reset()
        for f in facts:
            env.assert_string(f)
        fired = env.run()
        times.append(time.perf_counter() - t)
        firings += fired
    times = times[10:]
    return {"build_s": build, "consult_ms": _median_ms(times), "firings": firings / (len(inputs) + 10)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "size:matcher", run in a child process
    args = parser.parse_args()
    if args.one:
        size, matcher = args.one.split(":")
        result = (
            measure_clips(int(size), args.patients)
            if matcher == "clips"
            else measure(int(size), args.patients, matcher)
        )
        print(json.dumps(result))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {}
    for size in sizes:
        for matcher in ("stock", "incremental", "clips"):
            if matcher == "stock" and size > 1000 and os.environ.get("CICATRIX_BENCH_STOCK_5000") != "1":
                rows[(size, matcher)] = None  # stock experta at 5,000 rules takes minutes; opt in
                continue
            proc = subprocess.run(
                [sys.executable, __file__, "--one", f"{size}:{matcher}", "--patients", str(args.patients)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rows[(size, matcher)] = json.loads(proc.stdout.strip().splitlines()[-1])
    header = (f"{'rules':>6} | {'build s':>8} | {'stock ms':>9} | {'incr ms':>8} | {'clips ms':>8} | "
              f"{'incr/clips':>10} | {'firings':>7} | {'peak MB':>7}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for size in sizes:
        stock, incr, clips = rows[(size, "stock")], rows[(size, "incremental")], rows[(size, "clips")]
        ratio = f"{incr['consult_ms'] / clips['consult_ms']:.1f}x" if clips else "n/a"
        print(
            f"{size:>6} | {incr['build_s']:>8.2f} | {stock['consult_ms'] if stock else float('nan'):>9.2f} | "
            f"{incr['consult_ms']:>8.2f} | {clips['consult_ms'] if clips else float('nan'):>8.3f} | {ratio:>10} | "
            f"{incr['firings']:>7.1f} | {incr['peak_mb']:>7.0f}"
        )
    first, last = sizes[0], sizes[-1]
    print()
    growth = rows[(last, "incremental")]["consult_ms"] / rows[(first, "incremental")]["consult_ms"]
    print(f"incremental: {last} rules cost {growth:.1f}x what {first} rules cost per consultation")
    stock_sizes = [s for s in sizes if rows[(s, "stock")]]
    if len(stock_sizes) > 1:
        a, b = stock_sizes[0], stock_sizes[-1]
        growth = rows[(b, "stock")]["consult_ms"] / rows[(a, "stock")]["consult_ms"]
        print(f"stock:       {b} rules cost {growth:.1f}x what {a} rules cost")


if __name__ == "__main__":
    main()
