"""The SQLite store, on real files: a consultation's record round-trips to the very
plan and trace the commands write, filters and order hold, bad files are refused
untouched, two processes write one store at once, and a writer killed mid-record
leaves a sound store of whole records."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.explain.tracefile import render as render_trace
from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan
from cicatrix.render.json import render as render_json
from cicatrix.store import Consultation, KbId, consultation, digest_prefix, open_store
from cicatrix.store.sqlite import SHARED, timestamp

from ..conftest import EXAMPLES

KB = KbId("test-kb", "1", "sha256:" + "ab" * 32)
PLAN = json.dumps({"plan": {"problems": [{"choice": "alpha"}]}, "alerts": []}, indent=2) + "\n"


def made(n: int = 0, **changes) -> Consultation:
    """A small consultation whose trace has a shared member, the plan as its result, and its own facts."""
    fields = {
        "source": "in.jsonl",
        "line": n,
        "patient": {"n": n},
        "kb": KB,
        "plan": PLAN,
        "trace": {"format": "cicatrix-trace", "rules": {"r": {"title": "R"}}, "facts": [n], "result": json.loads(PLAN)},
        "cicatrix": "0.1.0",
    }
    fields.update(changes)
    return Consultation(**fields)


def count(path, table: str = "records") -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# --- round trip ----------------------------------------------------------------------


def test_a_real_consultation_round_trips_to_the_plan_and_trace_consult_writes(tmp_path, kb, session):
    patient = read(EXAMPLES / "mixed-facial-scars.yaml", kb)
    result = plan(session, patient)
    result_json = to_dict(result)
    plan_text = render_json(result_json)
    trace_text = render_trace(kb, result, result_json, "mixed.yaml")
    path = tmp_path / "s.db"
    with open_store(path) as store:
        ids = [store.add(consultation(kb, result, result_json, plan_text, "mixed.yaml")) for _ in range(3)]
        assert ids == [1, 2, 3]
        entry = store.entry(2)
        assert (entry.source, entry.line, entry.where) == ("mixed.yaml", None, "mixed.yaml")
        assert entry.kb == KbId(kb.name, kb.version, kb.digest) and entry.cicatrix
        assert entry.patient == result_json["patient"]
        assert store.plan(2) == plan_text
        trace = store.trace(2)
        assert json.dumps(trace, indent=1, ensure_ascii=False) + "\n" == trace_text  # byte for byte, keys in order
        assert store.integrity() == ["ok"]
    # the members every trace of one knowledge base repeats are kept once, whatever the number of records
    assert count(path) == 3 and count(path, "parts") == len(SHARED)
    assert path.stat().st_size < 3 * len(trace_text) / 4


def test_a_batch_record_names_its_line_and_its_trace_says_where_it_came_from(kb, session, tmp_path):
    result = plan(session, read(EXAMPLES / "pregnant.yaml", kb))
    result_json = to_dict(result)
    with open_store(tmp_path / "s.db") as store:
        store.add(consultation(kb, result, result_json, render_json(result_json), "in.jsonl", 7))
        entry = store.entry(1)
        assert (entry.source, entry.line, entry.where) == ("in.jsonl", 7, "in.jsonl:7")
        assert store.trace(1)["patient_file"] == "in.jsonl:7"


def test_what_is_not_the_plan_is_kept_as_it_is_and_odd_text_survives(tmp_path):
    odd = "\ud800 lone surrogate, ü, 😀"
    trace = {"result": {"not": "the plan"}, "names": {"x": odd}, "z": 1, "a": [odd]}
    record = made(1, patient={"name": odd}, plan=PLAN.replace("alpha", odd), trace=trace)
    with open_store(tmp_path / "s.db") as store:
        store.add(record)
        assert store.entry(1).patient == {"name": odd}
        assert store.plan(1) == record.plan
        got = store.trace(1)
        assert got == trace and list(got) == ["result", "names", "z", "a"]


# --- reading: order, filters, ids -------------------------------------------------------


def test_entries_in_order_newest_first_and_filtered(tmp_path):
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    other = KbId("test-kb", "2", "sha256:" + "cd" * 32)
    with open_store(tmp_path / "s.db") as store:
        for n in range(6):
            store.add(made(n, kb=KB if n % 2 == 0 else other), recorded=start + timedelta(days=n))
        assert [e.line for e in store.entries()] == [0, 1, 2, 3, 4, 5]
        assert [e.line for e in store.entries(newest_first=True, limit=2)] == [5, 4]
        assert [e.line for e in store.entries(kb_digest=digest_prefix("cdcd"))] == [1, 3, 5]
        assert [e.line for e in store.entries(kb_digest=KB.digest)] == [0, 2, 4]
        assert [e.line for e in store.entries(since=start + timedelta(days=3, hours=-1))] == [3, 4, 5]
        assert store.count(kb_digest=digest_prefix("abab"), since=start + timedelta(days=1)) == 2
        assert store.count() == 6
        assert store.entry(4).recorded == "2025-01-04T00:00:00.000000Z"


def test_an_unknown_record_id_is_a_located_error(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(CicatrixError, match=r"s\.db: no record 1 in this store \(it holds no records\)"):
            store.plan(1)
        store.add(made())
        store.add(made())
        for missing in (0, 3, -1, 2**70):
            with pytest.raises(CicatrixError, match=rf"no record {missing} in this store \(its records are 1 to 2\)"):
                store.trace(missing)


def test_digests_and_timestamps():
    assert digest_prefix("43CFd476") == "sha256:43cfd476" == digest_prefix(" sha256:43cfd476 ")
    for bad in ("43c", "xyz1", "sha256:", "md5:43cfd476"):
        with pytest.raises(CicatrixError, match="not a knowledge-base digest"):
            digest_prefix(bad)
    assert timestamp(datetime(2025, 12, 2, 8, 30, tzinfo=timezone(timedelta(hours=1)))) == "2025-12-02T07:30:00.000000Z"
    assert timestamp(datetime(2025, 12, 2, 8, 30)) == "2025-12-02T08:30:00.000000Z"  # naive is UTC


def test_a_damaged_record_is_named_not_a_traceback(tmp_path):
    path = tmp_path / "s.db"
    with open_store(path) as store:
        store.add(made(1))
        store.add(made(2))
        store.conn.execute("UPDATE records SET plan = x'00ff' WHERE id = 1")
        store.conn.execute("DELETE FROM parts")
        with pytest.raises(CicatrixError, match=r"record 1 is damaged: its plan cannot be read"):
            store.plan(1)
        with pytest.raises(
            CicatrixError, match=r"record 2 is damaged: its trace cannot be read \(.*part .* is missing"
        ):
            store.trace(2)


# --- bad files -----------------------------------------------------------------------


def _other_program(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE mine (x)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "create", "message"),
    [
        (lambda p: p.mkdir(), True, "cannot use it as a store: it is a folder"),
        (lambda p: p.write_text("patient: {}\n"), True, "not a cicatrix store: the file is not an SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x07" * 200), True, "not a cicatrix store: SQLite cannot"),
        (_other_program, True, "an SQLite database of another program (it has the tables mine)"),
        (lambda p: None, False, "no such store; record consultations into it with --store"),
    ],
    ids=["folder", "not-sqlite", "damaged-sqlite", "another-program", "missing-on-read"],
)
def test_a_file_that_is_no_store_is_refused_untouched(tmp_path, make, create, message):
    path = tmp_path / "s.db"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(CicatrixError) as info:
        open_store(path, create=create)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert (path.read_bytes() if path.is_file() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if before is None and not path.is_dir() else ["s.db"])


def test_other_unusable_paths(tmp_path):
    with pytest.raises(CicatrixError, match=r"the folder '.*nowhere' does not exist"):
        open_store(tmp_path / "nowhere" / "s.db")
    with pytest.raises(CicatrixError, match="/dev/null: cannot use it as a store: it is not a regular file"):
        open_store(os.devnull)
    with pytest.raises(CicatrixError, match="an empty path"):
        open_store("")
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file is an empty database: it becomes a store
    with open_store(empty) as store:
        assert store.count() == 0


def test_a_read_only_store_is_read_but_never_migrated(tmp_path, monkeypatch):
    from cicatrix.store import sqlite as backend

    from .test_schema import write_v1

    path = tmp_path / "s.db"
    with open_store(path) as store:
        store.add(made(1))
    real = os.access
    monkeypatch.setattr(backend.os, "access", lambda p, mode: mode != os.W_OK and real(p, mode))  # as for a non-owner
    with open_store(path, create=False) as store:
        assert store.plan(1) == PLAN and store.count() == 1
        with pytest.raises(CicatrixError, match="cannot record the consultation: the file is read-only"):
            store.add(made(2))
    old = tmp_path / "v1.db"
    write_v1(old)
    with pytest.raises(CicatrixError, match=r"at schema version 1 and needs upgrading to \d+, but the file is read-"):
        open_store(old, create=False)


# --- concurrency and crashes, with real processes -------------------------------------

WRITER = """
import json, os, sys, time
from cicatrix.store import Consultation, KbId, encode, open_store
path, tag = sys.argv[1], sys.argv[2]
n, size, distinct, pause = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
plan = json.dumps({"tag": tag, "plan": {"problems": []}}, indent=2) + "\\n"
kb = KbId("k", "1", "sha256:" + "ab" * 32)
rows = []
for i in range(distinct):  # encoded beforehand, so that the writer spends its time in transactions
    noise = os.urandom(size).hex()  # incompressible: a record spans many pages
    trace = {"rules": {"r": 1}, "facts": [tag, i, noise], "result": json.loads(plan)}
    rows.append(encode(Consultation(tag, i, {"tag": tag, "i": i}, kb, plan, trace, "test")))
with open_store(path) as store:
    print("open", flush=True)
    sys.stdin.readline()  # all writers start together
    for i in range(n):
        store.add(rows[i % distinct])
        time.sleep(pause)  # as a consultation takes its time between two records
"""


def writers(path, *runs: tuple[str, int, int, int, float]) -> list[subprocess.Popen]:
    """Processes recording at once, started together: (tag, n records, bytes of noise in each,
    how many distinct ones, seconds between two)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), *(str(x) for x in run)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for run in runs
    ]
    for proc in procs:
        assert proc.stdout.readline() == b"open\n", proc.stderr.read().decode()
    for proc in procs:
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    return procs


def test_two_processes_write_one_new_store_at_once(tmp_path):
    path = tmp_path / "s.db"
    procs = writers(path, ("a", 150, 64, 150, 0.001), ("b", 150, 64, 150, 0.001))
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode() for _, err in results]
    with open_store(path, create=False) as store:
        entries = list(store.entries())
        assert len(entries) == 300 and store.integrity() == ["ok"]
        for tag in ("a", "b"):
            mine = [e for e in entries if e.source == tag]
            assert [e.line for e in mine] == list(range(150))  # each writer's records in its order
            assert json.loads(store.plan(mine[-1].id))["tag"] == tag


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_writer_killed_mid_record_leaves_a_sound_store_of_whole_records(tmp_path):
    path = tmp_path / "s.db"
    (proc,) = writers(path, ("k", 100_000, 256 * 1024, 8, 0))  # each record ~350 KB compressed: a kill lands in one
    try:
        deadline = time.monotonic() + 60
        while count(path) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with open_store(path, create=False) as store:
        assert store.integrity() == ["ok"]
        entries = list(store.entries())
        assert len(entries) >= 5 and [e.line for e in entries] == [i % 8 for i in range(len(entries))]
        for e in entries:  # every record whole: its plan, its trace, its shared part
            trace = store.trace(e.id)
            assert trace["facts"][:2] == ["k", e.line] and len(trace["facts"][2]) == 512 * 1024
            assert trace["result"] == json.loads(store.plan(e.id)) and trace["rules"] == {"r": 1}
        store.add(made())  # and it goes on
