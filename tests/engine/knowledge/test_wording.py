"""engine/knowledge/wording.py: the ``{$variable}`` placeholders of rule texts,
found and filled."""

from __future__ import annotations

import pytest

from cicatrix.engine.knowledge.wording import fill, placeholders


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("no placeholders", []),
        ("{$site}", ["site"]),
        ("{$t} on the {$site}", ["t", "site"]),
        ("{$a} and {$a} again", ["a", "a"]),  # every occurrence, in order
        ("{$_x1} {$snake_case_2}", ["_x1", "snake_case_2"]),
        # not placeholders: no dollar, a capital, a leading digit, a space, a stray brace
        ("{site} {$Site} {$1x} {$ site} $site {$site", []),
        ("{{$site}}", ["site"]),
    ],
)
def test_placeholders(text, names):
    assert placeholders(text) == names


def test_fill_puts_each_label_in_its_place():
    labels = {"t": "ice pick", "site": "cheeks"}
    assert fill("{$t} scars on the {$site}; {$t} again", labels) == "ice pick scars on the cheeks; ice pick again"


def test_fill_leaves_the_rest_alone():
    assert fill("50% of {site} cost $5 {$x}", {"x": "y", "site": "unused"}) == "50% of {site} cost $5 y"
    assert fill("plain text", {}) == "plain text"


def test_fill_does_not_read_a_label_as_a_pattern():
    assert fill("{$a}", {"a": r"\1 {$b} \g<0>"}) == r"\1 {$b} \g<0>"


def test_fill_needs_a_label_for_every_placeholder():
    with pytest.raises(KeyError):
        fill("{$missing}", {})
