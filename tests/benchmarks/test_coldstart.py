"""benchmarks/coldstart.py: it runs, and prints every command and every phase of a warm start.

Timings are not checked (they belong to the machine); what is checked is that the
script still drives the real command and that the steps it times inside one
process are the steps a consultation takes, so the README's breakdown stays
reproducible.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_coldstart_prints_the_commands_and_the_phases_of_a_warm_start(tmp_path):
    example = str(ROOT / "examples" / "sensitive-low-downtime.json")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "coldstart.py"), "--runs", "1", "--example", example],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for command in ("python -c pass", "consult --format json (warm cache)", "consult --format json (first run)"):
        row = next(line for line in lines if line.startswith(command))
        assert len(row[len(command) :].split()) == 4  # wall ms, x pass, CPU ms, x pass
    phases = lines[lines.index("where a warm start goes (inside the process, median of 1):") + 1 :]
    names = ["import click", "the other imports", "cached knowledge base", "compile + network", "consult + JSON"]
    assert [p.rsplit(None, 2)[0].strip() for p in phases] == names
    assert all(float(p.split()[-2]) > 0 for p in phases)
