"""engine/common/errors.py: how a problem names its place, the one error type, and
the "did you mean" and "one of" wordings every message shares."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError, Problem, did_you_mean, one_of


@pytest.mark.parametrize(
    ("file", "line", "column", "path", "expected"),
    [
        ("rules.yaml", 3, 7, "[0].when", "rules.yaml:3:7: [0].when: bad"),
        ("rules.yaml", 3, None, "[0].when", "rules.yaml:3: [0].when: bad"),
        ("rules.yaml", None, None, "[0].when", "rules.yaml: [0].when: bad"),
        ("rules.yaml", 3, 7, "", "rules.yaml:3:7: bad"),
        ("rules.yaml", None, None, "", "rules.yaml: bad"),
        # a column without a line means nothing on its own
        ("rules.yaml", None, 7, "", "rules.yaml: bad"),
        # no file: a problem with an argument, never a place
        ("", 3, 7, "patient.age", "patient.age: bad"),
        ("", None, None, "", "bad"),
    ],
)
def test_problem_render(file, line, column, path, expected):
    assert Problem(file, line, column, path, "bad").render() == expected


def test_problem_is_an_error_unless_said_otherwise():
    assert Problem("f", None, None, "", "m").severity == "error"
    assert Problem("f", None, None, "", "m", severity="warning").severity == "warning"


def test_error_from_a_string_is_one_problem_about_no_file():
    error = CicatrixError("pass a patient file")
    assert error.problems == (Problem("", None, None, "", "pass a patient file"),)
    assert str(error) == error.render() == "pass a patient file"


def test_error_from_a_list_keeps_every_problem_in_order():
    first = Problem("a.yaml", 1, 2, "x", "one")
    second = Problem("b.yaml", 5, None, "", "two")
    error = CicatrixError([first, second])
    assert error.problems == (first, second)
    assert error.render() == "a.yaml:1:2: x: one\nb.yaml:5: two"
    assert str(error) == error.render()


def test_error_from_a_generator_is_kept_as_a_tuple():
    error = CicatrixError(Problem("f", n, None, "", "m") for n in (1, 2))
    assert isinstance(error.problems, tuple) and [p.line for p in error.problems] == [1, 2]
    assert error.render() == "f:1: m\nf:2: m"


def test_about_builds_one_located_problem():
    error = CicatrixError.about("p.yaml", "no such file", line=4, column=2, path="scars")
    assert error.problems == (Problem("p.yaml", 4, 2, "scars", "no such file"),)
    assert error.render() == "p.yaml:4:2: scars: no such file"
    plain = CicatrixError.about("p.yaml", "is a folder")
    assert plain.problems == (Problem("p.yaml", None, None, "", "is a folder"),)
    assert isinstance(plain, CicatrixError)


def test_bad_input_exits_2():
    assert CicatrixError.exit_code == 2
    assert CicatrixError("x").exit_code == 2


def test_error_is_an_exception_that_can_be_raised_and_caught():
    with pytest.raises(CicatrixError, match="bad thing"):
        raise CicatrixError.about("f", "bad thing")


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("icepick", ["ice_pick", "boxcar"], "; did you mean 'ice_pick'?"),
        ("boxcr", ["ice_pick", "boxcar", "rolling"], "; did you mean 'boxcar'?"),
        ("salince", {"salience": 1, "title": 2}, "; did you mean 'salience'?"),  # a mapping's keys
        ("zzz", ["ice_pick", "boxcar"], ""),
        ("tru", [True, False], ""),  # some letters in common is not close enough
        ("anything", [], ""),
        # words that are not strings are compared as text, both ways
        (12, [11, 120, "x"], "; did you mean '120'?"),
        (None, ["none", "null"], "; did you mean 'none'?"),
        ("Ture", [True, False], "; did you mean 'True'?"),
        (True, ["true", "yes"], "; did you mean 'true'?"),
    ],
)
def test_did_you_mean(word, choices, expected):
    assert did_you_mean(word, choices) == expected


def test_did_you_mean_offers_only_the_closest():
    assert did_you_mean("cheek", ["chest", "cheeks", "chin"]) == "; did you mean 'cheeks'?"


def test_one_of_quotes_text_but_not_numbers_or_other_values():
    assert one_of(["a", "b"]) == "'a', 'b'"
    assert one_of([1, 2.5, None, True]) == "1, 2.5, None, True"
    assert one_of(["x", 3]) == "'x', 3"
    assert one_of([]) == ""
