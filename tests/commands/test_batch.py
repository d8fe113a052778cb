"""Batch consultations: JSON lines, YAML documents and CSV in; one JSON line per patient out.

Every record stands alone (a bad one is an error line, located, and the batch
goes on); a stopped batch (SIGINT, SIGTERM, even SIGKILL) leaves whole records in
FILE.partial, no temporary file and no worker, and ``--resume`` finishes it to the
very bytes an uninterrupted run writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import EXAMPLES

GOOD = [
    yaml.safe_load((EXAMPLES / name).read_text()) for name in ("pregnant.yaml", "back-scars.yaml", "dark-skin.yaml")
]


def write_jsonl(tmp_path):
    lines = [
        json.dumps(GOOD[0]),
        '{"scars": [{"type": "icepick"}]}',
        "not json",
        json.dumps(GOOD[1]),
        "",
        json.dumps(GOOD[2]),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_batch_streams_plans_and_reports_bad_records(tmp_path, run_cli):
    path = write_jsonl(tmp_path)
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2  # some records failed
    out = [json.loads(line) for line in run.out.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 6]
    assert "did you mean 'ice_pick'" in out[1]["error"]["problems"][0]["message"]
    assert out[2]["error"]["problems"][0]["message"].startswith("not valid JSON")
    assert f"{path}:2: scars[0].type" in run.err and f"{path}:3:1:" in run.err
    assert "5 record(s), 2 failed" in run.err
    single = run_cli("consult", str(EXAMPLES / "back-scars.yaml"), "--format", "json")
    expected = json.loads(single.out)
    expected["line"] = 4
    assert out[3] == expected


def test_one_job_in_this_process_leaves_the_collector_as_it_found_it(tmp_path, run_cli):
    # One job runs in the caller's process, which exempts what it keeps from the
    # cyclic collector while it runs: the caller (here, the test process) gets it back.
    import gc

    run = run_cli("batch", str(write_jsonl(tmp_path)), "--jobs", "1")
    assert run.code == 2 and len(run.out.splitlines()) == 5
    assert gc.get_freeze_count() == 0


def test_parallel_output_is_identical_and_ordered(tmp_path, run_cli):
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(GOOD[i % 3]) for i in range(30)) + "\n")
    one = run_cli("batch", str(path), "--jobs", "1", "--window", "7")
    two = run_cli("batch", str(path), "--jobs", "2", "--window", "7")
    assert one.code == two.code == 0
    assert one.out == two.out
    assert [json.loads(line)["line"] for line in two.out.splitlines()] == list(range(1, 31))


def test_yaml_documents(tmp_path, run_cli):
    path = tmp_path / "in.yaml"
    path.write_text("---\nscars: [{type: boxcar}]\n---\nscars: [{type: bocar}]\n")
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2
    out = [json.loads(line) for line in run.out.splitlines()]
    assert out[0]["line"] == 2 and out[0]["recommendations"]
    problem = out[1]["error"]["problems"][0]
    assert (problem["line"], problem["column"]) == (4, 16) and "did you mean 'boxcar'" in problem["message"]


def test_csv_columns(tmp_path, run_cli):
    path = tmp_path / "in.csv"
    path.write_text(
        "patient.age,patient.pregnant,patient.conditions,scars.1.type,scars.1.site,scars.2.type\n"
        "30,no,eczema;rosacea,rolling,cheeks,ice_pick\n"
        "40,maybe,,boxcar,,\n"
    )
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2
    first, second = (json.loads(line) for line in run.out.splitlines())
    assert first["patient"]["patient"]["conditions"] == ["eczema", "rosacea"]
    assert [s["type"] for s in first["patient"]["scars"]] == ["rolling", "ice_pick"]
    assert second["line"] == 3 and second["error"]["problems"][0]["path"] == "patient.pregnant"
    bad = tmp_path / "bad.csv"
    bad.write_text("patient.agee,scars.1.type\n30,boxcar\n")
    run = run_cli("batch", str(bad), "--jobs", "1")
    assert run.code == 2 and "column 'patient.agee' is not a patient-file field" in run.err


def test_output_file_is_atomic(tmp_path, run_cli):
    path = write_jsonl(tmp_path)
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(path), "-o", str(out), "--jobs", "1")
    assert run.code == 2 and run.out == ""
    assert len(out.read_text().splitlines()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
    missing = run_cli("batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.jsonl"))
    assert missing.code == 2 and "no such input file" in missing.err
    assert not (tmp_path / "x.jsonl").exists()


def test_a_line_that_is_not_utf8_is_one_bad_record(tmp_path, run_cli):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"scars": [{"type": "\xff"}]}\n{"scars": [{"type": "boxcar"}]}\n')
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2 and f"{path}:1:22: not UTF-8 text (byte 0xff)" in run.err and "Traceback" not in run.err
    bad, good = (json.loads(line) for line in run.out.splitlines())
    assert bad["error"]["problems"] == [{"line": 1, "column": 22, "path": "", "message": "not UTF-8 text (byte 0xff)"}]
    assert good["line"] == 2 and good["recommendations"]


def test_a_bad_matcher_is_bad_input_before_any_worker_starts(tmp_path, run_cli, monkeypatch):
    path = tmp_path / "in.jsonl"
    path.write_text('{"scars": [{"type": "boxcar"}]}\n')
    monkeypatch.setenv("CICATRIX_MATCHER", "fastest")
    run = run_cli("batch", str(path), "--jobs", "2")
    assert run.code == 2 and "CICATRIX_MATCHER must be one of" in run.err


# --- every record on its own ---------------------------------------------------------------------------


def _plan(run_cli, tmp_path, data, line: int) -> dict:
    """What `consult --format json` says for one patient, with the batch's "line"."""
    path = tmp_path / "single" / f"{line}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    single = run_cli("consult", str(path), "--format", "json")
    assert single.code == 0, single.err
    out = json.loads(single.out)
    out["line"] = line
    return out


def _problem(record: dict) -> tuple[int, int | None, str]:
    (problem,) = record["error"]["problems"]
    return problem["line"], problem["column"], problem["message"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_jsonl_bad_records_mixed_with_good_ones(tmp_path, run_cli, jobs):
    path = tmp_path / "in.jsonl"
    lines = [
        b"\xef\xbb\xbf" + json.dumps(GOOD[0]).encode(),  # a BOM
        b'{"scars": [{"type": "boxcar", "site": "\xff\xfe"}]}',
        json.dumps(GOOD[1]).encode(),
        b'{"patient": {"age": ' + b"9" * 5000 + b'}, "scars": [{"type": "boxcar"}]}',
        b'{"scars": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"patient": {"downtime_days": 1e1}, "scars": [{"type": "rolling"}]}',  # JSON's numbers
        b'{"patient": {"downtime_days": NaN}, "scars": [{"type": "rolling"}]}',
        json.dumps(GOOD[2]).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    run = run_cli("batch", str(path), "--jobs", jobs, "-o", str(tmp_path / "out.jsonl"))
    assert run.code == 2 and "Traceback" not in run.err
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [o["line"] for o in out] == list(range(1, 9))
    assert out[0] == _plan(run_cli, tmp_path, GOOD[0], 1)
    assert out[2] == _plan(run_cli, tmp_path, GOOD[1], 3)
    assert out[7] == _plan(run_cli, tmp_path, GOOD[2], 8)
    assert out[5]["patient"]["patient"]["downtime_days"] == 10
    assert _problem(out[1]) == (2, 40, "not UTF-8 text (byte 0xff)")
    assert _problem(out[3]) == (4, 21, "a number longer than 64 characters, or too large to be finite")
    assert _problem(out[4]) == (5, 74, "nested deeper than 64 levels")
    assert _problem(out[6]) == (7, 31, "expected a finite number, got NaN")
    for line, column in ((2, 40), (4, 21), (5, 74), (7, 31)):
        assert f"{path}:{line}:{column}: " in run.err
    assert run.err.endswith("8 record(s), 4 failed\n")


def test_yaml_a_syntax_error_between_good_documents_spoils_only_its_own(tmp_path, run_cli):
    path = tmp_path / "in.yaml"
    docs = [yaml.safe_dump(GOOD[0]), "scars: [{type: boxcar\n", yaml.safe_dump(GOOD[1]), "a: &a [*a]\n"]
    docs.append(yaml.safe_dump(GOOD[2]))
    text = "---\n" + "---\n".join(docs)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2 and "Traceback" not in run.err
    out = [json.loads(line) for line in run.out.splitlines()]
    starts = [i + 2 for i, line in enumerate(text.splitlines()) if line == "---"]  # a document's first line
    assert [o["line"] for o in out] == starts
    assert out[0] == _plan(run_cli, tmp_path, GOOD[0], starts[0])
    assert out[2] == _plan(run_cli, tmp_path, GOOD[1], starts[2])
    assert out[4] == _plan(run_cli, tmp_path, GOOD[2], starts[4])
    line, column, message = _problem(out[1])
    assert (line, column) == (starts[2] - 1, 1) and message.startswith("not valid YAML: ")
    assert _problem(out[3])[2] == "an alias refers to the collection it is part of"
    assert f"{path}:{starts[2] - 1}:1: not valid YAML" in run.err


@pytest.mark.parametrize("suffix", ["jsonl", "yaml", "csv"])
def test_a_bom_is_accepted_in_every_format(tmp_path, run_cli, suffix):
    path = tmp_path / f"in.{suffix}"
    text = {
        "jsonl": '{"scars": [{"type": "boxcar"}]}\n{"scars": [{"type": "rolling"}]}\n',
        "yaml": "scars: [{type: boxcar}]\n---\nscars: [{type: rolling}]\n",
        "csv": "scars.1.type\nboxcar\nrolling\n",
    }[suffix]
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 0, run.err
    out = [json.loads(line) for line in run.out.splitlines()]
    assert [o["patient"]["scars"][0]["type"] for o in out] == ["boxcar", "rolling"]


def test_csv_bad_rows_mixed_with_good_ones(tmp_path, run_cli):
    path = tmp_path / "in.csv"
    path.write_bytes(
        b"\xef\xbb\xbfpatient.age,scars.1.type\n30,boxcar\n31,box\xffcar\n32\n" + b"3" * 70 + b",rolling\n40,rolling\n"
    )
    run = run_cli("batch", str(path), "--jobs", "1")
    assert run.code == 2 and "Traceback" not in run.err
    out = [json.loads(line) for line in run.out.splitlines()]
    assert [o["line"] for o in out] == [2, 3, 4, 5, 6] and "error" not in out[0] and "error" not in out[4]
    assert _problem(out[1]) == (3, 7, "not UTF-8 text (byte 0xff)")
    assert _problem(out[2])[2] == "the row has 1 cells; the header has 2"
    assert out[3]["error"]["problems"][0]["path"] == "patient.age"


def test_empty_input_is_no_record_and_exits_0(tmp_path, run_cli):
    for name in ("in.jsonl", "in.yaml", "in.csv"):
        path = tmp_path / name
        path.write_bytes(b"")
        run = run_cli("batch", str(path), "--jobs", "1", "-o", str(tmp_path / "out.jsonl"))
        assert run.code == 0 and run.err.endswith("0 record(s), 0 failed\n")
        assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_output_to_stdout_and_to_a_device(tmp_path, run_cli):
    path = tmp_path / "in.jsonl"
    path.write_text('{"scars": [{"type": "boxcar"}]}\n')
    dash = run_cli("batch", str(path), "--jobs", "1", "-o", "-")
    assert dash.code == 0 and json.loads(dash.out)["line"] == 1
    null = run_cli("batch", str(path), "--jobs", "1", "-o", os.devnull)
    assert null.code == 0 and null.out == "" and os.path.exists(os.devnull)
    folder = run_cli("batch", str(path), "--jobs", "1", "-o", str(tmp_path))
    assert folder.code == 2 and "is a directory" in folder.err


# --- --resume ---------------------------------------------------------------------------------------------


def _mixed(tmp_path, count: int = 12) -> Path:
    """Good records, with a bad one now and then."""
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(GOOD[i % 3]) if i % 5 != 3 else '{"scars": [{"type": "bocar"}]}' for i in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_resume_finishes_a_partial_output_and_drops_a_torn_line(tmp_path, run_cli):
    path = _mixed(tmp_path)
    reference = tmp_path / "reference.jsonl"
    assert run_cli("batch", str(path), "--jobs", "1", "-o", str(reference)).code == 2
    whole = reference.read_bytes().splitlines(keepends=True)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    partial.write_bytes(b"".join(whole[:5]) + whole[5][:40])  # as a kill in the middle of a write leaves it
    run = run_cli("batch", str(path), "--jobs", "2", "-o", str(out), "--resume")
    assert run.code == 2  # record 4 (in the part kept) failed
    assert f"resuming after the 5 record(s) in {partial}" in run.err
    assert run.err.endswith("12 record(s), 2 failed\n")  # lines 4 (kept) and 9 (done now)
    assert f"{path}:9:" in run.err and f"{path}:4:" not in run.err  # the kept failure is not redone
    assert out.read_bytes() == reference.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "reference.jsonl"]


def test_resume_of_a_finished_output_changes_nothing(tmp_path, run_cli):
    path = _mixed(tmp_path, 4)
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", str(path), "--jobs", "1", "-o", str(out)).code == 2
    before = out.read_bytes()
    run = run_cli("batch", str(path), "--jobs", "1", "-o", str(out), "--resume")
    assert run.code == 2 and run.err.endswith("4 record(s), 1 failed\n")
    assert out.read_bytes() == before and not (tmp_path / "out.jsonl.partial").exists()


def test_resume_with_nothing_to_resume_is_a_fresh_run(tmp_path, run_cli):
    path = _mixed(tmp_path, 3)
    run = run_cli("batch", str(path), "--jobs", "1", "-o", str(tmp_path / "out.jsonl"), "--resume")
    assert run.code == 0 and "resuming" not in run.err and run.err.endswith("3 record(s), 0 failed\n")


def test_resume_refuses_an_output_that_is_not_of_this_input(tmp_path, run_cli):
    path = _mixed(tmp_path, 6)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    assert run_cli("batch", str(path), "--jobs", "1", "-o", str(out)).code == 2
    kept = out.read_bytes().splitlines(keepends=True)
    out.unlink()
    partial.write_bytes(b"".join(kept[:3]))
    path.write_text("\n\n" + path.read_text())  # the records moved: line 3 is now line 5
    run = run_cli("batch", str(path), "--jobs", "1", "-o", str(out), "--resume")
    assert run.code == 2 and "it is not the output of this input" in run.err
    assert partial.read_bytes() == b"".join(kept[:3]) and not out.exists()  # nothing lost
    path.write_text('{"scars": [{"type": "boxcar"}]}\n')
    run = run_cli("batch", str(path), "--jobs", "1", "-o", str(out), "--resume")
    assert run.code == 2 and "has 3 record(s), more than" in run.err
    partial.write_bytes(b"not a record\n")
    run = run_cli("batch", str(path), "--jobs", "1", "-o", str(out), "--resume")
    assert run.code == 2 and "line 1 is not a batch record" in run.err


def test_resume_needs_an_output_file(tmp_path, run_cli):
    path = _mixed(tmp_path, 1)
    for extra in ((), ("-o", "-"), ("-o", os.devnull)):
        run = run_cli("batch", str(path), "--jobs", "1", "--resume", *extra)
        assert run.code == 2 and "--resume needs" in run.err


def test_a_fresh_run_starts_the_partial_again(tmp_path, run_cli):
    path = _mixed(tmp_path, 2)
    (tmp_path / "out.jsonl.partial").write_text("left over\n")
    assert run_cli("batch", str(path), "--jobs", "1", "-o", str(tmp_path / "out.jsonl")).code == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_help_documents_resume_and_the_exit_statuses(run_cli):
    run = run_cli("batch", "--help")
    text = " ".join(run.out.split())
    for words in ("--resume", "FILE.partial", "130", "143", "exits 2 if any record failed", "SIGKILL"):
        assert words in text


# --- stopping: SIGINT, SIGTERM, SIGKILL ----------------------------------------------------------------------

CLI = Path(sys.executable).with_name("cicatrix")
LINUX = Path("/proc/self/stat").exists()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a dead child no one has reaped yet is no process left behind)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """300 patients (a few bad), and the output of one uninterrupted run."""
    folder = tmp_path_factory.mktemp("big")
    path = _mixed(folder, 300)
    done = subprocess.run([str(CLI), "batch", str(path), "--jobs", "2", "-o", str(folder / "reference.jsonl")])
    assert done.returncode == 2
    return path, (folder / "reference.jsonl").read_bytes()


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize(
    ("sig", "status", "group"),
    [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False), (signal.SIGKILL, -9, False)],
    ids=["SIGINT-to-the-group", "SIGTERM", "SIGKILL"],
)
def test_a_stopped_batch_keeps_whole_records_and_resume_finishes_it(tmp_path, big, sig, status, group):
    path, reference = big
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    argv = [str(CLI), "batch", str(path), "--jobs", "2", "-o", str(out)]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(proc.pid)
        assert len(workers) == 2 and proc.poll() is None
        if group:  # as Ctrl-C in a terminal does: to every process of the batch
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = err.decode()
    assert proc.returncode == status, text
    assert "Traceback" not in text and "Error" not in text
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(w) for w in workers), "a worker outlived the batch"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl.partial"]  # no temporary file, no FILE yet
    kept = partial.read_bytes()
    whole = kept[: kept.rfind(b"\n") + 1]
    records = whole.count(b"\n")
    assert whole and reference.startswith(whole) and len(whole) < len(reference)
    if sig != signal.SIGKILL:
        assert kept == whole  # a clean stop never leaves half a record
        assert f"stopped by {sig.name} after {records} record(s); they are in {partial}" in text
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, timeout=120)
    assert resumed.returncode == 2, resumed.stderr.decode()  # some records are bad, in either part
    records = whole.count(b"\n")
    assert f"resuming after the {records} record(s)".encode() in resumed.stderr
    assert out.read_bytes() == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_sigterm_with_one_job_to_stdout_ends_with_whole_lines(tmp_path, big):
    path, reference = big
    proc = subprocess.Popen(
        [str(CLI), "batch", str(path), "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and b"Traceback" not in err
    got = first + rest
    assert got.endswith(b"\n") and reference.startswith(got)


def test_progress_shows_the_rate_and_the_time_left():
    from rich.progress import Progress, TimeRemainingColumn

    from cicatrix.commands.batch import _rate_column

    rate = _rate_column()
    progress = Progress(rate, TimeRemainingColumn())
    task_id = progress.add_task("batch", total=100)
    task = progress.tasks[0]
    assert str(rate.render(task)) == ""  # no rate before any record is done
    for _ in range(3):
        progress.advance(task_id, 10)
    assert str(rate.render(task)).endswith("/s")


# --- --store: each consultation recorded, in input order ---------------------------------------------------


def _store_lines(store) -> list[int]:
    from cicatrix.store import open_store

    with open_store(store, create=False) as records:
        return [e.line for e in records.entries()]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_store_records_each_good_record_in_input_order(tmp_path, run_cli, jobs):
    from cicatrix.store import open_store

    path = _mixed(tmp_path, 12)  # lines 4 and 9 are bad
    plain = run_cli("batch", str(path), "--jobs", jobs)
    store = tmp_path / "s.db"
    run = run_cli("batch", str(path), "--jobs", jobs, "--store", str(store))
    assert run.code == plain.code == 2 and (run.out, run.err) == (plain.out, plain.err)  # output unchanged
    out = {o["line"]: o for o in map(json.loads, run.out.splitlines())}
    with open_store(store, create=False) as records:
        entries = list(records.entries())
        assert [e.line for e in entries] == [n for n in range(1, 13) if n not in (4, 9)]
        for e in entries:
            expected = dict(out[e.line])
            del expected["line"]
            assert e.source == str(path) and json.loads(records.plan(e.id)) == expected
        assert records.trace(entries[-1].id)["patient_file"] == f"{path}:12"
        consult = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "json").out
        assert records.plan(entries[0].id) == consult  # exactly consult's JSON


def test_two_batches_record_into_one_store_at_once(tmp_path):
    store = tmp_path / "s.db"
    procs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(json.dumps(GOOD[i % 3]) for i in range(10)) + "\n")
        argv = [str(CLI), "batch", str(path), "--jobs", "1", "-o", str(tmp_path / f"{name}.out"), "--store", str(store)]
        procs.append(subprocess.Popen(argv, stderr=subprocess.PIPE))
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    from cicatrix.store import open_store

    with open_store(store, create=False) as records:
        entries = list(records.entries())
        assert records.integrity() == ["ok"] and len(entries) == 20
        for name in ("a", "b"):
            assert [e.line for e in entries if e.source == str(tmp_path / f"{name}.jsonl")] == list(range(1, 11))


@pytest.mark.skipif(not LINUX, reason="SIGKILL")
def test_a_batch_killed_mid_record_leaves_a_sound_store_and_resume_completes_it(tmp_path):
    from cicatrix.store import open_store

    path = _mixed(tmp_path, 40)
    good = [n for n in range(1, 41) if n % 5 != 4]
    store, out = tmp_path / "s.db", tmp_path / "out.jsonl"
    argv = [str(CLI), "batch", str(path), "--jobs", "1", "-o", str(out), "--store", str(store)]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if len(_store_lines(store)) >= 5:
                    break
            except Exception:  # not made yet
                pass
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with open_store(store, create=False) as records:
        assert records.integrity() == ["ok"]
        entries = list(records.entries())
        for e in entries:  # only whole records: each plan and trace reads back, and they agree
            assert records.trace(e.id)["result"] == json.loads(records.plan(e.id))
    stored = [e.line for e in entries]
    assert len(stored) >= 5 and stored == good[: len(stored)]
    kept = (tmp_path / "out.jsonl.partial").read_bytes()
    written = [json.loads(line)["line"] for line in kept[: kept.rfind(b"\n") + 1].splitlines()]
    written = [n for n in written if n in good]
    assert stored[: len(written)] == written and len(stored) <= len(written) + 1  # the store is first, by one at most
    resumed = subprocess.run([*argv, "--resume"], capture_output=True, timeout=120)
    assert resumed.returncode == 2, resumed.stderr.decode()
    final = _store_lines(store)
    assert sorted(set(final)) == good and len(final) - len(good) <= 1  # at most the record in flight, twice
