"""benchmarks/throughput.py --parts: the steps of a batch consultation, each timed, in this tree.

The comparison with another commit needs git and minutes; the breakdown is checked
here on a few patients: every step is named, takes time, and the shares add up.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import throughput
from batch import patient


def test_parts_times_each_step_of_a_batch_consultation(tmp_path, capsys):
    rng = random.Random(3)
    patients = tmp_path / "people.jsonl"
    patients.write_text("".join(json.dumps(patient(rng)) + "\n" for _ in range(25)), encoding="utf-8")
    throughput._parts({**os.environ, "CICATRIX_CACHE": str(tmp_path / "cache")}, patients)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("where a consultation of this tree goes")
    steps = [line.split("  ")[1].strip() for line in lines[1:]]
    assert steps == ["reading the record", "the engine", "resolving the plan", "the JSON line"]
    shares = [int(line.rsplit(None, 1)[1].rstrip("%")) for line in lines[1:]]
    assert 98 <= sum(shares) <= 102 and shares[1] > 0 and shares[2] > 0
