"""The store's schema, versioned, and the steps that bring an older store up to date.

A store's version is SQLite's ``PRAGMA user_version``; ``PRAGMA application_id``
marks the file as a cicatrix store, so another program's database is never
mistaken for one. :data:`STEPS` is the schema's history: each step brings a
store from the version before it to its own, and :func:`migrate` applies the
missing ones in order, **each in one transaction**, which also sets the new
version. A crash, or an error half-way through a step, leaves the store at the
version before it, never between two; and two processes opening the same old
store at once cannot both apply a step, since each re-reads the version once it
holds the write lock.

A store written by a newer cicatrix (a version above :data:`CURRENT`) is refused
rather than guessed at: its records may hold what this cicatrix cannot read.

Steps are only ever added. A released step is never edited, since stores out
there were made by it; a change of mind is a new step.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..engine.common.errors import CicatrixError

APPLICATION_ID = 0x43435458  # "CCTX": the file is a cicatrix store


@dataclass(frozen=True)
class Step:
    """One migration: the statements that bring a store from ``version - 1`` to ``version``."""

    version: int
    why: str
    statements: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "the records, and the parts of traces that many records share",
        (
            f"PRAGMA application_id = {APPLICATION_ID}",
            # One row per consultation. The patient is plain JSON, so SQL can query it
            # (json_extract); the plan and the trace are zlib-compressed, and the trace
            # keeps what every trace of one knowledge base repeats (its rules, templates,
            # catalogue) in `parts`, once, and its result, which is the plan, not at all.
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
            # Content-addressed: the sha256 of a trace member's compact JSON -> that JSON,
            # compressed. Written once, never changed or removed.
            "CREATE TABLE parts (hash TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID",
        ),
    ),
    Step(
        2,
        "indexes for history's filters (--kb-digest, --since), which otherwise read every record",
        (
            "CREATE INDEX records_by_kb ON records (kb_digest)",
            "CREATE INDEX records_by_time ON records (created)",
        ),
    ),
    Step(
        3,
        "which cicatrix made each record (NULL for records made before this step)",
        ("ALTER TABLE records ADD COLUMN cicatrix TEXT",),
    ),
)

CURRENT = STEPS[-1].version


def version(conn: sqlite3.Connection) -> int:
    """The store's schema version (0: a new, empty file)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def newer(name: str, found: int) -> CicatrixError:
    """The refusal of a store from the future."""
    return CicatrixError.about(
        name,
        f"written by a newer cicatrix (store schema version {found}; this cicatrix reads versions up to "
        f"{CURRENT}): upgrade cicatrix to use it; the store was left as it is",
    )


def migrate(conn: sqlite3.Connection, name: str, steps: tuple[Step, ...] = STEPS) -> int:
    """Apply the steps the store lacks, in order, one transaction each; the version it ends at.

    ``conn`` must be in autocommit mode (``isolation_level=None``), so that the
    transactions here are the only ones. ``steps`` is for tests: a step that
    fails rolls back whole.
    """
    latest = steps[-1].version if steps else 0
    found = version(conn)
    if found > latest:
        raise newer(name, found)
    for step in steps:
        if step.version <= found:
            continue
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: another process may be migrating too
        try:
            found = version(conn)
            if found < step.version:
                if found != step.version - 1:  # pragma: no cover - steps are numbered 1, 2, 3, ...
                    raise AssertionError(f"migration step {step.version} met a store at version {found}")
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(step.version)}")
                found = step.version
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return found
