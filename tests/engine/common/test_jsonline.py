"""JSON lines: UTF-8 as it is, escaped only where a lone surrogate forces it."""

from __future__ import annotations

import json

from cicatrix.engine.common.jsonline import json_line


def test_text_stays_readable_and_compact():
    assert json_line({"a": "café", "b": [1, 2]}) == '{"a":"café","b":[1,2]}'


def test_a_lone_surrogate_is_escaped_and_reads_back():
    value = json.loads('{"a": "x\\ud800"}')
    line = json_line(value)
    line.encode("utf-8")  # writable as UTF-8
    assert json.loads(line) == value and "\\ud800" in line
