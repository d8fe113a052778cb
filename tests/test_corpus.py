"""The malformed-input corpus, run as real processes: nothing crashes, hangs or leaks.

Every case of ``tests/corpus`` runs ``cicatrix`` in its own process with a time
limit and an address-space limit. A case passes when the exit status is one it
allows, stderr carries no traceback and no "internal error", and a refusal names
the file (``located``). Cases run in parallel; the report lists every failure.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .corpus import Case
from .corpus.generate import KINDS, MINIMUM, cases

CLI = Path(sys.executable).with_name("cicatrix")
SECONDS = 60  # per case: far above the slowest real refusal (about 3 s)
MEMORY = 2 * 1024**3  # bytes of address space per case


def _bounded() -> None:  # pragma: no cover - runs in the child process
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(case: Case, env: dict[str, str]) -> str:
    """'' when the case behaves, else what went wrong."""
    import subprocess

    try:
        done = subprocess.run(
            [str(CLI), *case.argv],
            input=case.stdin or b"",
            capture_output=True,
            timeout=SECONDS,
            env=env,
            preexec_fn=_bounded if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        return f"hung (no answer in {SECONDS} s)"
    err = done.stderr.decode("utf-8", errors="replace")
    wrong = []
    if done.returncode not in case.exits:
        wrong.append(f"exit {done.returncode}, expected {case.exits}")
    for word in ("Traceback", "internal error", "MemoryError", "RecursionError"):
        if word in err:
            wrong.append(f"stderr shows {word!r}")
    if case.located and done.returncode == 2 and case.located not in err:
        wrong.append(f"the message does not name {case.located!r}")
    if done.returncode == 2 and not err.strip():
        wrong.append("refused without a message")
    return "; ".join(wrong) + (f"\n      stderr: {err.strip()[:300]}" if wrong else "")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_inputs_are_refused_cleanly(kind, corpus, tmp_path):
    found = list(cases(corpus, kind))
    assert len({c.name for c in found}) == len(found), "case names repeat"
    assert len(found) >= MINIMUM[kind], f"only {len(found)} {kind} cases, the floor is {MINIMUM[kind]}"
    env = {**os.environ, "CICATRIX_CACHE": str(tmp_path / "cache"), "PYTHONHASHSEED": "0"}
    env.pop("CICATRIX_DEBUG", None)
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        results = list(pool.map(lambda c: (c, run(c, env)), found))
    failures = [f"{c.name} (cicatrix {' '.join(c.argv)[:160]}): {why}" for c, why in results if why]
    assert not failures, f"{len(failures)} of {len(found)} {kind} cases misbehave:\n" + "\n".join(failures)
