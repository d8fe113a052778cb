"""The cache of loaded knowledge bases: a hit reads back an equal object, a change
of content is a miss, and a damaged entry is a miss, not an error. Nothing in the
cache folder is unpickled unless this user's key authenticates it, and a folder,
key or entry that others could have written is not used."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from cicatrix.engine.common import files
from cicatrix.engine.knowledge import cache, loader
from cicatrix.engine.knowledge.cache import LOAD_PATH, _code_stamp, _entry_name, cache_dir, load_cached
from cicatrix.engine.knowledge.files import digest
from cicatrix.engine.knowledge.loader import load

from ...conftest import REPO


def test_knowledge_base_cache_hits_and_misses(tmp_path, monkeypatch):
    monkeypatch.setenv("CICATRIX_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    first = load_cached(copy)
    assert len(list(cache_dir().glob("kb-*.cache"))) == 1
    again = load_cached(copy)
    assert again == first and again is not first  # read back from the cache
    rules = copy / "rules" / "50-home-care.yaml"
    rules.write_text(rules.read_text().replace("Hydration with a gentle moisturiser", "Hydration, always"))
    changed = load_cached(copy)
    assert changed.digest != first.digest
    assert changed == load(copy)
    for entry in cache_dir().glob("kb-*.cache"):
        entry.write_bytes(b"damaged")
    assert load_cached(copy) == changed  # a damaged entry is a miss, not an error


def _fake_engine(root, files):
    for stage in LOAD_PATH:
        (root / stage).mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_the_key_covers_the_code_that_builds_the_cached_objects(tmp_path):
    engine = _fake_engine(tmp_path, {"knowledge/loader.py": "A = 1\n", "common/errors.py": "B = 1\n"})
    before = _code_stamp(engine)
    assert _code_stamp(engine) == before
    (engine / "knowledge" / "loader.py").write_text("A = 2\n")  # an upgrade changes the loader
    assert _code_stamp(engine) != before
    after_loader = _code_stamp(engine)
    (engine / "documents" / "yamlio.py").write_text("C = 1\n")  # a new module on the load path
    assert _code_stamp(engine) != after_loader


def test_code_outside_the_load_path_does_not_invalidate_the_cache(tmp_path):
    engine = _fake_engine(tmp_path, {"knowledge/loader.py": "A = 1\n"})
    before = _code_stamp(engine)
    (engine / "resolve").mkdir()
    (engine / "resolve" / "resolver.py").write_text("X = 1\n")
    assert _code_stamp(engine) == before


def test_the_real_load_path_is_what_builds_the_knowledge_base():
    from cicatrix.engine.knowledge import loader

    assert set(LOAD_PATH) == {"common", "documents", "knowledge"}
    imported = {m.split(".")[2] for m in _engine_imports(loader.__file__)}
    assert imported <= set(LOAD_PATH), f"the loader now needs {imported - set(LOAD_PATH)}: add it to LOAD_PATH"


def _engine_imports(path):
    import ast

    out = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
            out.add(f"cicatrix.engine.{node.module}")
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            out.add("cicatrix.engine.knowledge")
    return out


def test_a_stale_entry_from_other_code_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("CICATRIX_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    load_cached(copy)
    monkeypatch.setattr("cicatrix.engine.knowledge.cache._code_stamp", lambda: "another-version")
    load_cached(copy)
    assert len(list(cache_dir().glob("kb-*.cache"))) == 2  # a second key: the old entry is not read


# --- security: nothing unauthenticated reaches the unpickler ----------------------------------

needs_owners = pytest.mark.skipif(not hasattr(os, "getuid"), reason="no file owners or modes on this platform")


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory):
    """A copy of the bundled knowledge base and its fresh load, shared by the tests below (none edits it)."""
    copy = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(REPO / "kb", copy)
    return copy, load(copy)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("CICATRIX_CACHE", str(path))
    monkeypatch.delenv("CICATRIX_NO_CACHE", raising=False)
    return path


@pytest.fixture
def fresh_loads(monkeypatch):
    """How many times the knowledge base was loaded from its YAML (not from the cache)."""
    calls = []
    real = loader.load

    def counting(root=None):
        calls.append(root)
        return real(root)

    monkeypatch.setattr(loader, "load", counting)
    return calls


@pytest.fixture
def unpickled(monkeypatch):
    """Every payload the cache handed to the unpickler."""
    calls = []
    real = pickle.loads

    def spying(data, *args, **kwargs):
        calls.append(bytes(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(pickle, "loads", spying)
    return calls


class Planted:
    """What an attacker would leave in the cache folder: unpickling it creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_hit_returns_an_equal_knowledge_base_without_loading_it_again(kb_copy, folder, fresh_loads):
    copy, expected = kb_copy
    first = load_cached(copy)
    assert first == expected and len(fresh_loads) == 1
    again = load_cached(copy)
    assert again == expected and again is not first
    assert len(fresh_loads) == 1  # the second load came from the cache
    (entry,) = folder.glob("kb-*.cache")
    assert entry.read_bytes().startswith(cache.HEADER)


@pytest.mark.parametrize("forgery", ["bare pickle", "forged header", "another key", "genuine header and mac"])
def test_a_planted_pickle_is_never_unpickled(kb_copy, folder, fresh_loads, tmp_path, forgery):
    copy, expected = kb_copy
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Planted(marker))
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(Planted(probe)))
    assert probe.exists()  # the planted object does run code when unpickled: the test can go red
    name = _entry_name(copy, digest(copy))
    if forgery == "genuine header and mac":  # a real entry of ours with its pickle swapped
        load_cached(copy)
        genuine = (folder / name).read_bytes()
        assert genuine.startswith(cache.HEADER)
        planted = genuine[: len(cache.HEADER) + cache.MAC_BYTES] + evil
        fresh_loads.clear()
    else:
        folder.mkdir(mode=0o700)
        planted = {
            "bare pickle": evil,  # the old format
            "forged header": cache.HEADER + b"\0" * cache.MAC_BYTES + evil,
            "another key": cache.HEADER + cache._mac(b"k" * cache.KEY_BYTES, name, evil) + evil,
        }[forgery]
    (folder / name).write_bytes(planted)
    assert load_cached(copy) == expected
    assert not marker.exists()
    assert len(fresh_loads) == 1  # loaded afresh
    assert (folder / name).read_bytes() != planted  # removed, and a genuine entry stored in its place
    assert load_cached(copy) == expected and len(fresh_loads) == 1
    assert not marker.exists()


@needs_owners
def test_an_entry_the_user_does_not_own_is_never_read(kb_copy, folder, fresh_loads, unpickled, monkeypatch):
    copy, expected = kb_copy
    load_cached(copy)
    (entry,) = folder.glob("kb-*.cache")
    foreign = entry.stat().st_ino
    real = cache._trusted
    monkeypatch.setattr(cache, "_trusted", lambda st, forbidden=0: st.st_ino != foreign and real(st, forbidden))
    unpickled.clear()
    assert load_cached(copy) == expected
    assert len(fresh_loads) == 2 and unpickled == []  # not read: loaded afresh
    assert entry.exists()


@needs_owners
@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_cache_folder_others_can_write_to_is_not_used(kb_copy, folder, fresh_loads, mode):
    copy, expected = kb_copy
    folder.mkdir()
    folder.chmod(mode)
    assert load_cached(copy) == expected
    assert load_cached(copy) == expected
    assert len(fresh_loads) == 2  # no cache: loaded afresh each time
    assert _files(folder) == []  # nothing written there, not even a key
    assert folder.stat().st_mode & 0o777 == mode  # and the folder is left as it was


@needs_owners
def test_a_cache_folder_the_user_does_not_own_is_not_used(kb_copy, folder, fresh_loads, monkeypatch):
    copy, expected = kb_copy
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(cache, "_uid", lambda: os.getuid() + 1)
    assert load_cached(copy) == expected
    assert load_cached(copy) == expected
    assert len(fresh_loads) == 2
    assert _files(folder) == []


@needs_owners
def test_the_folder_and_the_key_are_private(kb_copy, tmp_path, monkeypatch):
    folder = tmp_path / "home" / ".cache" / "cicatrix"
    monkeypatch.setenv("CICATRIX_CACHE", str(folder))
    load_cached(kb_copy[0])
    assert folder.stat().st_mode & 0o777 == 0o700
    key = folder / cache.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_bytes()) == cache.KEY_BYTES
    assert sorted(_files(folder)) == sorted([cache.KEY_FILE, next(folder.glob("kb-*.cache")).name])


@needs_owners
@pytest.mark.parametrize("spoil", ["readable by others", "not the user's", "a symlink"])
def test_a_key_that_others_could_know_is_not_used(kb_copy, folder, fresh_loads, unpickled, monkeypatch, spoil):
    copy, expected = kb_copy
    load_cached(copy)
    key = folder / cache.KEY_FILE
    if spoil == "readable by others":
        key.chmod(0o644)
    elif spoil == "not the user's":
        foreign = key.stat().st_ino
        real = cache._trusted
        monkeypatch.setattr(cache, "_trusted", lambda st, forbidden=0: st.st_ino != foreign and real(st, forbidden))
    else:
        elsewhere = folder.parent / "elsewhere.key"
        key.rename(elsewhere)
        key.symlink_to(elsewhere)
    unpickled.clear()
    assert load_cached(copy) == expected
    assert len(fresh_loads) == 2 and unpickled == []  # without a trusted key nothing is read


def test_a_cache_stays_bounded(folder, monkeypatch):
    folder.mkdir(mode=0o700)
    now = time.time()
    entries = [f"kb-{i:032x}.cache" for i in range(6)]
    for age, name in enumerate(entries):  # entries[0] newest
        (folder / name).write_bytes(b"x" * 10)
        os.utime(folder / name, (now - age * 60, now - age * 60))
    unused = folder / f"kb-{99:032x}.cache"
    unused.write_bytes(b"x")
    os.utime(unused, (now - cache.MAX_AGE - 60,) * 2)
    old_format = folder / f"kb-{7:032x}.pickle"
    old_format.write_bytes(b"x")
    stray = folder / f".kb-{8:032x}.cache.abc123.tmp"
    stray.write_bytes(b"x")
    os.utime(stray, (now - cache.STRAY_AGE - 60,) * 2)
    writing = folder / f".kb-{9:032x}.cache.def456.tmp"  # another process is writing it now
    writing.write_bytes(b"x")
    others = ["cache.key", "notes.txt", "kb-other.cache"]
    for name in others:
        (folder / name).write_bytes(b"x" * 1000)
    monkeypatch.setattr(cache, "MAX_FILES", 4)
    cache._evict(folder, keep=entries[5])  # the one just stored counts as the newest
    assert _files(folder) == sorted([*others, *entries[:3], entries[5], writing.name])
    monkeypatch.setattr(cache, "MAX_BYTES", 25)
    cache._evict(folder)
    assert _files(folder) == sorted([*others, *entries[:2], writing.name])


def test_eviction_looks_at_a_bounded_number_of_names(folder, monkeypatch):
    folder.mkdir(mode=0o700)
    for i in range(5):
        (folder / f"kb-{i:032x}.cache").write_bytes(b"x")
    monkeypatch.setattr(cache, "MAX_FILES", 1)
    monkeypatch.setattr(cache, "MAX_SCAN", 0)
    cache._evict(folder)
    assert len(_files(folder)) == 5  # nothing looked at, nothing removed
    monkeypatch.setattr(cache, "MAX_SCAN", 1000)
    cache._evict(folder)
    assert len(_files(folder)) == 1


def test_storing_evicts_old_entries(kb_copy, folder, monkeypatch):
    folder.mkdir(mode=0o700)
    for i in range(3):
        (folder / f"kb-{i:032x}.cache").write_bytes(b"x")
        os.utime(folder / f"kb-{i:032x}.cache", (time.time() - 60 * (i + 1),) * 2)
    monkeypatch.setattr(cache, "MAX_FILES", 2)
    load_cached(kb_copy[0])
    stored = _entry_name(kb_copy[0], digest(kb_copy[0]))
    assert sorted(p.name for p in folder.glob("kb-*.cache")) == sorted([stored, f"kb-{0:032x}.cache"])


class _FullDisk:
    """A file handle on a disk that fills up after the first write."""

    def __init__(self, handle):
        self.handle = handle
        self.writes = 0

    def write(self, data):
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_a_store_that_fails_half_way_leaves_no_file(kb_copy, folder, fresh_loads, monkeypatch):
    copy, expected = kb_copy
    real = files.atomic_output

    @contextmanager
    def filling(path, mode="w", **kwargs):
        with real(path, mode, **kwargs) as handle:
            yield _FullDisk(handle)

    monkeypatch.setattr(files, "atomic_output", filling)
    assert load_cached(copy) == expected  # the consultation goes on
    assert _files(folder) == [cache.KEY_FILE]  # no entry, no temporary file
    monkeypatch.setattr(files, "atomic_output", real)
    assert load_cached(copy) == expected and len(fresh_loads) == 2
    assert load_cached(copy) == expected and len(fresh_loads) == 2  # stored this time


@needs_owners
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_cache_folder_does_not_break_loading(kb_copy, folder, fresh_loads):
    copy, expected = kb_copy
    folder.mkdir(mode=0o700)
    load_cached(copy)  # the key and an entry
    for entry in folder.glob("kb-*.cache"):
        entry.unlink()
    folder.chmod(0o500)
    try:
        assert load_cached(copy) == expected
        assert _files(folder) == [cache.KEY_FILE]
    finally:
        folder.chmod(0o700)


def test_no_cache_turns_it_off(kb_copy, folder, fresh_loads, monkeypatch):
    monkeypatch.setenv("CICATRIX_NO_CACHE", "1")
    assert load_cached(kb_copy[0]) == kb_copy[1]
    assert load_cached(kb_copy[0]) == kb_copy[1]
    assert len(fresh_loads) == 2
    assert not folder.exists()


def test_the_cache_folder_follows_the_platform(tmp_path, monkeypatch):
    monkeypatch.delenv("CICATRIX_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    monkeypatch.setattr(sys, "platform", "linux")
    assert cache_dir() == Path("/var/cache/me/cicatrix")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_dir() == tmp_path / ".cache" / "cicatrix"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / ".cache" / "cicatrix"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache_dir() == tmp_path / "Library" / "Caches" / "cicatrix"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "AppData" / "Local"))
    assert cache_dir() == tmp_path / "AppData" / "Local" / "cicatrix" / "Cache"
    monkeypatch.setenv("CICATRIX_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
