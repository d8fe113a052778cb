"""`trace show`'s timeline: choosing firings by rule and by fact, the plain table
pipes and files get, and the rich table a terminal gets."""

from __future__ import annotations

import pytest

from cicatrix.engine.explain.tracefile import Trace
from cicatrix.engine.session.records import ActionRecord, Firing
from cicatrix.render.timeline import HEADERS, render_plain, render_rich, rows, select


def firing(seq, rule, matched, *actions, salience=0, bindings=None):
    return Firing(seq, rule, salience, matched, bindings or {}, actions)


FIRINGS = (
    firing(
        1,
        "profile/deep",
        ("scar-1",),
        ActionRecord("assert", fact="finding-1"),
        salience=10,
        bindings={"s": "cheeks"},
    ),
    firing(
        2,
        "ice-pick/tca-cross",
        ("finding-1", "patient"),
        ActionRecord("recommend", "tca_cross", "x", "first_line", fact="recommend-1"),
        ActionRecord("caution", "tca_cross", "careful"),
    ),
    firing(
        3,
        "ice-pick/punch",
        ("scar-1",),
        ActionRecord("assert", fact=None),
        ActionRecord("combine", components=("tca_cross", "subcision")),
        ActionRecord("note", text="a note"),
        ActionRecord("avoid", "lemon_juice", "no"),
        bindings={"long": "x" * 30, "n": 3},
    ),
    firing(4, "home/sunscreen", ()),
)


def trace(firings=FIRINGS) -> Trace:
    return Trace(
        file="t.json",
        kb={"name": "test-kb", "version": "1.2"},
        patient_file="patient.yaml",
        facts={},
        firings=firings,
        rules={},
        fields={},
        result={},
        catalogue={},
    )


def seqs(firings) -> list[int]:
    return [f.seq for f in firings]


# --- select ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (None, [1, 2, 3, 4]),
        ("", [1, 2, 3, 4]),
        ("ice-pick/*", [2, 3]),  # a glob over the whole id
        ("*/tca-*", [2]),
        ("ice-pick/tca-cross", [2]),
        ("pick", [2, 3]),  # or any part of the id
        ("PICK", []),  # case matters
        ("ice-pick/?unch", [3]),
        ("nothing*", []),
    ],
)
def test_select_by_rule(pattern, expected):
    assert seqs(select(trace(), pattern, None)) == expected


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        ("scar-1", [1, 3]),  # matched
        ("finding-1", [1, 2]),  # asserted by 1, matched by 2
        ("recommend-1", [2]),  # asserted
        ("patient", [2]),
        ("scar", []),  # an id, not a prefix
        ("lemon_juice", []),  # a treatment is not a fact
    ],
)
def test_select_by_fact(fact, expected):
    assert seqs(select(trace(), None, fact)) == expected


def test_select_by_rule_and_fact():
    assert seqs(select(trace(), "ice-pick/*", "scar-1")) == [3]
    assert seqs(select(trace(), "home/*", "scar-1")) == []


# --- the plain table -----------------------------------------------------------------------


def test_rows_say_what_each_firing_did():
    assert rows(trace(), list(FIRINGS)) == [
        ("1", "profile/deep", "10", "scar-1", "$s=cheeks", "assert finding-1"),
        ("2", "ice-pick/tca-cross", "0", "finding-1, patient", "-", "recommend tca_cross; caution tca_cross"),
        (
            "3",
            "ice-pick/punch",
            "0",
            "scar-1",
            "$long=" + "x" * 21 + "..., $n=3",  # long values are shortened to 24 characters
            "assert (already known); combine tca_cross+subcision; note; avoid lemon_juice",
        ),
        ("4", "home/sunscreen", "0", "-", "-", ""),
    ]


def test_render_plain():
    text = render_plain(trace(), list(FIRINGS[:2]))
    # each column as wide as its widest cell, two spaces apart; the last one not padded
    assert text == (
        "2 of 4 firings  (test-kb 1.2, patient.yaml)\n"
        "#  rule                sal  matched             bindings   did\n"
        "1  profile/deep        10   scar-1              $s=cheeks  assert finding-1\n"
        "2  ice-pick/tca-cross  0    finding-1, patient  -          recommend tca_cross; caution tca_cross\n"
    )


def test_render_plain_strips_trailing_space():
    lines = render_plain(trace(), list(FIRINGS)).splitlines()
    assert lines[1].split() == list(HEADERS)
    assert lines[-1] == "4  home/sunscreen      0    -                   -"
    assert all(line == line.rstrip() for line in lines)


def test_render_plain_of_nothing():
    assert render_plain(trace(), []) == (
        "0 of 4 firings  (test-kb 1.2, patient.yaml)\n#  rule  sal  matched  bindings  did\n"
    )


# --- the rich table ------------------------------------------------------------------------


def test_render_rich_prints_a_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    render_rich(trace(), list(FIRINGS))
    out = capsys.readouterr().out
    assert "4 of 4 firings - patient.yaml" in out
    for f in FIRINGS:
        assert f.rule in out
    assert "recommend tca_cross; caution tca_cross" in out
    assert all(h in out for h in ("rule", "sal", "matched", "bindings", "did"))


def test_render_rich_in_a_narrow_terminal_does_not_fail(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    render_rich(trace(), list(FIRINGS))
    out = capsys.readouterr().out
    assert "firings" in out and "prof" in out  # folded, not cut off


def test_render_rich_of_a_real_trace(traces, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    recorded, _ = traces["mixed-facial-scars.yaml"]
    chosen = select(recorded, "ice-pick/*", None)
    assert chosen
    render_rich(recorded, chosen)
    out = capsys.readouterr().out
    assert f"{len(chosen)} of {len(recorded.firings)} firings" in out
    for f in chosen:
        assert f.rule in out
