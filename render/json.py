"""The plan as JSON text: the engine's contract dict, printed the same way every time."""

from __future__ import annotations

import json
from typing import Any


def render(result_json: dict[str, Any]) -> str:
    """Indented, UTF-8 kept as is, one trailing newline: byte-identical for the same plan."""
    return json.dumps(result_json, indent=2, ensure_ascii=False) + "\n"
