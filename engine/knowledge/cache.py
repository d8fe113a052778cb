"""A per-user cache of validated knowledge bases, so a cold `consult` skips YAML and schemas.

Parsing and validating the knowledge base is most of a cold consultation's
start-up, yet the result depends only on the files' bytes and the code that reads
them. The validated, frozen :class:`~.model.KnowledgeBase` is therefore stored
under a name derived from the sha256 of those bytes (the same digest plans
report), the folder, the Python version, the cicatrix version and the bytes of the
load path's code (:func:`_code_stamp`); any change to any of them misses the cache
and loads afresh. ``CICATRIX_NO_CACHE=1`` turns it off. Authoring commands
(``kb validate``, ``lint``, ``test``) never use it: they exist to show problems.

Entries are pickles, because unpickling is far faster than loading the YAML
again (5 ms against 370 ms for the bundled knowledge base), and unpickling runs
whatever code the bytes ask for. So nothing reaches the unpickler unless it is
authenticated: an entry is ``MAGIC``, the format, an HMAC-SHA256 and the pickle,
and the MAC (over the header, the entry's name and the pickle) is checked with
:func:`hmac.compare_digest` before :func:`pickle.loads` sees a byte. The MAC's
key is 32 random bytes made once per user and kept in the cache folder in a file
only the user can read (``0600``). It guards the integrity of the entries, not
their secrecy: only someone who can read the key (this user, or root) can make
an entry that loads, so a file planted in the cache folder, or one of ours
altered, fails the check, is ignored (and removed when it is ours) and the
knowledge base loads afresh.

Ownership and permissions are checked too, where the platform has them (not on
Windows, whose per-user ``%LOCALAPPDATA%`` is not shared): a cache folder that
the user does not own or that group or others may write to is not used at all
(the folder is made ``0700``); nor is a key file that is not the user's or that
others may read; an entry the user does not own is never read. In each case the
consultation goes on without the cache.

The cache lives in ``$CICATRIX_CACHE`` if set, else the platform's cache folder
(:func:`cache_dir`). After each store, cache files beyond ``MAX_FILES`` or
``MAX_BYTES`` (newest kept) or unused for ``MAX_AGE`` seconds are deleted; only
names this module makes are touched, and only the first ``MAX_SCAN`` names of
the folder are looked at. Storing is best effort: a full disk or a read-only
folder leaves no partial file (:func:`~..common.files.atomic_output`) and never
fails a consultation.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import re
import stat
import sys
import time
from pathlib import Path

from .files import BUNDLED_KB, digest
from .model import KnowledgeBase

FORMAT = 2  # 1: a bare pickle, read without any check
MAGIC = b"cicatrix-kb\0"
HEADER = MAGIC + FORMAT.to_bytes(2, "big")
MAC_BYTES = 32  # HMAC-SHA256
KEY_FILE = "cache.key"
KEY_BYTES = 32
ENGINE = Path(__file__).resolve().parent.parent
LOAD_PATH = ("common", "documents", "knowledge")  # the stages whose code builds what is cached

MAX_FILES = 20
MAX_BYTES = 200 * 1024 * 1024
MAX_AGE = 30 * 24 * 3600  # seconds unused; a hit refreshes the file's mtime
MAX_SCAN = 1000  # names of the folder looked at when evicting
TOUCH_AFTER = 3600  # a hit marks the entry as used at most once an hour
STRAY_AGE = 24 * 3600  # a temporary file left by a killed writer

ENTRY = re.compile(r"kb-[0-9a-f]{32}\.cache\Z")
OLD_ENTRY = re.compile(r"kb-[0-9a-f]{32}\.pickle\Z")  # format 1: never read, only removed
STRAY = re.compile(r"\.(kb-[0-9a-f]{32}\.cache\.|key-[0-9a-f]{16}\.).*tmp\Z")

_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def cache_dir() -> Path:
    """``$CICATRIX_CACHE`` if set, else the platform's per-user cache folder."""
    if os.environ.get("CICATRIX_CACHE"):
        return Path(os.environ["CICATRIX_CACHE"])
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "cicatrix" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cicatrix"
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is to be ignored
        base = str(Path.home() / ".cache")
    return Path(base) / "cicatrix"


def _code_stamp(engine: Path = ENGINE) -> str:
    """What made the cached objects: this cicatrix version and the code of the load path.

    The pickled knowledge base is built by the modules of the stages before
    compilation (``common``, ``documents``, ``knowledge``); a change to any of them,
    even one that keeps the class definitions, may build other objects, so their
    bytes are part of the key, with the package version beside them.
    """
    from .. import __version__

    h = hashlib.sha256(__version__.encode())
    for stage in LOAD_PATH:
        for module in sorted((engine / stage).glob("*.py")):
            h.update(module.name.encode() + b"\0" + module.read_bytes())
    return h.hexdigest()[:16]


def _entry_name(root: Path, wanted: str) -> str:
    """The file name of the entry for the knowledge base in ``root`` whose digest is ``wanted``."""
    key = hashlib.sha256(
        f"{FORMAT}|{wanted}|{root.resolve()}|{_code_stamp()}|{sys.version_info[:2]}".encode()
    ).hexdigest()[:32]
    return f"kb-{key}.cache"


def load_cached(root: Path | str | None = None) -> KnowledgeBase:
    root = Path(root) if root is not None else BUNDLED_KB
    if os.environ.get("CICATRIX_NO_CACHE") or not root.is_dir():
        return _load_fresh(root)
    wanted = digest(root)
    folder = _folder()
    key = _key(folder) if folder is not None else None
    if folder is None or key is None:
        return _load_fresh(root)  # no trustworthy place for a cache: go without
    path = folder / _entry_name(root, wanted)
    kb = _read(path, key, wanted)
    if kb is not None:
        return kb
    kb = _load_fresh(root)
    _store(path, key, kb)
    return kb


def _load_fresh(root: Path) -> KnowledgeBase:
    from .loader import load

    return load(root)


# --- trust: owner and permissions ------------------------------------------------------


def _uid() -> int | None:
    """The current user's id, or None where the platform has none (Windows)."""
    return os.getuid() if hasattr(os, "getuid") else None


def _trusted(st: os.stat_result, forbidden: int = 0) -> bool:
    """Whether a file is the current user's and has none of the ``forbidden`` permission bits."""
    uid = _uid()
    if uid is None:
        return True  # no owners or modes to check; the MAC still guards every entry
    return st.st_uid == uid and not st.st_mode & forbidden


def _folder() -> Path | None:
    """The cache folder, made ``0700`` if missing; None if it cannot be trusted."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or not _trusted(st, stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder


def _key(folder: Path) -> bytes | None:
    """This user's secret key, made on first use; None if the key file cannot be trusted."""
    path = folder / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        return _make_key(folder, path)
    except OSError:  # a read-only or full disk, or no hard links: go without a cache
        return None


def _read_key(path: Path) -> bytes | None:
    fd = os.open(path, _OPEN)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size != KEY_BYTES:
            return None
        if not _trusted(st, stat.S_IRWXG | stat.S_IRWXO):
            return None
        key = handle.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None


def _make_key(folder: Path, path: Path) -> bytes | None:
    """Write a new key to a private file, then link it into place: readers never see half a key."""
    import secrets

    key = secrets.token_bytes(KEY_BYTES)
    tmp = folder / f".key-{secrets.token_hex(8)}.tmp"
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if the key exists: one key, whoever came first
        except FileExistsError:
            return _read_key(path)  # another process made it meanwhile
        return key
    finally:
        tmp.unlink(missing_ok=True)


# --- entries ---------------------------------------------------------------------------


def _mac(key: bytes, name: str, payload: bytes | memoryview) -> bytes:
    h = hmac.new(key, HEADER + name.encode() + b"\0", hashlib.sha256)
    h.update(payload)
    return h.digest()


def _read(path: Path, key: bytes, wanted: str) -> KnowledgeBase | None:
    """The entry at ``path`` if it is ours and authentic, else None (a forged or damaged one is removed)."""
    try:
        fd = os.open(path, _OPEN)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or not _trusted(st) or st.st_size > MAX_BYTES:
                return None  # not the user's: never read, never removed
            blob = memoryview(handle.read())
    except OSError:
        return None
    start = len(HEADER) + MAC_BYTES
    if (
        len(blob) < start
        or blob[: len(HEADER)] != HEADER
        or not hmac.compare_digest(blob[len(HEADER) : start], _mac(key, path.name, blob[start:]))
    ):
        _discard(path)
        return None
    try:  # authentic: this user's cicatrix wrote it
        kb = pickle.loads(blob[start:])
    except Exception:  # e.g. a class renamed by an edit the code stamp cannot see
        kb = None
    if not isinstance(kb, KnowledgeBase) or kb.digest != wanted:
        _discard(path)
        return None
    if time.time() - st.st_mtime > TOUCH_AFTER:
        with contextlib.suppress(OSError):
            os.utime(path)  # used: eviction goes by the time of last use
    return kb


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _store(path: Path, key: bytes, kb: KnowledgeBase) -> None:
    """Best effort: a read-only folder or a full disk must not break a consultation."""
    from ..common.files import atomic_output

    try:
        payload = pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_output(path, "wb") as handle:  # a failure half-way leaves no file
            handle.write(HEADER)
            handle.write(_mac(key, path.name, payload))
            handle.write(payload)
    except Exception:  # OSError, the folder vanished (CicatrixError), an unpicklable object
        return
    _evict(path.parent, keep=path.name)


def _evict(folder: Path, keep: str = "") -> None:
    """Delete the oldest cache files beyond the limits, and format-1 files and stray temporaries."""
    now = time.time()
    entries: list[tuple[float, int, str]] = []
    doomed: list[str] = []
    try:
        with os.scandir(folder) as names:
            for seen, entry in enumerate(names):
                if seen >= MAX_SCAN:
                    break
                name = entry.name
                kind = ENTRY.match(name) or OLD_ENTRY.match(name) or STRAY.match(name)
                if not kind:
                    continue
                st = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode) or not _trusted(st):
                    continue
                if kind.re is ENTRY:
                    entries.append((st.st_mtime, st.st_size, name))
                elif kind.re is OLD_ENTRY or now - st.st_mtime > STRAY_AGE:
                    doomed.append(name)
    except OSError:
        return
    entries.sort(key=lambda e: (e[2] != keep, -e[0]))  # the one just stored first, then newest first
    size = 0
    for count, (mtime, nbytes, name) in enumerate(entries, 1):
        size += nbytes
        if count > MAX_FILES or size > MAX_BYTES or now - mtime > MAX_AGE:
            doomed.append(name)
    for name in doomed:
        _discard(folder / name)
