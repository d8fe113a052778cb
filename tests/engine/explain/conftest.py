"""Traces the plan explanations question: consultations whose exclusions are scoped to some
items only (the knowledge base's edge cases P02, P03 and P04), written once per session."""

from __future__ import annotations

import json

import pytest

from cicatrix.cli import main

SCOPED = {
    # punch excision is ruled out for the back problem only, and stays an alternative on the face
    "keloid-two-sites": {
        "patient": {"keloid_history": True, "downtime_days": 10},
        "scars": [
            {"type": "boxcar", "site": "back", "count": 3, "depth": "deep"},
            {"type": "ice_pick", "site": "cheeks", "count": 3, "depth": "deep"},
        ],
    },
    # the same scoped avoid covers the only problem: punch excision is avoided outright
    "keloid-one-site": {
        "patient": {"keloid_history": True, "downtime_days": 10},
        "scars": [{"type": "boxcar", "site": "back", "count": 3, "depth": "deep"}],
    },
    # subcision is left out for the face (visible downtime) and chosen for the back
    "no-downtime-two-sites": {
        "patient": {"downtime_days": 0},
        "scars": [{"type": "rolling", "site": "cheeks", "count": 6}, {"type": "rolling", "site": "back", "count": 6}],
    },
    # the scoped leave-out covers the only problem: TCA CROSS is left out outright
    "no-downtime-one-site": {
        "patient": {"downtime_days": 0},
        "scars": [{"type": "ice_pick", "site": "cheeks", "count": 4, "depth": "deep"}],
    },
}


@pytest.fixture(scope="session")
def scoped(tmp_path_factory):
    """name -> the path of its trace, written through the command line."""
    folder = tmp_path_factory.mktemp("scoped")
    out = {}
    for name, patient in SCOPED.items():
        source, target = folder / f"{name}.json", folder / f"{name}.trace.json"
        source.write_text(json.dumps(patient))
        with pytest.raises(SystemExit) as info:
            main(["consult", str(source), "--trace", str(target), "-o", str(folder / "plan.txt")])
        assert info.value.code == 0
        out[name] = target
    return out
