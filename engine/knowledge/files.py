"""Where a knowledge base lives on disk, which files make it, and its digest.

Both the loader (which reports the digest in every plan) and the cache (which
keys on it) need the same answer; keeping it here lets the cache import the
loader without the loader importing the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

BUNDLED_KB = Path(__file__).resolve().parent.parent.parent / "kb"


PLAN_FILE = "plan.yaml"  # optional: without it a plan groups problems but schedules no course


def knowledge_files(root: Path) -> list[Path]:
    """The files a knowledge base is made of, in the order the digest reads them.

    The manifest, templates and catalogue come first, then ``plan.yaml`` when the
    knowledge base has one, then the rule files.
    """
    rules = sorted((root / "rules").glob("*.yaml")) if (root / "rules").is_dir() else []
    plan = [root / PLAN_FILE] if (root / PLAN_FILE).is_file() else []
    return [root / "kb.yaml", root / "templates.yaml", root / "treatments.yaml", *plan, *rules]


def digest_of(parts: Iterable[tuple[str, bytes]]) -> str:
    """The knowledge base's digest from (relative path, bytes) pairs in file order.

    The one definition: the loader feeds it the bytes it already read, the cache
    the bytes it reads to look for a stored copy, and plans report it.
    """
    h = hashlib.sha256()
    for name, raw in parts:
        h.update(name.encode() + b"\0" + raw + b"\0")
    return "sha256:" + h.hexdigest()


def digest(root: Path) -> str:
    """The digest of the knowledge base in ``root`` (unreadable files are left out)."""
    from ..common.errors import CicatrixError
    from ..documents.limits import read_bytes

    parts = []
    for path in knowledge_files(root):
        try:  # bounded: a file too large (or endless) is reported when the KB loads
            parts.append((path.relative_to(root).as_posix(), read_bytes(path)))
        except CicatrixError:
            continue
    return digest_of(parts)
