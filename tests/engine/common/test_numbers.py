"""engine/common/numbers.py: whole numbers lose their ``.0``; nothing else changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cicatrix.engine.common.numbers import number_text, plain


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7.0, 7), (0.0, 0), (1.5, 1.5), (7, 7), (-3.0, -3), (1e20, 10**20)],
)
def test_plain(value, expected):
    out = plain(value)
    assert out == expected and type(out) is type(expected)


def test_booleans_pass_through_unchanged():
    assert plain(True) is True and plain(False) is False


@pytest.mark.parametrize(("value", "text"), [(7.0, "7"), (1.5, "1.5"), (12, "12"), (0.25, "0.25")])
def test_number_text(value, text):
    assert number_text(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_plain_keeps_the_value(value):
    assert plain(value) == value
    assert ("." in number_text(value) or "e" in number_text(value)) != float(value).is_integer()
