"""Per-consultation cost of cicatrix against the CLIPS engine itself, shape by shape.

Run:  python benchmarks/clips_fair.py [--shapes literals,joins,negation,ranges,chains]
                                      [--sizes 100,1000,5000] [--patients 200] [--rounds 3]
                                      [--quick] [--json] [--clips-assert string|fact] [--router-on]

Needs clipspy: ``pip install -e '.[bench]'``.

Why a second CLIPS benchmark. ``bench.py`` times CLIPS through clipspy as it comes,
and clipspy installs a Python error router that CLIPS calls back for every
character ``assert_string`` parses (about 100 callbacks a fact): that is about 80%
of the CLIPS time it reports, clipspy's cost and not the engine's. Here the CLIPS
program is built first (with the router on, so a construct that does not parse is
reported), then the router is deactivated and only then is anything timed.

Facts reach CLIPS through ``assert_string`` by default: with the router off the
string is parsed by CLIPS's own C scanner, which measured cheaper than
``Template.assert_fact`` (clipspy builds the fact slot by slot from Python through
cffi: about 9 us a fact against 6.5 us). The cheaper route keeps the baseline the
engine, so the ratio is the one the matcher has to close. ``--clips-assert fact``
times the other route; ``--router-on`` times CLIPS as ``bench.py`` does, to show the
router's share.

The rule shapes (:mod:`shapes`) isolate one condition form each: literals, joins,
negation, numeric ranges and chains of derived facts, each written both as a
cicatrix ``kb/`` folder and as CLIPS defrules, and fed the same patients.

Before anything is timed, every patient is consulted by both engines and the
multiset of activations, (rule, the facts its positive patterns matched), must be
the same for every patient; the CLIPS side of that check runs a copy of the program
whose rules also report their facts to Python, the timed program does not, and its
``run()`` count must equal cicatrix's firing count for every patient in every timed
round. Any difference stops the run with the rules and facts that differ, and no
numbers are printed.

Each (shape, size) runs in its own process, so memory and garbage-collector state
do not carry over from one to the next. Inside it the two engines take turns over
the same patients, ten patients at a time (engine built once, reset between
patients), so a shared machine that slows down for a second slows both alike. The
medians of one consultation, their ratio, and each engine's growth from the
smallest to the largest size are printed. A consultation is timed by the CPU time of its thread (``--clock
wall`` for the wall clock), which other processes on a busy machine disturb far less;
still, compare the ratios of one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shapes import (
    RECORD_FUNCTION,
    SHAPES,
    Activation,
    canonical_fact,
    cicatrix_activations,
    clips_facts,
    clips_program,
    diff_activations,
    patient_facts,
    slots_by_template,
    write_kb,
)

REPO = Path(__file__).resolve().parent.parent
ROUTER = b"python-error-router"
DEFAULT_SIZES = "100,1000,5000"
QUICK = {"sizes": "100,1000", "patients": 100, "rounds": 2}
# CPU time of this thread leaves out the time other processes hold the CPU: on a shared
# 2-core machine a 3 ms consultation is often preempted and a 60 us one rarely, which
# skews a wall-clock ratio against the slower engine. Reading it costs ~0.35 us.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}
BLOCK = 10  # patients an engine consults before the other takes its turn
BUDGET = 6.0  # seconds of cicatrix passes per (shape, size); see measure()


class FiringMismatch(Exception):
    """The two engines fired different rules, or a different number of them: no numbers."""


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _clips_check_env(shape_name: str, n: int) -> tuple[Any, list[Activation]]:
    """A CLIPS environment running the recording copy of the program, and the list it records into."""
    import clips

    shape = SHAPES[shape_name]
    slots = slots_by_template(shape, n)
    fired: list[Activation] = []

    def record(rule: Any, *facts: Any) -> None:
        fired.append(
            (str(rule), tuple(canonical_fact(f.template.name, dict(f), slots[f.template.name]) for f in facts))
        )

    env = clips.Environment()
    env.define_function(record, RECORD_FUNCTION)
    for construct in clips_program(shape, n, record=True):
        env.build(construct)
    return env, fired


def measure(
    shape_name: str,
    n: int,
    count: int,
    rounds: int,
    clips_assert: str,
    router_on: bool,
    budget: float = BUDGET,
    clock: str = "cpu",
) -> dict[str, Any]:
    """Check the two engines agree on every patient, then time both; one (shape, size).

    Each engine passes over the patients ``rounds`` times, fewer when cicatrix's
    passes would take more than ``budget`` seconds (at least one): a slow shape at
    5,000 rules then costs one pass, not three, and still times every patient.
    """
    import clips
    from clips._clips import lib

    from cicatrix.engine.compile.compiler import compile_kb
    from cicatrix.engine.knowledge.loader import load
    from cicatrix.engine.patient.reader import from_data
    from cicatrix.engine.session.session import Session

    shape = SHAPES[shape_name]
    patients = shape.patients(n, count, 7)
    slots = slots_by_template(shape, n)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_kb(shape, Path(tmp) / "kb", n)
        start = time.perf_counter()
        kb = load(root)
        session = Session(compile_kb(kb))
        ours_build = time.perf_counter() - start
    inputs = [from_data(p, kb) for p in patients]

    env = clips.Environment()
    start = time.perf_counter()
    for construct in clips_program(shape, n):
        env.build(construct)
    clips_build = time.perf_counter() - start
    if not router_on:
        # After building, so that a construct CLIPS rejects is still reported with its message.
        lib.DeactivateRouter(env._env, ROUTER)
    strings = [clips_facts(shape, n, p) for p in patients]
    templates = {t.name: env.find_template(t.name) for t in shape.templates(n) if t.key is not None}
    as_slots = [
        [
            (templates[name], {k: clips.Symbol(v) if isinstance(v, str) else v for k, v in values.items()})
            for name, values in patient_facts(shape, n, p)
        ]
        for p in patients
    ]

    # The cross-check: the same activations, per rule and per patient.
    check_env, fired = _clips_check_env(shape_name, n)
    expected: list[int] = []
    check_start = time.perf_counter()
    for i, (patient, facts) in enumerate(zip(inputs, strings, strict=True)):
        ours = cicatrix_activations(session.consult(patient), slots)
        fired.clear()
        check_env.reset()
        for fact in facts:
            check_env.assert_string(fact)
        ran = check_env.run()
        theirs: Counter[Activation] = Counter(fired)
        problem = diff_activations(shape_name, n, i, ours, theirs)
        if not problem and ran != len(fired):
            problem = f"{shape_name} at {n} rules, patient {i}: CLIPS ran {ran} rules but recorded {len(fired)}"
        if problem:
            raise FiringMismatch(problem)
        expected.append(sum(ours.values()))
    if sum(expected) == 0:
        raise FiringMismatch(f"{shape_name} at {n} rules: no rule fired for any patient; nothing to compare")
    del check_env
    per_pass = time.perf_counter() - check_start  # an upper bound on one pass of cicatrix alone
    rounds = max(1, min(rounds, int(budget / per_pass)))

    now = CLOCKS[clock]

    def time_ours(block: range) -> list[float]:
        out = []
        for i in block:
            t = now()
            result = session.consult(inputs[i])
            out.append(now() - t)
            if len(result.firings) != expected[i]:
                raise FiringMismatch(f"{shape_name} at {n} rules, patient {i}: cicatrix fired a different count")
        return out

    def time_clips(block: range) -> list[float]:
        out = []
        for i in block:
            t = now()
            env.reset()
            if clips_assert == "fact":
                for template, values in as_slots[i]:
                    template.assert_fact(**values)
            else:
                for fact in strings[i]:
                    env.assert_string(fact)
            ran = env.run()
            out.append(now() - t)
            if ran != expected[i]:
                where = f"{shape_name} at {n} rules, patient {i}"
                raise FiringMismatch(f"{where}: timed CLIPS ran {ran} rules, not {expected[i]}")
        return out

    time_clips(range(count))  # warm-up (cicatrix was warmed by the cross-check)
    ours_t: list[float] = []
    clips_t: list[float] = []
    blocks = [range(start, min(start + BLOCK, count)) for start in range(0, count, BLOCK)]
    for r in range(rounds):
        for b, block in enumerate(blocks):  # the engines take turns, first one then the other
            if (r + b) % 2 == 0:
                ours_t.extend(time_ours(block))
                clips_t.extend(time_clips(block))
            else:
                clips_t.extend(time_clips(block))
                ours_t.extend(time_ours(block))
    return {
        "shape": shape_name,
        "rules": n,
        "patients": count,
        "rounds": rounds,
        "clock": clock,
        "firings": sum(expected) / len(expected),
        "cicatrix_build_s": ours_build,
        "clips_build_s": clips_build,
        "cicatrix_ms": _ms(ours_t),
        "clips_ms": _ms(clips_t),
        "ratio": _ms(ours_t) / _ms(clips_t),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cicatrix_file": str(Path(sys.modules["cicatrix.engine.match.matcher"].__file__ or "?").resolve().parents[2]),
    }


def _git(source: Path) -> dict[str, str]:
    """The commit measured and any uncommitted change to the engine (read-only git calls)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--short", "engine/"], cwd=source, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"commit": head.stdout.strip(), "engine_changes": dirty.stdout.strip()}


def _table(rows: list[dict[str, Any]], sizes: list[int], shapes: list[str], mode: str) -> str:
    """Every row, then one line per shape: the ratio at each size and each engine's growth."""
    lines = [f"CLIPS: {mode}", ""]
    header = (f"{'shape':<9} | {'rules':>5} | {'firings':>7} | {'timed':>5} | {'build s':>7} | {'cicatrix ms':>11} | "
              f"{'CLIPS ms':>8} | {'cicatrix/CLIPS':>14} | {'peak MB':>7}")  # fmt: skip
    lines += [header, "-" * len(header)]
    by = {(r["shape"], r["rules"]): r for r in rows}
    for shape in shapes:
        for size in sizes:
            r = by[(shape, size)]
            lines.append(
                f"{shape:<9} | {size:>5} | {r['firings']:>7.1f} | {r['patients'] * r['rounds']:>5} | "
                f"{r['cicatrix_build_s']:>7.2f} | {r['cicatrix_ms']:>11.3f} | {r['clips_ms']:>8.4f} | "
                f"{r['ratio']:>13.1f}x | {r['peak_mb']:>7.0f}"
            )
    first, last = sizes[0], sizes[-1]
    growth = len(sizes) > 1
    title = "cicatrix/CLIPS per consultation" + (
        f", and each engine's growth from {first} to {last} rules" if growth else ""
    )
    lines += ["", title + ":", ""]
    header = f"{'shape':<9} | " + " | ".join(f"{f'at {s}':>8}" for s in sizes)
    if growth:
        header += f" | {'cicatrix growth':>15} | {'CLIPS growth':>12}"
    lines += [header, "-" * len(header)]
    for shape in shapes:
        a, b = by[(shape, first)], by[(shape, last)]
        line = f"{shape:<9} | " + " | ".join(f"{by[(shape, s)]['ratio']:>7.1f}x" for s in sizes)
        if growth:
            line += f" | {b['cicatrix_ms'] / a['cicatrix_ms']:>14.2f}x | {b['clips_ms'] / a['clips_ms']:>11.2f}x"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, from: " + ", ".join(SHAPES))
    parser.add_argument("--sizes", help=f"rule counts, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--patients", type=int, help="patients per size (default 200)")
    parser.add_argument("--rounds", type=int, help="timed passes over the patients per engine (default 3)")
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET,
        help=f"fewer rounds (at least 1) where cicatrix's would take more seconds than this (default {BUDGET:g})",
    )
    parser.add_argument("--quick", action="store_true", help=f"a quick look: {QUICK}")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    parser.add_argument("--clips-assert", choices=("string", "fact"), default="string")
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="cpu",
        help="time a consultation by this thread's CPU time (default) or by the wall clock",
    )
    parser.add_argument("--router-on", action="store_true", help="leave clipspy's error router on (as bench.py)")
    parser.add_argument(
        "--cicatrix-src",
        metavar="DIR",
        help="time the cicatrix in DIR (another checkout, or `git archive HEAD | tar -x -C DIR`) "
        "instead of the installed one; the benchmark scripts are always this folder's",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "shape:size", run in a child process
    args = parser.parse_args()
    sizes_text = args.sizes or (QUICK["sizes"] if args.quick else DEFAULT_SIZES)
    patients = args.patients or (QUICK["patients"] if args.quick else 200)
    rounds = args.rounds or (QUICK["rounds"] if args.quick else 3)

    if args.one:
        shape, size = args.one.split(":")
        os.environ.setdefault("CICATRIX_NO_CACHE", "1")  # generated knowledge bases: keep them out of the cache
        try:
            row = measure(
                shape, int(size), patients, rounds, args.clips_assert, args.router_on, args.budget, args.clock
            )
        except FiringMismatch as exc:
            print(f"FIRING MISMATCH: {exc}", file=sys.stderr)
            raise SystemExit(3) from None
        print(json.dumps(row))
        return

    try:
        import clips  # noqa: F401
    except ImportError:
        raise SystemExit("clipspy is not installed: pip install -e '.[bench]'") from None
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        raise SystemExit(f"unknown shape(s): {', '.join(unknown)}; choose from {', '.join(SHAPES)}")
    sizes = [int(s) for s in sizes_text.split(",")]
    source = Path(args.cicatrix_src).resolve() if args.cicatrix_src else REPO
    if not (source / "engine" / "match" / "matcher.py").is_file():
        raise SystemExit(f"{source}: not a cicatrix source folder (no engine/match/matcher.py)")
    before = {**_git(source), "engine_sha256": _engine_digest(source)}
    options = ["--patients", str(patients), "--rounds", str(rounds), "--budget", str(args.budget)]
    options += ["--clips-assert", args.clips_assert, "--clock", args.clock]
    if args.router_on:
        options.append("--router-on")
    with tempfile.TemporaryDirectory(prefix="clips-fair-") as links:
        env = dict(os.environ)
        if args.cicatrix_src:
            # `cicatrix` is the folder's name on sys.path: a folder holding a `cicatrix` link to the source,
            # put first on PYTHONPATH, is found before the editable install's finder.
            (Path(links) / "cicatrix").symlink_to(source)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (links, env.get("PYTHONPATH", "")) if p)
        rows = [_run_child(shape, size, options, env) for size in sizes for shape in shapes]
    mode = f"assert_{args.clips_assert}, clipspy's error router {'ON' if args.router_on else 'off'}; {args.clock} time"
    info: dict[str, Any] = {**before, "cicatrix_src": rows[0]["cicatrix_file"], "clips": mode}
    info.update(patients=patients, rounds=rounds, changed_during_run=_engine_digest(source) != before["engine_sha256"])
    if args.json:
        print(json.dumps({**info, "rows": rows}, indent=2))
        return
    print(f"cicatrix imported from {info['cicatrix_src']}")
    if "commit" in info:
        changes = info["engine_changes"].replace("\n", "; ") or "none"
        print(f"commit {info['commit']}; uncommitted changes under engine/: {changes}")
    print(f"engine/*.py sha256 {info['engine_sha256'][:16]}")
    if info["changed_during_run"]:
        print("WARNING: files under engine/ changed during the run; the rows may mix two versions of the engine")
    print(f"{patients} patients x {rounds} rounds per engine; activations cross-checked for every patient: identical")
    print(_table(rows, sizes, shapes, mode))


def _run_child(shape: str, size: int, options: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Measure one (shape, size) in a fresh process; stop the whole run if it fails."""
    print(f"{shape} at {size} rules ...", file=sys.stderr, flush=True)
    cmd = [sys.executable, __file__, "--one", f"{shape}:{size}", *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        what = "the engines disagree" if proc.returncode == 3 else "the measurement failed"
        raise SystemExit(f"clips_fair: {what} ({shape} at {size} rules); no numbers printed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _engine_digest(source: Path) -> str:
    """One digest of every engine source file: the version of the matcher actually measured."""
    digest = hashlib.sha256()
    for path in sorted((source / "engine").rglob("*.py")):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    main()
