"""Small helpers the tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session


def consult(kb_dir: Path, data: dict[str, Any]):
    """Load a knowledge base, consult one patient, return (result, firings)."""
    kb = load(kb_dir)
    session = Session(kb)
    patient = from_data(data, kb)
    result = plan(session, patient)
    return result, result.consultation.firings


def fired(firings) -> list[str]:
    return [f.rule for f in firings]
