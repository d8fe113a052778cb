"""Output paths through the command line (``consult -o``, ``--trace``, ``--save``,
``kb schema --write``): links written through, FIFOs and devices written directly,
``-`` as standard output, modes kept or from the umask, and every failure to write
an exit status 2 with a located message, no traceback and nothing half-written.
Standard output's own failures (a reader gone, closed, full) run in a real process."""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import stat
import subprocess
import sys
import threading

import pytest

from cicatrix.engine.common import files

from ..conftest import EXAMPLES, REPO
from ..engine.common.test_files import PERMISSIONS_IGNORED, char_device, names, small_disk, umask  # noqa: F401 (fixtures)
from .test_dialogue import SIMPLE

MIXED = str(EXAMPLES / "mixed-facial-scars.yaml")


def failed_cleanly(run, *located: str) -> None:
    """Exit status 2, each located message on stderr, and no traceback."""
    assert run.code == 2, run.err
    for message in located:
        assert message in run.err, run.err
    assert "Traceback" not in run.err and "internal error" not in run.err


def cli(*args: str, **popen) -> subprocess.Popen:
    """The command line in a process of its own, whose standard output is the caller's to break."""
    code = "from cicatrix.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, stderr=subprocess.PIPE, **popen)


# --- where the plan goes -------------------------------------------------------------


@pytest.mark.parametrize("flag", ["-o", "--trace"])
def test_a_link_is_written_through_and_stays_a_link(run_cli, tmp_path, flag):
    target = tmp_path / "real" / "out"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "real" / "new")
    for path in (link, dangling):
        run = run_cli("consult", MIXED, "--format", "json", flag, str(path))
        assert run.code == 0, run.err
        assert path.is_symlink()
    assert json.loads(target.read_text()) and json.loads((tmp_path / "real" / "new").read_text())
    assert names(tmp_path) == ["dangling", "link", "real"] and names(tmp_path / "real") == ["new", "out"]


def test_a_fifo_is_written_directly_and_stays_a_fifo(run_cli, tmp_path):
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = run_cli("consult", MIXED, "--format", "json", "-o", str(fifo))
    reader.join(10)
    assert run.code == 0, run.err
    assert json.loads(got[0])["kb"]["name"] == "cicatrix-acne-scars"
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and names(tmp_path) == ["plan.fifo"]


@pytest.mark.parametrize("flag", ["-o", "--trace"])
def test_a_device_is_written_directly_and_stays_a_device(run_cli, tmp_path, flag):
    null = char_device(tmp_path / "null", 1, 3)
    run = run_cli("consult", MIXED, flag, str(null))
    assert run.code == 0, run.err
    assert stat.S_ISCHR(null.lstat().st_mode) and null.lstat().st_rdev == os.makedev(1, 3)
    assert names(tmp_path) == ["null"]


def test_dash_is_standard_output_and_creates_no_file(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_cli("consult", MIXED, "--format", "json", "-o", "-")
    assert run.code == 0 and json.loads(run.out)["kb"]["name"] == "cicatrix-acne-scars"
    run = run_cli("consult", MIXED, "--trace", "-", "-o", str(tmp_path / "plan.txt"))
    assert run.code == 0 and json.loads(run.out)["firings"]
    run = run_cli("kb", "schema", "kb", "--write", "-")
    assert run.code == 0 and json.loads(run.out)["title"]
    assert names(tmp_path) == ["plan.txt"]


def test_a_link_to_standard_output_is_standard_output(run_cli, tmp_path):
    """``-o /dev/stdout``, tried through a link in tmp_path (``/dev/stdout`` is one to ``/proc/self/fd/1``)."""
    (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
    run = run_cli("consult", MIXED, "--format", "json", "-o", str(tmp_path / "stdout"))
    assert run.code == 0 and json.loads(run.out)["kb"]["name"] == "cicatrix-acne-scars"
    assert names(tmp_path) == ["stdout"] and (tmp_path / "stdout").is_symlink()


def test_save_dash_prints_the_answers(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(SIMPLE) + "\n"))
    run = run_cli("consult", "-i", "--save", "-", "-o", str(tmp_path / "plan.txt"))
    assert run.code == 0, run.err
    assert "# Saved by `cicatrix consult --save`" in run.out and "Saved your answers to standard output." in run.err
    assert names(tmp_path) == ["plan.txt"]


def test_kb_schema_writes_through_a_link_to_a_folder(run_cli, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "schemas").symlink_to("real")
    run = run_cli("kb", "schema", "--write", str(tmp_path / "schemas"))
    assert run.code == 0, run.err
    assert "kb.json" in names(tmp_path / "real") and (tmp_path / "schemas").is_symlink()


# --- modes ---------------------------------------------------------------------------


def test_a_new_plan_follows_the_umask_and_an_existing_one_keeps_its_mode(run_cli, tmp_path, umask):  # noqa: F811
    umask(0o027)
    new = tmp_path / "new.txt"
    assert run_cli("consult", MIXED, "-o", str(new), "--trace", str(tmp_path / "trace.json")).code == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "trace.json").stat().st_mode) == 0o640
    umask(0o022)
    old = tmp_path / "old.txt"
    old.write_text("old")
    old.chmod(0o640)
    assert run_cli("consult", MIXED, "-o", str(old)).code == 0
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.read_text().startswith("cicatrix treatment plan")


# --- failures to write: exit 2, located, nothing half-written -----------------------


@pytest.mark.skipif(PERMISSIONS_IGNORED, reason="running as root, which writes into a read-only folder")
@pytest.mark.parametrize("flag", ["-o", "--trace"])
def test_a_read_only_folder(run_cli, tmp_path, flag):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        run = run_cli("consult", MIXED, flag, str(folder / "out"))
        failed_cleanly(run, f"{folder / 'out'}: cannot write: permission denied")
        assert names(folder) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("flag", ["-o", "--trace"])
def test_a_folder_an_empty_path_and_a_missing_folder(run_cli, tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    failed_cleanly(run_cli("consult", MIXED, flag, str(tmp_path / "folder")), "is a directory")
    failed_cleanly(run_cli("consult", MIXED, flag, ""), "cannot write to an empty path")
    failed_cleanly(
        run_cli("consult", MIXED, flag, str(tmp_path / "nowhere" / "out")),
        f"{tmp_path / 'nowhere' / 'out'}: the folder {str(tmp_path / 'nowhere')!r} does not exist",
    )
    assert names(tmp_path) == ["folder"] and names(tmp_path / "folder") == []


def test_kb_schema_into_a_file_or_an_empty_path(run_cli, tmp_path):
    (tmp_path / "file").write_text("kept")
    failed_cleanly(
        run_cli("kb", "schema", "--write", str(tmp_path / "file" / "sub")), "a part of the path is not a folder"
    )
    failed_cleanly(run_cli("kb", "schema", "--write", ""), "empty name")
    assert names(tmp_path) == ["file"]


def test_a_full_disk(run_cli, small_disk):  # noqa: F811
    (small_disk / "plan.txt").write_text("old")
    for out in (small_disk / "plan.txt", small_disk / "new.txt"):
        run = run_cli("consult", MIXED, "--all", "--explain", "-o", str(out))  # more than 64 KiB
        failed_cleanly(run, f"{out}: cannot write: no space left on the disk")
    assert names(small_disk) == ["plan.txt"] and (small_disk / "plan.txt").read_text() == "old"


def test_a_full_disk_simulated(run_cli, tmp_path, monkeypatch):
    real_write = os.write

    def full(fd, data):
        if fd <= 2:
            return real_write(fd, data)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full)
    run = run_cli("consult", MIXED, "-o", str(tmp_path / "plan.txt"), "--trace", str(tmp_path / "trace.json"))
    monkeypatch.undo()
    failed_cleanly(run, "cannot write: no space left on the disk")
    assert names(tmp_path) == []


# --- a failed consultation leaves no trace -------------------------------------------


def test_bad_input_leaves_no_trace(run_cli, tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("scars:\n  - type: nope\n")
    failed_cleanly(run_cli("consult", str(bad), "--trace", str(tmp_path / "trace.json")))
    assert names(tmp_path) == ["p.yaml"]


def test_a_plan_that_cannot_be_written_leaves_no_trace(run_cli, tmp_path):
    (tmp_path / "file").write_text("kept")
    run = run_cli("consult", MIXED, "-o", str(tmp_path / "file" / "plan.txt"), "--trace", str(tmp_path / "t.json"))
    failed_cleanly(run, "a part of the path is not a folder")
    assert names(tmp_path) == ["file"]


def test_a_trace_that_fails_after_the_plan_says_the_plan_was_written(run_cli, tmp_path, monkeypatch):
    plan, trace = tmp_path / "plan.txt", tmp_path / "trace.json"
    real_replace = os.replace

    def refuse_the_trace(src, dst):
        if str(dst) == str(trace):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", refuse_the_trace)
    run = run_cli("consult", MIXED, "-o", str(plan), "--trace", str(trace))
    monkeypatch.undo()
    failed_cleanly(
        run,
        f"{trace}: cannot write: an input/output error (the plan was written to {plan}, but not the trace)",
    )
    assert "problems" not in run.err
    assert names(tmp_path) == ["plan.txt"]


# --- standard output's own failures, in a real process -------------------------------


@pytest.mark.parametrize("extra", [[], ["--all", "--explain"], ["-o", "-"]], ids=["plan", "long-plan", "dash"])
def test_a_reader_that_goes_away_ends_quietly(extra):
    """`cicatrix consult f.yaml | head -1`: exit 0, nothing on stderr, not even at exit."""
    read_end, write_end = os.pipe()
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # the plan does not fit: the pipe breaks
    proc = cli("consult", MIXED, *extra, stdout=write_end)
    os.close(write_end)
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        assert reader.readline().startswith(b"cicatrix treatment plan")
    err = proc.stderr.read()
    assert proc.wait(60) == 0 and err == b""


def test_a_closed_stdout_is_bad_input():
    """`cicatrix consult f.yaml >&-`."""
    proc = cli("consult", MIXED, preexec_fn=lambda: os.close(1))
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 2 and err == "standard output: cannot write: it is closed\n"


def test_a_closed_stdout_is_fine_when_nothing_is_printed(tmp_path):
    proc = cli("consult", MIXED, "-o", str(tmp_path / "plan.txt"), preexec_fn=lambda: os.close(1))
    assert proc.wait(60) == 0 and proc.stderr.read() == b""
    assert names(tmp_path) == ["plan.txt"]


def test_a_full_stdout_is_bad_input(tmp_path):
    full = char_device(tmp_path / "full", 1, 7)
    with open(full, "wb") as out:
        proc = cli("consult", MIXED, stdout=out)
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 2 and err == "standard output: cannot write: no space left on the disk\n"
