"""Real-knowledge-base throughput: this tree's `cicatrix batch` against another commit's, side by side.

Run:  python benchmarks/throughput.py [--against a5d2bd8] [--this REV] [--patients 2000] [--rounds 3] [--parts]

Both trees consult the same generated patients (benchmarks/batch.py's generator,
fixed seed) with `cicatrix batch --jobs 1`, each with its own bundled knowledge
base. A round runs each tree twice, on a few patients and on all of them; the
difference in the child's CPU time over the difference in patients is the
marginal cost of one consultation in batch, start-up excluded. Rounds alternate
the trees, so both see the same machine, and the median round counts. CPU time
rather than wall time: on a shared machine it moves far less.

The other commit is taken with `git archive` into a temporary folder and imported
through a `cicatrix` link put first on PYTHONPATH (the package maps the repository
root to `cicatrix`), so nothing is installed. When both knowledge bases have the
same digest, the outputs must be byte-identical, or the run fails: a faster engine
must not change a plan.

``--parts`` then shows where this tree's consultation goes: a child process
consults the same patients as a batch worker does (knowledge base compiled once,
then exempted from cyclic collection) and times each step with CPU time: reading
the record, the engine, resolving the plan, and the JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import patient  # benchmarks/ is not a package: found through sys.path above

REPO = Path(__file__).resolve().parent.parent
FEW = 20


def _tree(rev: str, into: Path) -> Path:
    """A commit's files, extracted; the folder to link as `cicatrix`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _env(source: Path, links: Path) -> dict[str, str]:
    links.mkdir(parents=True, exist_ok=True)
    link = links / "cicatrix"
    if not link.exists():
        link.symlink_to(source)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(links), env.get("PYTHONPATH", "")) if p)
    env["CICATRIX_CACHE"] = str(links / "cache")  # a cache of its own: neither tree reads the other's
    env.pop("CICATRIX_KB", None)
    return env


def _batch_cpu(env: dict[str, str], patients: Path, out: Path) -> float:
    """CPU seconds of one `cicatrix batch --jobs 1` child."""
    code = "import sys; from cicatrix.cli import main; sys.argv[0] = 'cicatrix'; main()"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", code, "batch", str(patients), "-o", str(out), "--jobs", "1"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# A batch worker's steps, timed one by one over the patients (argv[1], JSON lines).
PARTS = """
import gc, json, sys, time
from cicatrix.engine.common.jsonline import json_line
from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.cache import load_cached
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import resolve
from cicatrix.engine.session.session import Session
kb = load_cached(None)
session = Session(compile_kb(kb))
people = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
for person in people[:20]:
    patient = from_data(person, kb)
    json_line(to_dict(resolve(kb, patient, session.consult(patient))))
gc.collect()
gc.freeze()
clock = time.process_time
spent = [0.0, 0.0, 0.0, 0.0]
for person in people:
    t0 = clock()
    patient = from_data(person, kb)
    t1 = clock()
    consultation = session.consult(patient)
    t2 = clock()
    result = resolve(kb, patient, consultation)
    t3 = clock()
    json_line(to_dict(result))
    t4 = clock()
    for i, took in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
        spent[i] += took
print(json.dumps([x / len(people) for x in spent]))
"""


def _parts(env: dict[str, str], patients: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PARTS, str(patients)], env=env, check=True, capture_output=True)
    spent = json.loads(done.stdout)
    total = sum(spent)
    print(f"\nwhere a consultation of this tree goes (CPU, in one process, {total * 1000:.2f} ms in all):")
    names = ("reading the record", "the engine", "resolving the plan", "the JSON line")
    for name, took in zip(names, spent, strict=True):
        print(f"  {name:<20} {took * 1000:>6.2f} ms {took / total:>6.0%}")


def _digest(out: Path) -> str:
    first = out.read_text(encoding="utf-8").split("\n", 1)[0]
    return json.loads(first).get("kb", {}).get("digest", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="a5d2bd8", help="the commit to compare with (default: a5d2bd8)")
    parser.add_argument(
        "--this", default=None, metavar="REV", help="time this commit instead of the working tree (e.g. HEAD)"
    )
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", action="store_true", help="then show where this tree's consultation goes")
    args = parser.parse_args()
    rng = random.Random(20261202)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        many, few = root / "many.jsonl", root / "few.jsonl"
        people = [patient(rng) for _ in range(args.patients)]
        many.write_text("".join(json.dumps(p) + "\n" for p in people), encoding="utf-8")
        few.write_text("".join(json.dumps(p) + "\n" for p in people[:FEW]), encoding="utf-8")
        (root / "base").mkdir()
        trees = {
            "this tree": _env(REPO, root / "links-this"),
            args.against: _env(_tree(args.against, root / "base"), root / "links-base"),
        }
        for env in trees.values():  # warm each tree's cache of the compiled knowledge base
            _batch_cpu(env, few, root / "warm.jsonl")
        per: dict[str, list[float]] = {name: [] for name in trees}
        outs: dict[str, Path] = {}
        for r in range(args.rounds):
            for name, env in trees.items() if r % 2 == 0 else reversed(list(trees.items())):
                out = root / f"out-{r}-{name.replace(' ', '-')}.jsonl"
                small = _batch_cpu(env, few, root / "few-out.jsonl")
                large = _batch_cpu(env, many, out)
                per[name].append((large - small) / (args.patients - FEW))
                outs[name] = out
        print(f"{args.patients} generated patients, `cicatrix batch --jobs 1`, marginal CPU per consultation")
        print(f"{'tree':<14} {'ms/consult':>11} {'consults/CPU-s':>15}")
        medians = {name: statistics.median(v) for name, v in per.items()}
        for name, value in medians.items():
            print(f"{name:<14} {value * 1000:>11.2f} {1 / value:>15.1f}")
        this, base = medians["this tree"], medians[args.against]
        print(f"this tree is {base / this:.2f}x the throughput of {args.against}")
        a, b = (outs[name] for name in trees)
        print(f"knowledge bases: {_digest(a)[:19]}... and {_digest(b)[:19]}...")
        if _digest(a) == _digest(b):
            same = a.read_bytes() == b.read_bytes()
            print("same knowledge base: outputs " + ("byte-identical" if same else "DIFFER"))
            if not same:
                sys.exit(1)
        else:
            print("the knowledge bases differ (another digest): outputs not compared")
        if args.parts:
            _parts(trees["this tree"], many)


if __name__ == "__main__":
    main()
