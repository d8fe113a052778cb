"""A per-user cache of validated knowledge bases, so a cold `consult` skips YAML and schemas.

Parsing and validating the knowledge base is most of a cold consultation's
start-up, yet the result depends only on the files' bytes. The validated,
frozen :class:`~engine.model.KnowledgeBase` is therefore pickled under a name
derived from the sha256 of those bytes (the same digest plans report) and this
cicatrix version; any change to any file, or to cicatrix, misses the cache and
loads afresh. The cache lives in ``$CICATRIX_CACHE`` or ``$XDG_CACHE_HOME/cicatrix``
(``~/.cache/cicatrix``); ``CICATRIX_NO_CACHE=1`` turns it off. Authoring commands
(``kb validate``, ``lint``, ``test``) never use it: they exist to show problems.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

from .files import BUNDLED_KB, digest
from .model import KnowledgeBase

FORMAT = 1


def cache_dir() -> Path:
    if os.environ.get("CICATRIX_CACHE"):
        return Path(os.environ["CICATRIX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cicatrix"


def _model_stamp() -> str:
    """What the pickled objects are made of: a new cicatrix with other classes misses."""
    from . import model

    return hashlib.sha256(Path(model.__file__).read_bytes()).hexdigest()[:16]


def load_cached(root: Path | str | None = None) -> KnowledgeBase:
    root = Path(root) if root is not None else BUNDLED_KB
    if os.environ.get("CICATRIX_NO_CACHE") or not root.is_dir():
        from .loader import load as load_fresh

        return load_fresh(root)
    wanted = digest(root)
    key = hashlib.sha256(
        f"{FORMAT}|{wanted}|{root.resolve()}|{_model_stamp()}|{sys.version_info[:2]}".encode()
    ).hexdigest()[:32]
    path = cache_dir() / f"kb-{key}.pickle"
    try:
        with path.open("rb") as handle:
            kb = pickle.load(handle)
        if isinstance(kb, KnowledgeBase) and kb.digest == wanted:
            return kb
    except Exception:
        pass
    from .loader import load as load_fresh

    kb = load_fresh(root)
    _store(path, kb)
    return kb


def _store(path: Path, kb: KnowledgeBase) -> None:
    """Best effort: a read-only home or a full disk must not break a consultation."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".kb-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(kb, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        return
