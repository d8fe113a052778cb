"""The shared --kb option: a knowledge-base folder chosen on the command line or
through CICATRIX_KB (the option wins), and a missing folder is bad input."""

from __future__ import annotations

import json
import shutil

import click
import pytest
from click.testing import CliRunner

from cicatrix.commands.options import kb_option

from ..conftest import EXAMPLES, REPO

PATIENT = str(EXAMPLES / "pregnant.yaml")


@pytest.fixture(scope="module")
def renamed_kb(tmp_path_factory):
    """A copy of the bundled knowledge base under another name."""
    root = tmp_path_factory.mktemp("options") / "renamed"
    shutil.copytree(REPO / "kb", root)
    manifest = root / "kb.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert "\nname: cicatrix-acne-scars\n" in text
    manifest.write_text(text.replace("\nname: cicatrix-acne-scars\n", "\nname: renamed-copy\n"), encoding="utf-8")
    return root


def kb_name(run) -> str:
    assert run.code == 0, run.err
    return json.loads(run.out)["kb"]["name"]


def test_without_the_option_the_bundled_kb_is_used(run_cli, monkeypatch):
    monkeypatch.delenv("CICATRIX_KB", raising=False)
    assert kb_name(run_cli("consult", PATIENT, "--format", "json")) == "cicatrix-acne-scars"
    run = run_cli("kb", "validate")
    assert run.code == 0 and run.out.startswith(f"ok: {REPO / 'kb'}:")


def test_kb_option_selects_a_folder(run_cli, renamed_kb, monkeypatch):
    monkeypatch.delenv("CICATRIX_KB", raising=False)
    assert kb_name(run_cli("consult", PATIENT, "--format", "json", "--kb", str(renamed_kb))) == "renamed-copy"
    run = run_cli("kb", "validate", "--kb", str(renamed_kb))
    assert run.code == 0 and run.out.startswith(f"ok: {renamed_kb}:")


def test_the_environment_variable_selects_a_folder(run_cli, renamed_kb, monkeypatch):
    monkeypatch.setenv("CICATRIX_KB", str(renamed_kb))
    assert kb_name(run_cli("consult", PATIENT, "--format", "json")) == "renamed-copy"
    run = run_cli("kb", "validate")
    assert run.code == 0 and run.out.startswith(f"ok: {renamed_kb}:")


def test_the_option_wins_over_the_environment(run_cli, renamed_kb, tmp_path, monkeypatch):
    monkeypatch.setenv("CICATRIX_KB", str(tmp_path / "missing"))
    run = run_cli("consult", PATIENT, "--format", "json", "--kb", str(renamed_kb))
    assert kb_name(run) == "renamed-copy"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_missing_folder_exits_2(run_cli, tmp_path, monkeypatch, how):
    missing = tmp_path / "no-such-kb"
    if how == "option":
        monkeypatch.delenv("CICATRIX_KB", raising=False)
        args = ["--kb", str(missing)]
    else:
        monkeypatch.setenv("CICATRIX_KB", str(missing))
        args = []
    for command in (["kb", "validate"], ["consult", PATIENT, "--format", "json"]):
        run = run_cli(*command, *args)
        assert run.code == 2, command
        assert f"{missing}: no such knowledge-base folder" in run.err
        assert run.out == "" and "Traceback" not in run.err


def test_a_file_is_not_a_folder(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("CICATRIX_KB", raising=False)
    path = tmp_path / "kb.yaml"
    path.write_text("name: x\n")
    run = run_cli("kb", "validate", "--kb", str(path))
    assert run.code == 2 and "is a file" in run.err


def test_the_option_on_its_own(tmp_path, monkeypatch):
    """What kb_option adds to any command: a Path (or None), and help naming the variable."""

    @click.command()
    @kb_option
    def show(kb_dir):
        click.echo(repr(kb_dir))

    runner = CliRunner()
    monkeypatch.delenv("CICATRIX_KB", raising=False)
    assert runner.invoke(show, []).output == "None\n"
    assert runner.invoke(show, ["--kb", str(tmp_path)]).output == f"{tmp_path!r}\n"
    monkeypatch.setenv("CICATRIX_KB", str(tmp_path))
    assert runner.invoke(show, []).output == f"{tmp_path!r}\n"
    help_text = " ".join(runner.invoke(show, ["--help"]).output.split())
    assert "--kb DIRECTORY" in help_text and "[env var: CICATRIX_KB]" in help_text


class _Terminal:
    """A stdout that says it is a terminal, recording what is written."""

    def __init__(self):
        self.written = []

    def isatty(self):
        return True

    def write(self, text):
        self.written.append(text.decode() if isinstance(text, bytes) else text)

    def flush(self):
        pass


def test_long_text_goes_through_a_pager_only_on_a_terminal(monkeypatch):
    import os
    import sys

    import click

    from cicatrix.commands import options

    paged = []
    monkeypatch.setattr(click, "echo_via_pager", lambda text: paged.append(text))
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: os.terminal_size((80, 10)))
    long_text = "line\n" * 30
    monkeypatch.setattr(sys, "stdout", _Terminal())
    options.show(long_text)
    assert paged == [long_text]
    options.show("short\n")  # fits on the screen: printed as it is
    assert paged == [long_text] and "".join(sys.stdout.written) == "short\n"
    monkeypatch.setenv("CICATRIX_PAGER", "0")
    options.show(long_text)
    assert len(paged) == 1  # turned off
    monkeypatch.delenv("CICATRIX_PAGER")
    piped = _Terminal()
    piped.isatty = lambda: False
    monkeypatch.setattr(sys, "stdout", piped)
    options.show(long_text)
    assert len(paged) == 1 and "".join(piped.written) == long_text  # never when piped


def test_one_wrap_width_for_every_command(monkeypatch):
    import os
    import sys

    from cicatrix.commands import options

    piped = _Terminal()
    piped.isatty = lambda: False
    monkeypatch.setattr(sys, "stdout", piped)
    assert options.text_width() == 88
    monkeypatch.setattr(sys, "stdout", _Terminal())
    for columns, width in ((60, 60), (300, 100), (20, 40)):
        monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None, c=columns: os.terminal_size((c, 24)))
        assert options.text_width() == width


# --- end to end in a real terminal (tmux): a long plan opens in the pager; piped
# or with CICATRIX_PAGER=0 it is printed as it is.

TMUX = shutil.which("tmux")
PAGER_SCRIPT = """#!/bin/sh
# a pager that says it ran, then is less
touch "$0.ran"
exec less "$@"
"""


def _paged_in_tmux(tmp_path, command: str, keys: tuple[str, ...] = (), env: str = "", rows: int = 30):
    """Run ``command`` (a shell line) in a new tmux pane; return (screen before the keys, final screen, paged?)."""
    import shlex
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    from .test_dialogue import screen, wait_for

    exe = Path(sys.executable).with_name("cicatrix")
    pager = tmp_path / "pager"
    pager.write_text(PAGER_SCRIPT)
    pager.chmod(0o755)
    env = f"env -u CICATRIX_PAGER -u LESS PAGER={shlex.quote(str(pager))} {env}"
    line = f"{env} {command.replace('cicatrix', shlex.quote(str(exe)), 1)}; echo EXIT=$?; sleep 30"
    session = f"cx-{uuid.uuid4().hex[:8]}"
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "100", "-y", str(rows), line], check=True)
    try:
        wait_for(session, "Decision support" if keys else "EXIT=", 0)  # the plan's start, or its end
        time.sleep(0.5)  # let the pager draw the whole screen
        before = screen(session)
        for key in keys:
            subprocess.run([TMUX, "send-keys", "-t", session, key], check=True)
        wait_for(session, "EXIT=", 0)
        return before, screen(session), Path(f"{pager}.ran").exists()
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False)


@pytest.mark.skipif(TMUX is None or shutil.which("less") is None, reason="tmux and less are needed (CI installs tmux)")
def test_in_a_terminal_a_long_plan_opens_in_the_pager(tmp_path):
    before, final, paged = _paged_in_tmux(tmp_path, "cicatrix consult --example mixed-facial-scars --all", ("q",))
    assert paged
    assert "EXIT=" not in before  # the pager waits for the person
    assert "cicatrix treatment plan" in before.splitlines()[0]  # the first screen ...
    assert "ALL OPTIONS CONSIDERED, RANKED" not in before  # ... and only the first
    assert "EXIT=0" in final  # q quits the pager, and the command ends well


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it with apt-get)")
@pytest.mark.parametrize(
    ("command", "env"),
    [
        ("cicatrix consult --example mixed-facial-scars --all | cat", ""),
        ("cicatrix consult --example mixed-facial-scars --all", "CICATRIX_PAGER=0"),
    ],
    ids=["piped", "turned-off"],
)
def test_piped_or_turned_off_no_pager_runs(tmp_path, command, env):
    _, final, paged = _paged_in_tmux(tmp_path, command, env=env)
    assert not paged and "EXIT=0" in final  # no key was pressed
    lines = final.rstrip("\n").splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("EXIT="))
    assert lines[end - 1].endswith("decides.") and end > 100  # the whole plan, scrolled past the screen
