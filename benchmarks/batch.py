"""Batch throughput and memory: generated patients through `cicatrix batch`.

Run:  python benchmarks/batch.py [--sizes 10000,100000] [--jobs 1,2]

Patients are generated from a fixed seed (scar types, sites, counts, depths and
the patient fields that change plans), written as JSON lines, and consulted
against the bundled knowledge base. For each size and job count it prints the
wall time, patients per second per worker, and the peak resident memory of the
largest process: memory should not grow with the number of patients.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = ["ice_pick", "boxcar", "rolling", "hypertrophic", "keloid", "atrophic"]
SITES = ["forehead", "temples", "cheeks", "nose", "chin", "jaw", "neck", "back", "chest", "shoulders"]


def patient(rng: random.Random) -> dict:
    scars = [
        {
            "type": rng.choice(TYPES),
            "site": rng.choice(SITES),
            "count": rng.randint(1, 20),
            "depth": rng.choice(["shallow", "moderate", "deep"]),
        }
        for _ in range(rng.randint(1, 3))
    ]
    return {
        "patient": {
            "age": rng.randint(16, 70),
            "fitzpatrick": rng.randint(1, 6),
            "pregnant": rng.random() < 0.05,
            "active_acne": rng.random() < 0.2,
            "isotretinoin_months_ago": rng.choice([None, None, None, 0, 2, 8]),
            "skin_sensitivity": rng.choice(["normal", "normal", "sensitive", "very_sensitive"]),
            "downtime_days": rng.choice([0, 2, 3, 5, 7, 14]),
            "budget": rng.choice(["low", "medium", "high"]),
        },
        "scars": scars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--jobs", default="1,2")
    args = parser.parse_args()
    exe = shutil.which("cicatrix") or str(Path(sys.executable).with_name("cicatrix"))
    rng = random.Random(11)
    print(f"{'patients':>9} | {'jobs':>4} | {'seconds':>8} | {'per sec':>8} | {'per sec/job':>11} | {'peak MB':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"p{size}.jsonl"
            with path.open("w") as handle:
                for _ in range(size):
                    handle.write(json.dumps(patient(rng)) + "\n")
            for jobs in [int(j) for j in args.jobs.split(",")]:
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                start = time.perf_counter()
                subprocess.run(
                    [exe, "batch", str(path), "--jobs", str(jobs), "-o", str(Path(tmp) / "out.jsonl"), "--no-progress"],
                    check=True, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                seconds = time.perf_counter() - start
                peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
                rate = size / seconds
                print(f"{size:>9} | {jobs:>4} | {seconds:>8.1f} | {rate:>8.0f} | {rate / jobs:>11.0f} | {peak:>7.0f}")


if __name__ == "__main__":
    main()
