"""A per-user cache of validated knowledge bases, so a cold `consult` skips YAML and schemas.

Parsing and validating the knowledge base is most of a cold consultation's
start-up, yet the result depends only on the files' bytes and the code that reads
them. The validated, frozen :class:`~.model.KnowledgeBase` is therefore pickled
under a name derived from the sha256 of those bytes (the same digest plans
report), the folder, the Python version, the cicatrix version and the bytes of the
load path's code (:func:`_code_stamp`); any change to any of them misses the cache
and loads afresh. The cache lives in ``$CICATRIX_CACHE`` or ``$XDG_CACHE_HOME/cicatrix``
(``~/.cache/cicatrix``); ``CICATRIX_NO_CACHE=1`` turns it off. Authoring commands
(``kb validate``, ``lint``, ``test``) never use it: they exist to show problems.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

from .files import BUNDLED_KB, digest
from .model import KnowledgeBase

FORMAT = 1
ENGINE = Path(__file__).resolve().parent.parent
LOAD_PATH = ("common", "documents", "knowledge")  # the stages whose code builds what is cached


def cache_dir() -> Path:
    if os.environ.get("CICATRIX_CACHE"):
        return Path(os.environ["CICATRIX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
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


def load_cached(root: Path | str | None = None) -> KnowledgeBase:
    root = Path(root) if root is not None else BUNDLED_KB
    if os.environ.get("CICATRIX_NO_CACHE") or not root.is_dir():
        from .loader import load as load_fresh

        return load_fresh(root)
    wanted = digest(root)
    key = hashlib.sha256(
        f"{FORMAT}|{wanted}|{root.resolve()}|{_code_stamp()}|{sys.version_info[:2]}".encode()
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
    from ..common.errors import CicatrixError
    from ..common.files import atomic_output

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path, "wb") as handle:
            pickle.dump(kb, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, CicatrixError):  # CicatrixError: the folder vanished after mkdir
        return
