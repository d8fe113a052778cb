"""Choosing the matcher a session runs on: the incremental one, or experta's own.

Compilation builds one engine class per knowledge base; which Rete matcher it
runs on is decided here, per session, so the stock matcher stays one environment
variable away when a plan looks wrong and the matcher is a suspect.
"""

from __future__ import annotations

from ..compile.compat import ReteMatcher
from .matcher import IncrementalReteMatcher

MATCHERS: dict[str, type] = {"stock": ReteMatcher, "incremental": IncrementalReteMatcher}


def matcher_name(matcher: str | None = None) -> str:
    """The matcher asked for (or ``CICATRIX_MATCHER``, or the default), checked."""
    import os

    matcher = matcher or os.environ.get("CICATRIX_MATCHER", "incremental")
    if matcher not in MATCHERS:
        from ..common.errors import CicatrixError

        raise CicatrixError.about("", f"CICATRIX_MATCHER must be one of {', '.join(MATCHERS)}, not {matcher!r}")
    return matcher


def engine_class(base: type, matcher: str | None = None) -> type:
    """``base`` (a compiled engine class) running on the chosen matcher.

    ``matcher`` is ``incremental`` (the default) or ``stock`` (experta's own,
    selectable with ``CICATRIX_MATCHER=stock`` to rule the matcher out when a plan
    looks wrong). One subclass per pair, so sessions of one process share it.
    """
    matcher = matcher_name(matcher)
    # Kept on the compiled class itself, so it goes when the compiled knowledge base goes.
    cache = base.__dict__.get("cx_with_matcher")
    if cache is None:
        cache = {}
        base.cx_with_matcher = cache
    found = cache.get(matcher)
    if found is None:
        found = cache[matcher] = type(base.__name__, (base,), {"__matcher__": MATCHERS[matcher]})
    return found
