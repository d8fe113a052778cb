"""The collector paused while a long-lived graph is built, and put back as it was."""

from __future__ import annotations

import gc

import pytest

from cicatrix.engine.common.memory import collector_paused


def test_the_collector_is_off_inside_and_on_again_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and the inner exit does not turn it on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left exempt from later collection


def test_an_error_inside_still_turns_it_back_on():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_settle_exempts_what_is_alive_until_unsettle():
    from cicatrix.engine.common.memory import settle, unsettle

    assert gc.get_freeze_count() == 0
    kept = [[] for _ in range(100)]
    settle()
    try:
        assert gc.get_freeze_count() >= len(kept)
    finally:
        unsettle()
    assert gc.get_freeze_count() == 0
