"""The cache of loaded knowledge bases: a hit reads back an equal object, a change
of content is a miss, and a damaged entry is a miss, not an error."""

from __future__ import annotations

import shutil
from pathlib import Path

from cicatrix.engine.knowledge.cache import LOAD_PATH, _code_stamp, cache_dir, load_cached
from cicatrix.engine.knowledge.loader import load

from ...conftest import REPO


def test_knowledge_base_cache_hits_and_misses(tmp_path, monkeypatch):
    monkeypatch.setenv("CICATRIX_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "kb"
    shutil.copytree(REPO / "kb", copy)
    first = load_cached(copy)
    assert len(list(cache_dir().glob("kb-*.pickle"))) == 1
    again = load_cached(copy)
    assert again == first and again is not first  # read back from the cache
    rules = copy / "rules" / "50-home-care.yaml"
    rules.write_text(rules.read_text().replace("Hydration with a gentle moisturiser", "Hydration, always"))
    changed = load_cached(copy)
    assert changed.digest != first.digest
    assert changed == load(copy)
    for entry in cache_dir().glob("kb-*.pickle"):
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
    assert len(list(cache_dir().glob("kb-*.pickle"))) == 2  # a second key: the old entry is not read
