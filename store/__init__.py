"""The consultation store: every consultation recorded, to list, show and export later.

Persistence, not a pipeline stage: like ``render/``, this package sits beside the
engine and may use it; nothing in ``engine/`` imports it. The one backend is an
embedded SQLite file (:mod:`.sqlite`), with a versioned schema and its
migrations (:mod:`.schema`).

Writing (``consult --store``, ``batch --store``)::

    with open_store(path) as store:
        store.add(consultation(kb, result, result_json, plan_text, source))

Reading (``cicatrix history``, or anything that takes a store as a cohort)::

    with open_store(path, create=False) as store:
        for entry in store.entries(kb_digest=None, since=None):
            entry.id, entry.patient, entry.kb.digest, entry.where
        store.plan(entry.id)   # the plan JSON text, as `consult --format json` printed it
        store.trace(entry.id)  # the trace, as `consult --trace` wrote it (a dict)
"""

from __future__ import annotations

from typing import Any

from .schema import CURRENT as SCHEMA_VERSION
from .sqlite import Consultation, Encoded, Entry, KbId, Store, digest_prefix, encode, open_store

__all__ = [
    "SCHEMA_VERSION",
    "Consultation",
    "Encoded",
    "Entry",
    "KbId",
    "Store",
    "consultation",
    "digest_prefix",
    "encode",
    "open_store",
]


def consultation(
    kb: Any, result: Any, result_json: dict[str, Any], plan: str, source: str, line: int | None = None
) -> Consultation:
    """What a finished consultation is recorded as: the very plan and trace the commands would write.

    ``plan`` is the text ``consult --format json`` prints (the caller renders it,
    so the store never depends on a renderer). ``source`` is the patient file, or
    with ``line`` a batch input and the record's line in it; the trace's
    ``patient_file`` names it as ``consult --trace`` would (``input:line`` for a
    batch record).
    """
    from ..engine import __version__
    from ..engine.explain.tracefile import to_dict as trace_dict

    assert result.consultation is not None
    return Consultation(
        source=source,
        line=line,
        patient=result_json["patient"],
        kb=KbId(kb.name, kb.version, kb.digest),
        plan=plan,
        trace=trace_dict(kb, result.consultation, result_json, source if line is None else f"{source}:{line}"),
        cicatrix=__version__,
    )
