"""Shell completion: click completes commands and options; the knowledge base adds its words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).with_name("cicatrix")


def complete(*words: str, shell: str = "bash") -> list[str]:
    """What the shell would offer after typing ``cicatrix WORDS...`` (the last word unfinished)."""
    env = {
        **os.environ,
        "COMP_WORDS": " ".join(("cicatrix", *words)),
        "COMP_CWORD": str(len(words)),
        "_CICATRIX_COMPLETE": f"{shell}_complete",
    }
    done = subprocess.run([str(CLI)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_commands_and_example_names_complete():
    assert {"consult", "batch", "trace", "kb", "examples"} <= set(complete(""))
    assert complete("consult", "--example", "mixed") == ["mixed-facial-scars"]


def test_rule_and_treatment_ids_complete():
    rules = complete("kb", "show", "ice-pick/")
    assert "ice-pick/tca-cross" in rules and all(r.startswith("ice-pick/") for r in rules)
    assert complete("trace", "why-not", "t.json", "tca") == ["tca_cross"]
    assert "microneedling" in complete("kb", "list", "--treatment", "micro")
    graph_rules = complete("kb", "graph", "--rule", "ice-pick/")
    assert "ice-pick/tca-cross" in graph_rules and all(r.startswith("ice-pick/") for r in graph_rules)
    assert complete("kb", "graph", "--treatment", "tca") == ["tca_cross"]
    assert complete("trace", "graph", "t.json", "tca") == ["tca_cross"]


def test_completion_of_a_broken_knowledge_base_offers_nothing_and_stays_quiet(tmp_path):
    (tmp_path / "kb.yaml").write_text("name: [\n", encoding="utf-8")
    assert complete("kb", "show", "--kb", str(tmp_path), "ice") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell):
    env = {**os.environ, "_CICATRIX_COMPLETE": f"{shell}_source"}
    done = subprocess.run([str(CLI)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "_CICATRIX_COMPLETE" in done.stdout
