"""Values derived from a long-lived object, made once per object.

Resolving a plan asks the same questions of a knowledge base for every patient
(which names its catalogue uses, which entries an ordering rule selects, which
documents a set of rules cites), and the answers depend on the knowledge base
alone. Knowledge bases are not hashable (they hold dicts), so derived values are
kept by identity; the object itself is held beside them, so an id that Python
reuses after the object is gone can never return another object's values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# How many (object, derivation) pairs are kept; past that the memory starts again.
LIMIT = 32
_HELD: dict[tuple[int, Callable[[Any], Any]], tuple[Any, Any]] = {}


def derived(obj: T, make: Callable[[T], R]) -> R:
    """``make(obj)``, made on the first call for this object and remembered."""
    key = (id(obj), make)
    held = _HELD.get(key)
    if held is None or held[0] is not obj:
        if len(_HELD) >= LIMIT:
            _HELD.clear()
        held = _HELD[key] = (obj, make(obj))
    return held[1]  # type: ignore[no-any-return]
