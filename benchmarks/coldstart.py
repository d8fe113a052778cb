"""Cold-start time of one consultation against `python -c pass`.

Run:  python benchmarks/coldstart.py [--runs 10] [--example examples/mixed-facial-scars.yaml]

Each command is started as a fresh process, as a user's shell would start it;
the script prints the median wall time of each and their ratio. Machines are
noisy: compare ratios from one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--example", default=str(REPO / "examples" / "mixed-facial-scars.yaml"))
    args = parser.parse_args()
    cicatrix = shutil.which("cicatrix") or str(Path(sys.executable).with_name("cicatrix"))
    baseline = median_seconds([sys.executable, "-c", "pass"], args.runs)
    imports = median_seconds(
        [
            sys.executable,
            "-c",
            "import click, yaml, jsonschema; from cicatrix.engine.compile import compat",
        ],
        args.runs,
    )
    consult = median_seconds([cicatrix, "consult", args.example, "--format", "json"], args.runs)
    print(f"{'command':<44} {'median ms':>10} {'x pass':>8}")
    for name, value in (
        ("python -c pass", baseline),
        ("import click+yaml+jsonschema+experta", imports),
        ("cicatrix consult <example> --format json", consult),
    ):
        print(f"{name:<44} {value * 1000:>10.1f} {value / baseline:>8.1f}")


if __name__ == "__main__":
    main()
