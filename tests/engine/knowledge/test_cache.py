"""The cache of loaded knowledge bases: a hit reads back an equal object, a change
of content is a miss, and a damaged entry is a miss, not an error."""

from __future__ import annotations

import shutil

from cicatrix.engine.knowledge.cache import cache_dir, load_cached
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
