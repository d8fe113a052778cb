"""End to end in a real terminal: tmux runs `cicatrix consult --save`, keys are
sent, the screen is read, and the saved file gives the same plan."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it with apt-get)")

# (text that must be on screen before answering, keys to send)
DIALOGUE = [
    ("What type of scar", "ice_pick"),
    ("Where are they?", "cheeks"),
    ("how many scars", "3"),
    ("How deep", "deep"),
    ("Add another group", "y"),
    ("Scar group 2", "rolling"),
    ("Where are they?", "cheeks"),
    ("how many scars", "8"),
    ("How deep", ""),
    ("Add another group", "n"),
    ("Sex", "male"),
    ("How old", "why"),
    ("is used by", "34"),
    ("Fitzpatrick", "2"),
    ("active breakouts", "n"),
    ("isotretinoin", ""),
    ("How sensitive", ""),
    ("Any of these", ""),
    ("How many days", "10"),
    ("budget", "high"),
]


def screen(session: str) -> str:
    return subprocess.run(
        [TMUX, "capture-pane", "-p", "-t", session, "-S", "-200"], capture_output=True, text=True
    ).stdout


def wait_for(session: str, text: str, seen_before: int, timeout: float = 20.0) -> int:
    """Wait until ``text`` appears after the first ``seen_before`` occurrences; return the new count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = screen(session).count(text)
        if count > seen_before:
            return count
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {text!r}; screen:\n{screen(session)}")


def test_interactive_consultation_in_tmux(tmp_path):
    exe = Path(sys.executable).with_name("cicatrix")
    assert exe.exists(), exe
    session = f"cx-{uuid.uuid4().hex[:8]}"
    save, plan = tmp_path / "me.yaml", tmp_path / "plan.txt"
    command = f"{exe} consult --save {save} -o {plan}; echo EXIT=$?; sleep 30"
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "50", command], check=True)
    try:
        counts: dict[str, int] = {}
        for expected, keys in DIALOGUE:
            counts[expected] = wait_for(session, expected, counts.get(expected, 0))
            subprocess.run([TMUX, "send-keys", "-t", session, keys, "Enter"], check=True)
        wait_for(session, "EXIT=", 0)
        final = screen(session)
        assert "EXIT=0" in final, final
        assert "Saved your answers" in final
        assert "This answer (patient.age) is used by" in final  # the answer to `why`
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False)
    rerun = tmp_path / "rerun.txt"
    subprocess.run([str(exe), "consult", str(save), "-o", str(rerun)], check=True)
    assert plan.read_text() == rerun.read_text()
    assert "TCA CROSS" in plan.read_text()
