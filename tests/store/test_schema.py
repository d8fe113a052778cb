"""The store's versioned schema: a new store is made by the steps in order, an older
one is brought up to date one transaction per step (a v1 file written here as the
first cicatrix with a store wrote it), a failing step changes nothing, and a store
from a newer cicatrix is refused untouched."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zlib

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.store import open_store, schema

# Version 1 as it was released: frozen here, whatever STEPS becomes, because stores
# made by it exist and must keep opening.
V1 = (
    "PRAGMA application_id = 1128485976",  # 0x43435458, "CCTX"
    """CREATE TABLE records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created TEXT NOT NULL,
        source TEXT NOT NULL,
        line INTEGER,
        kb_name TEXT NOT NULL,
        kb_version TEXT NOT NULL,
        kb_digest TEXT NOT NULL,
        patient TEXT NOT NULL,
        plan BLOB NOT NULL,
        trace BLOB NOT NULL
    )""",
    "CREATE TABLE parts (hash TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID",
    "PRAGMA user_version = 1",
)
PLAN = '{\n  "plan": {\n    "problems": []\n  },\n  "alerts": []\n}\n'


def write_v1(path) -> None:
    """A version-1 store with one record, in WAL mode, as cicatrix 0.1 left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in V1:
        conn.execute(statement)
    trace = zlib.compress(b'[["format","value","cicatrix-trace"],["firings","value",[]],["result","plan"]]')
    conn.execute(
        "INSERT INTO records (created, source, line, kb_name, kb_version, kb_digest, patient, plan, trace)"
        " VALUES ('2025-01-02T03:04:05.000000Z', 'old.yaml', NULL, 'kb', '1', 'sha256:abcd', '{\"age\":30}', ?, ?)",
        (zlib.compress(PLAN.encode()), trace),
    )
    conn.execute("COMMIT")
    conn.close()


def layout(path) -> tuple[int, int, set[str], list[str]]:
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        columns = [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    finally:
        conn.close()
    return version, app, indexes, columns


def test_the_steps_are_numbered_in_order_and_the_frozen_v1_is_step_1():
    assert [s.version for s in schema.STEPS] == list(range(1, len(schema.STEPS) + 1))
    assert schema.CURRENT == schema.STEPS[-1].version >= 2
    assert all(s.why and s.statements for s in schema.STEPS)
    squash = " ".join  # the same statements, whitespace aside
    assert [squash(s.split()) for s in schema.STEPS[0].statements] == [squash(s.split()) for s in V1[:-1]]


def test_a_new_store_is_made_by_every_step(tmp_path):
    path = tmp_path / "new.db"
    open_store(path).close()
    version, app, indexes, columns = layout(path)
    assert version == schema.CURRENT and app == schema.APPLICATION_ID
    assert {"records_by_kb", "records_by_time"} <= indexes
    assert columns[-1] == "cicatrix"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_v1_store_is_migrated_and_its_records_still_read(tmp_path):
    path = tmp_path / "v1.db"
    write_v1(path)
    assert layout(path)[0] == 1
    with open_store(path, create=False) as store:  # reading migrates too
        (entry,) = store.entries()
        assert (entry.id, entry.source, entry.patient, entry.cicatrix) == (1, "old.yaml", {"age": 30}, None)
        assert store.plan(1) == PLAN
        assert store.trace(1) == {
            "format": "cicatrix-trace",
            "firings": [],
            "result": {"plan": {"problems": []}, "alerts": []},
        }
        assert [e.id for e in store.entries(kb_digest="sha256:abcd")] == [1]
    version, _, indexes, columns = layout(path)
    assert version == schema.CURRENT and {"records_by_kb", "records_by_time"} <= indexes and "cicatrix" in columns
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM records WHERE kb_digest >= 'a' AND kb_digest < 'b'")
    assert "records_by_kb" in " ".join(str(row) for row in plan)  # the step's index serves the filter
    conn.close()


def test_two_processes_migrating_one_old_store_at_once_both_succeed(tmp_path):
    path = tmp_path / "v1.db"
    write_v1(path)
    code = "import sys; from cicatrix.store import open_store; s = open_store(sys.argv[1]); print(s.count()); s.close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0] and outs == [b"1\n"] * 3
    assert layout(path)[0] == schema.CURRENT


def test_a_failing_step_rolls_back_whole_and_leaves_the_version_before_it(tmp_path):
    path = tmp_path / "v1.db"
    write_v1(path)
    broken = (
        schema.STEPS[0],
        schema.Step(2, "half a step", ("CREATE TABLE half (x)", "CREATE INDEX nowhere ON missing (x)")),
    )
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, str(path), broken)
    assert not conn.in_transaction
    assert schema.version(conn) == 1
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0
    assert schema.migrate(conn, str(path)) == schema.CURRENT  # the real steps still apply
    conn.close()


def test_a_store_from_a_newer_cicatrix_is_refused_untouched(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {schema.CURRENT + 1}")
    conn.execute("CREATE TABLE records (anything)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for create in (True, False):
        with pytest.raises(CicatrixError) as info:
            open_store(path, create=create)
        message = str(info.value)
        assert message.startswith(f"{path}: written by a newer cicatrix (store schema version {schema.CURRENT + 1};")
        assert f"reads versions up to {schema.CURRENT}" in message and "left as it is" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.db"]
    with pytest.raises(CicatrixError, match="newer cicatrix"):  # migrate itself refuses too
        schema.migrate(sqlite3.connect(path, isolation_level=None), str(path))
