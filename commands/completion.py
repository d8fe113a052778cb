"""Shell completion of the values people type: example names, rule ids, treatment ids.

click completes commands, options and paths by itself (``_CICATRIX_COMPLETE``, see the
README); these callbacks add the knowledge base's own words. They run on every Tab,
so they load the knowledge base through the cache, honour ``--kb`` when it was typed
before the value, and never fail: a broken knowledge base completes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem


def _kb(ctx: click.Context) -> Any:
    from ..engine.knowledge.cache import load_cached

    root = None
    while ctx is not None and root is None:
        root = ctx.params.get("kb_dir")
        ctx = ctx.parent  # type: ignore[assignment]
    try:
        return load_cached(Path(root) if root else None)
    except Exception:  # completion must never print a traceback into the shell
        return None


def examples(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from .examples import available

    return [CompletionItem(name) for name in available() if name.startswith(incomplete)]


def rules(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    kb = _kb(ctx)
    if kb is None:
        return []
    return [CompletionItem(r.id, help=r.title) for r in kb.rules if r.id.startswith(incomplete)]


def treatments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    kb = _kb(ctx)
    if kb is None:
        return []
    return [CompletionItem(t.id, help=t.title) for t in kb.treatments.values() if t.id.startswith(incomplete)]


def fail_on(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``kb impact --fail-on``: a kind (``removed:``), then the ids of the knowledge bases compared."""
    from ..engine.authoring.impact import KINDS, known_ids

    kind, sep, rest = incomplete.partition(":")
    if not sep:
        return [CompletionItem(f"{k}:", help=KINDS[k]) for k in KINDS if k.startswith(kind)]
    ids: set[str] = set()
    for kb in (_kb(ctx), _kb_at(ctx.params.get("from_kb"))):
        if kb is not None:
            options, alerts = known_ids(kb)
            ids |= alerts if kind.startswith("alert-") else options
    return [CompletionItem(f"{kind}:{i}") for i in sorted(ids) if i.startswith(rest)]


def _kb_at(root: Any) -> Any:
    from ..engine.knowledge.cache import load_cached

    if root is None:
        return None
    try:
        return load_cached(Path(root))
    except Exception:  # completion must never print a traceback into the shell
        return None
