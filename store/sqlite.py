"""The SQLite backend of the store: one file, many writers, nothing lost on a crash.

Why SQLite: a store is one file a clinic can copy, back up and query with any
SQLite tool, and the standard library reads and writes it; no server to run.

What a record is (:class:`Consultation` to write, :class:`Entry` to read): the
patient input (normalised JSON), the knowledge base's name, version and digest,
the plan exactly as ``consult --format json`` prints it, the trace exactly as
``consult --trace`` writes it, where the patient came from (a file, or a batch
input and the record's line in it), which cicatrix made it, and when it was
recorded (UTC, ISO 8601, e.g. ``2025-12-02T07:43:12.123456Z``). The timestamp
lives only here: plans and traces carry none, so output stays byte-identical.

How it is kept (the schema and its versions are in :mod:`.schema`):

- the patient is plain JSON text, so SQL can query it (``json_extract``);
- the plan and the trace are zlib-compressed (a plan is ~60 KB of indented JSON,
  a trace ~300 KB). A trace's members that every trace of one knowledge base
  repeats (:data:`SHARED`: its rules, templates, catalogue and names, about a
  third of it) are stored once, content-addressed in ``parts``; its ``result``,
  which is the plan itself, is not stored twice. Reading puts the trace back
  together, member for member and in its order.

Safety:

- **Concurrent writers**: the file is in WAL mode, every connection waits up to
  :data:`BUSY_TIMEOUT` seconds for a lock instead of failing, and each record is
  written by one short ``BEGIN IMMEDIATE`` transaction. Two processes (two
  consultations, two batches) can record into one store at once.
- **Crashes**: a record is one transaction, committed with ``synchronous=FULL``:
  after a crash (even SIGKILL, even power loss) the store holds every record
  committed before it, whole, and nothing of the one in flight.
- **Never destroys**: a file that is not SQLite, or is another program's
  SQLite database, or comes from a newer cicatrix, is refused before anything
  is written to it, with a message naming it (:class:`CicatrixError`, exit 2).

Encoding a record (:func:`encode`: JSON, hashing, compression) is separate from
adding it (:meth:`Store.add`), so a batch's worker processes do the costly part
in parallel and the parent only inserts, in input order, over one connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..engine.common.errors import CicatrixError
from ..engine.common.jsonline import json_line
from . import schema

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's transaction: each is one record, milliseconds long
SHARED = ("rules", "templates", "catalogue", "names")  # trace members taken from the knowledge base alone
SQLITE_MAGIC = b"SQLite format 3\x00"
_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")
_WORDS = {  # SQLite's messages, as files.py words the operating system's
    "database or disk is full": "no space left on the disk",
    "attempt to write a readonly database": "the file is read-only (permission denied)",
    "unable to open database file": "cannot open the file (a missing folder, or no permission)",
    "disk i/o error": "an input/output error",
    "database is locked": f"another process kept it locked for more than {BUSY_TIMEOUT:.0f} seconds",
}


# --- records ---------------------------------------------------------------------


@dataclass(frozen=True)
class KbId:
    """Which knowledge base made a plan: its name, version and digest (``sha256:...``)."""

    name: str
    version: str
    digest: str


@dataclass(frozen=True)
class Consultation:
    """A consultation to record, as the commands have it."""

    source: str  # the patient file, the batch input, <stdin> or <answers>
    line: int | None  # the batch record's line in ``source``; None for one consultation
    patient: dict[str, Any]  # the normalised input (the plan JSON's "patient")
    kb: KbId
    plan: str  # exactly what `consult --format json` prints
    trace: dict[str, Any]  # exactly what `consult --trace` writes, parsed
    cicatrix: str  # the version of cicatrix that made it


@dataclass(frozen=True)
class Encoded:
    """A :class:`Consultation` ready to insert: JSON text and compressed bytes (picklable, for workers)."""

    source: str
    line: int | None
    patient: str
    kb: KbId
    plan: bytes
    trace: bytes
    parts: tuple[tuple[str, bytes], ...]  # (hash, compressed body) of each shared trace member
    cicatrix: str


@dataclass(frozen=True)
class Entry:
    """A recorded consultation as listed: everything but its plan and trace, which :class:`Store` reads on demand."""

    id: int
    recorded: str  # UTC, ISO 8601
    source: str
    line: int | None
    kb: KbId
    cicatrix: str | None  # None: recorded before stores said
    patient: dict[str, Any]

    @property
    def where(self) -> str:
        """Where the patient came from: ``file``, or ``input:line`` for a batch record."""
        return self.source if self.line is None else f"{self.source}:{self.line}"


def _compact(value: Any) -> bytes:
    """JSON as short as it gets, UTF-8; a lone surrogate (JSON's "\\ud800" can make one) survives the trip."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _text(value: Any) -> str:
    """JSON text for a TEXT column: UTF-8 as it is, unless a lone surrogate needs escaping."""
    return json_line(value)


_LAST_PART: dict[str, tuple[Any, str, bytes]] = {}  # member -> (value, hash, compressed body), as last encoded


def _part(name: str, value: Any) -> tuple[str, bytes]:
    """(hash, compressed body) of a shared member; a batch worker meets the same value record after record,
    and comparing it with the last one costs a third of writing it out again to hash it."""
    last = _LAST_PART.get(name)
    if last is not None and last[0] == value:
        return last[1], last[2]
    data = _compact(value)
    digest, body = hashlib.sha256(data).hexdigest(), zlib.compress(data)
    _LAST_PART[name] = (value, digest, body)
    return digest, body


def encode(c: Consultation) -> Encoded:
    """The costly half of recording (JSON, hashes, compression), which needs no connection.

    The trace becomes a list of its members in order, each ``[name, "value",
    value]``, ``[name, "part", hash]`` (a :data:`SHARED` member, kept in
    ``parts``) or ``[name, "plan"]`` (the ``result`` member, when it is the plan).
    """
    plan_data = json.loads(c.plan)
    members: list[list[Any]] = []
    parts: list[tuple[str, bytes]] = []
    for name, value in c.trace.items():
        if name in SHARED:
            digest, body = _part(name, value)
            parts.append((digest, body))
            members.append([name, "part", digest])
        elif name == "result" and value == plan_data:
            members.append([name, "plan"])
        else:
            members.append([name, "value", value])
    return Encoded(
        source=c.source,
        line=c.line,
        patient=_text(c.patient),
        kb=c.kb,
        plan=zlib.compress(c.plan.encode("utf-8", "surrogatepass")),
        trace=zlib.compress(_compact(members)),
        parts=tuple(parts),
        cicatrix=c.cicatrix,
    )


def timestamp(when: datetime) -> str:
    """A moment as the store writes it: UTC, ISO 8601, microseconds, ``Z`` (so text order is time order)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest_prefix(text: str) -> str:
    """A knowledge-base digest or its start (``sha256:43cf...`` or ``43cfd476``), as the store's digests begin."""
    found = _DIGEST.fullmatch(text.strip().lower())
    if found is None:
        raise CicatrixError.about(
            "--kb-digest",
            f"{text!r} is not a knowledge-base digest: give at least 4 of its hex digits, "
            "as `cicatrix history` shows them (sha256: may be left off)",
        )
    return "sha256:" + found[1]


# --- the store -------------------------------------------------------------------


def _words(exc: sqlite3.Error) -> str:
    message = str(exc) or type(exc).__name__
    return _WORDS.get(message.lower(), message)


class Store:
    """An open store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(self, conn: sqlite3.Connection, name: str):
        self.conn, self.name = conn, name
        self._parts: set[str] = set()  # parts this connection knows are in the file

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _error(self, what: str, exc: sqlite3.Error) -> CicatrixError:
        return CicatrixError.about(self.name, f"cannot {what}: {_words(exc)}")

    # --- writing

    def add(self, record: Consultation | Encoded, recorded: datetime | None = None) -> int:
        """Record one consultation in one transaction; its id. ``recorded`` (default: now) is for tests."""
        row = encode(record) if isinstance(record, Consultation) else record
        created = timestamp(recorded or datetime.now(timezone.utc))
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                new = [(h, body) for h, body in row.parts if h not in self._parts]
                if new:
                    self.conn.executemany("INSERT OR IGNORE INTO parts (hash, body) VALUES (?, ?)", new)
                cursor = self.conn.execute(
                    "INSERT INTO records (created, source, line, kb_name, kb_version, kb_digest, patient, plan,"
                    " trace, cicatrix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (created, row.source, row.line, row.kb.name, row.kb.version, row.kb.digest, row.patient,
                     row.plan, row.trace, row.cicatrix),
                )  # fmt: skip
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error("record the consultation", exc) from None
        self._parts.update(h for h, _ in row.parts)
        return int(cursor.lastrowid or 0)

    # --- reading

    def _where(self, kb_digest: str | None, since: datetime | None) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if kb_digest is not None:
            clauses.append("kb_digest >= ? AND kb_digest < ?")  # a prefix, as a range the index serves
            args += [kb_digest, kb_digest + "~"]
        if since is not None:
            clauses.append("created >= ?")
            args.append(timestamp(since))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def entries(
        self,
        *,
        kb_digest: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[Entry]:
        """The records, in the order they were recorded (or newest first), filtered.

        ``kb_digest`` is a digest or its start (see :func:`digest_prefix`);
        ``since`` keeps records made at or after that moment; ``limit`` keeps the
        first so many in the chosen order. This is the read API for anything that
        takes a store as a cohort: each :class:`Entry` has the patient input and the
        knowledge base that saw it. Records are read as they are iterated, so a
        store of any size costs little memory.
        """
        where, args = self._where(kb_digest, since)
        query = (
            "SELECT id, created, source, line, kb_name, kb_version, kb_digest, cicatrix, patient FROM records"
            + where
            + (" ORDER BY id DESC" if newest_first else " ORDER BY id")
        )
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        try:
            cursor = self.conn.execute(query, args)
            while rows := cursor.fetchmany(256):
                for row in rows:
                    yield self._entry(row)
        except sqlite3.Error as exc:
            raise self._error("read the records", exc) from None

    def count(self, *, kb_digest: str | None = None, since: datetime | None = None) -> int:
        """How many records :meth:`entries` would give with no limit."""
        where, args = self._where(kb_digest, since)
        try:
            return int(self.conn.execute("SELECT count(*) FROM records" + where, args).fetchone()[0])
        except sqlite3.Error as exc:
            raise self._error("read the records", exc) from None

    def entry(self, record_id: int) -> Entry:
        """One record, or a located error naming the ids the store does hold."""
        try:
            row = None
            if -(2**63) <= record_id < 2**63:  # beyond SQLite's integers there is no record, and no overflow
                row = self.conn.execute(
                    "SELECT id, created, source, line, kb_name, kb_version, kb_digest, cicatrix, patient FROM records"
                    " WHERE id = ?",
                    (record_id,),
                ).fetchone()
            if row is None:
                low, high, n = self.conn.execute("SELECT min(id), max(id), count(*) FROM records").fetchone()
        except sqlite3.Error as exc:
            raise self._error("read the records", exc) from None
        if row is None:
            held = "it holds no records" if not n else f"its records are {low} to {high}"
            raise CicatrixError.about(self.name, f"no record {record_id} in this store ({held})")
        return self._entry(row)

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        record_id, created, source, line, kb_name, kb_version, kb_digest, cicatrix, patient = row
        return Entry(
            id=record_id,
            recorded=created,
            source=source,
            line=line,
            kb=KbId(kb_name, kb_version, kb_digest),
            cicatrix=cicatrix,
            patient=self._json(record_id, "patient", patient),
        )

    def _blob(self, record_id: int, column: str) -> bytes:
        self.entry(record_id)  # an unknown id is reported as such
        try:
            (blob,) = self.conn.execute(f"SELECT {column} FROM records WHERE id = ?", (record_id,)).fetchone()
            return zlib.decompress(blob)
        except sqlite3.Error as exc:
            raise self._error("read the records", exc) from None
        except (zlib.error, TypeError) as exc:
            raise self._damaged(record_id, column, exc) from None

    def _damaged(self, record_id: int, what: str, exc: Exception) -> CicatrixError:
        return CicatrixError.about(self.name, f"record {record_id} is damaged: its {what} cannot be read ({exc})")

    def _json(self, record_id: int, what: str, data: str | bytes) -> Any:
        try:
            text = data.decode("utf-8", "surrogatepass") if isinstance(data, bytes) else data
            return json.loads(text)
        except (ValueError, TypeError) as exc:
            raise self._damaged(record_id, what, exc) from None

    def plan(self, record_id: int) -> str:
        """The plan, exactly as ``consult --format json`` printed it."""
        try:
            return self._blob(record_id, "plan").decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise self._damaged(record_id, "plan", exc) from None

    def trace(self, record_id: int) -> dict[str, Any]:
        """The trace, as ``consult --trace`` wrote it (parsed), put back together member by member."""
        members = self._json(record_id, "trace", self._blob(record_id, "trace"))
        trace: dict[str, Any] = {}
        try:
            for member in members:
                name, how = member[0], member[1]
                if how == "value":
                    trace[name] = member[2]
                elif how == "plan":
                    trace[name] = self._json(record_id, "plan", self.plan(record_id))
                else:
                    trace[name] = self._shared(record_id, member[2])
        except (IndexError, TypeError, KeyError) as exc:
            raise self._damaged(record_id, "trace", exc) from None
        return trace

    def _shared(self, record_id: int, digest: str) -> Any:
        try:
            row = self.conn.execute("SELECT body FROM parts WHERE hash = ?", (digest,)).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read the records", exc) from None
        if row is None:
            raise self._damaged(record_id, "trace", LookupError(f"part {digest[:12]} is missing"))
        try:
            return self._json(record_id, "trace", zlib.decompress(row[0]))
        except zlib.error as exc:
            raise self._damaged(record_id, "trace", exc) from None

    def integrity(self) -> list[str]:
        """SQLite's own check of the file (``PRAGMA integrity_check``): ``["ok"]`` when it is sound."""
        try:
            return [row[0] for row in self.conn.execute("PRAGMA integrity_check")]
        except sqlite3.Error as exc:
            raise self._error("check the store", exc) from None


# --- opening ---------------------------------------------------------------------


def open_store(path: Path | str, *, create: bool = True) -> Store:
    """The store at ``path``, checked, in WAL mode and migrated to the current schema.

    ``create``: a missing file becomes a new store (recording); without it a
    missing file is an error (reading). A read-only file is opened read-only,
    and works if it needs no migration. Everything that makes the file unusable
    (a folder, a device, a missing folder, not SQLite, another program's
    database, a newer cicatrix's store) is a :class:`CicatrixError` naming it,
    raised before anything is written.
    """
    name = os.fspath(path)
    if name == "":
        raise CicatrixError("--store: an empty path; give the store's file name")
    found = _stat(name)
    if found is None and not create:
        raise CicatrixError.about(
            name, "no such store; record consultations into it with --store on `cicatrix consult` or `cicatrix batch`"
        )
    if found is None:
        folder = os.path.dirname(os.path.abspath(name))
        if not os.path.isdir(folder):
            what = "is not a folder" if os.path.exists(folder) else "does not exist"
            raise CicatrixError.about(name, f"the folder {os.path.dirname(name) or folder!r} {what}")
    elif found.st_size:
        _check_header(name)
    readonly = found is not None and not os.access(name, os.W_OK)
    mode = "ro" if readonly else ("rwc" if create else "rw")
    try:
        uri = f"file:{urllib.parse.quote(os.path.abspath(name))}?mode={mode}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise CicatrixError.about(name, f"cannot open the store: {_words(exc)}") from None
    try:
        _prepare(conn, name, readonly)
    except BaseException:
        conn.close()
        raise
    return Store(conn, name)


def _stat(name: str) -> os.stat_result | None:
    try:
        found = os.stat(name)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CicatrixError.about(name, f"cannot open the store: {(exc.strerror or str(exc)).lower()}") from None
    if stat.S_ISDIR(found.st_mode):
        raise CicatrixError.about(name, "cannot use it as a store: it is a folder; give a file name inside it")
    if not stat.S_ISREG(found.st_mode):
        raise CicatrixError.about(name, "cannot use it as a store: it is not a regular file")
    return found


def _check_header(name: str) -> None:
    """Refuse, untouched, a file that is not SQLite: SQLite would only say so once asked to write."""
    try:
        with open(name, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise CicatrixError.about(name, f"cannot open the store: {(exc.strerror or str(exc)).lower()}") from None
    if head != SQLITE_MAGIC:
        raise CicatrixError.about(
            name, "not a cicatrix store: the file is not an SQLite database (it was left as it is)"
        )


def _prepare(conn: sqlite3.Connection, name: str, readonly: bool) -> None:
    """Check the file is (or can become) a store of this cicatrix, then WAL mode, then migrate."""
    try:
        conn.execute("BEGIN")  # one snapshot: another process may be making this very store a store right now
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            found = schema.version(conn)
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise CicatrixError.about(
            name, f"not a cicatrix store: SQLite cannot read it ({_words(exc)}); it was left as it is"
        ) from None
    if app != schema.APPLICATION_ID and (app or tables):
        held = f" (it has the tables {', '.join(tables[:5])})" if tables else ""
        raise CicatrixError.about(
            name, f"not a cicatrix store: an SQLite database of another program{held}; it was left as it is"
        )
    if found > schema.CURRENT:
        raise schema.newer(name, found)
    if readonly:
        if found < schema.CURRENT:
            raise CicatrixError.about(
                name,
                f"the store is at schema version {found} and needs upgrading to {schema.CURRENT}, "
                "but the file is read-only",
            )
        return
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            schema.migrate(conn, name)
            return
        except sqlite3.OperationalError as exc:
            # Two processes making one new file a store at once: SQLite answers "locked"
            # at once, without waiting, where waiting could deadlock (both holding a
            # read lock, both wanting to write). Each step is idempotent: try again.
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise CicatrixError.about(name, f"cannot prepare the store: {_words(exc)}") from None
            time.sleep(0.05)
        except sqlite3.Error as exc:
            raise CicatrixError.about(name, f"cannot prepare the store: {_words(exc)}") from None
