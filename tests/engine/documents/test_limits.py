"""The bounds on input: each fails as a located error, never as a Python exception or a hang."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError, did_you_mean, short
from cicatrix.engine.documents import limits


def problem(call, *args, **kwargs):
    with pytest.raises(CicatrixError) as caught:
        call(*args, **kwargs)
    (found,) = caught.value.problems
    return found


def test_reading_stops_at_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 101)
    assert problem(limits.read_text, path, "big.yaml", limit=100).render() == (
        "big.yaml: larger than the 100 bytes limit for one file"
    )
    path.write_bytes(b"\xef\xbb\xbfok")
    assert limits.read_text(path, limit=100) == "ok"  # a BOM is dropped


def test_an_endless_file_costs_no_more_than_the_limit(tmp_path):
    import os

    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    import threading

    def feed():
        with fifo.open("wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
            except BrokenPipeError:
                pass

    threading.Thread(target=feed, daemon=True).start()
    assert "larger than the 1 MB limit" in problem(limits.read_text, fifo, limit=1024 * 1024).message


def test_invalid_utf8_is_located():
    found = problem(limits.decode, b"ok: 1\nname: caf\xe9\n", "p.yaml")
    assert (found.line, found.column) == (2, 10)
    assert found.message == "not UTF-8 text (byte 15: 0xe9)"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"a": ' + "[" * 100 + "]" * 100 + "}", (1, 70), "nested deeper than 64 levels"),
        ('{"a":\n 1' + "0" * 100 + "}", (2, 2), "a number longer than 64 characters, or too large to be finite"),
        ('{"a": 1e999}', (1, 7), "a number longer than 64 characters, or too large to be finite"),
        ('{"a": NaN}', (1, 7), "expected a finite number, got NaN"),
        ('{"a": [1,]}', (1, 10), "not valid JSON: Expecting value"),
    ],
)
def test_json_bounds_are_located(text, where, message):
    found = problem(limits.load_json, text, "t.json")
    assert (found.line, found.column) == where
    assert found.message == message


def test_json_within_bounds_parses_as_json():
    # JSON numbers YAML 1.1 would read as text
    assert limits.load_json('{"a": 1e1, "b": 1.5E2, "c": "[{"}', "t.json") == {"a": 10.0, "b": 150.0, "c": "[{"}
    assert limits.json_too_deep('"' + "[" * 100 + '"') is None  # brackets inside a string do not nest


def test_did_you_mean_and_messages_stay_short_for_long_values():
    assert did_you_mean("shalow", ["shallow", "deep"]) == "; did you mean 'shallow'?"
    assert did_you_mean("shalow" * 50, ["shallow"]) == ""  # no fuzzy match over a long value
    assert len(short("x" * 10_000_000)) <= 60
    assert len(short(list(range(10_000)))) <= 60
