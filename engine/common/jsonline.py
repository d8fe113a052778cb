"""One JSON value on one line, as JSON-lines output and text columns want it.

UTF-8 as it is (readable, and shorter than ``\\u`` escapes), except where the
value holds a lone surrogate (JSON's ``"\\ud800"`` makes one), which UTF-8 cannot
carry: then the line is escaped ASCII, which still reads back to the same value.
Batch output, the store and its export all write lines this way, so one function.
"""

from __future__ import annotations

import json
from typing import Any


def json_line(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, separators=(",", ":"))
    return text
