"""engine/match/select.py: the matcher a session runs on, chosen per session."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.compile.compat import ReteMatcher
from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.match.matcher import IncrementalReteMatcher
from cicatrix.engine.match.select import engine_class
from cicatrix.engine.session.session import Session


@pytest.fixture(scope="module")
def compiled(kb):
    return compile_kb(kb)


def test_incremental_is_the_default(compiled, monkeypatch):
    monkeypatch.delenv("CICATRIX_MATCHER", raising=False)
    assert isinstance(Session(compiled).engine.matcher, IncrementalReteMatcher)


def test_stock_by_name_or_environment(compiled, monkeypatch):
    assert type(Session(compiled, matcher="stock").engine.matcher) is ReteMatcher
    monkeypatch.setenv("CICATRIX_MATCHER", "stock")
    assert type(Session(compiled).engine.matcher) is ReteMatcher


def test_one_class_per_engine_and_matcher(compiled):
    base = compiled.engine_class
    assert engine_class(base, "stock") is engine_class(base, "stock")
    assert engine_class(base, "stock") is not engine_class(base, "incremental")
    assert issubclass(engine_class(base, "incremental"), base)


def test_an_unknown_matcher_is_bad_input(compiled, monkeypatch):
    monkeypatch.setenv("CICATRIX_MATCHER", "fastest")
    with pytest.raises(CicatrixError, match="CICATRIX_MATCHER must be one of stock, incremental, not 'fastest'"):
        Session(compiled)
