"""Merging the texts of a rule that fired several times into one sentence."""

from __future__ import annotations

from cicatrix.engine.resolve.texts import merge_texts, unique
from cicatrix.engine.session.records import ActionRecord


def said(template: str, **labels: str) -> ActionRecord:
    """An action as the session records it: the filled text, its template and the words used."""
    text = template
    for name, label in labels.items():
        text = text.replace("{$" + name + "}", label)
    return ActionRecord("recommend", "alpha", text, "first_line", template=template, labels=labels)


def test_unique_keeps_first_occurrences_and_drops_empty_items():
    assert unique(["b", "a", "", "b", "c", "a"]) == ("b", "a", "c")
    assert unique([]) == ()


def test_one_firing_gives_its_own_text():
    assert merge_texts([said("Deep scars on the {$site}.", site="cheeks")]) == "Deep scars on the cheeks."


def test_the_words_of_repeated_firings_are_gathered():
    actions = [
        said("Deep scars on the {$site}.", site="cheeks"),
        said("Deep scars on the {$site}.", site="forehead"),
        said("Deep scars on the {$site}.", site="cheeks"),  # said once
        said("Deep scars on the {$site}.", site="chin"),
    ]
    assert merge_texts(actions) == "Deep scars on the cheeks, forehead and chin."
    assert merge_texts(actions[:2]) == "Deep scars on the cheeks and forehead."


def test_each_variable_is_gathered_on_its_own():
    template = "{$type} scars on the {$site}."
    actions = [
        said(template, type="Ice pick", site="cheeks"),
        said(template, type="Ice pick", site="temples"),
        said(template, type="Boxcar", site="cheeks"),
    ]
    assert merge_texts(actions) == "Ice pick and Boxcar scars on the cheeks and temples."


def test_different_texts_follow_in_order_of_first_appearance():
    actions = [
        said("Second text."),
        said("First on the {$site}.", site="nose"),
        said("Second text."),
        said("First on the {$site}.", site="chin"),
    ]
    assert merge_texts(actions) == "Second text. First on the nose and chin."
    assert merge_texts(actions, separate=True) == ["Second text.", "First on the nose and chin."]


def test_identical_texts_from_different_templates_are_said_once():
    actions = [said("On the {$site}.", site="cheeks"), said("On the cheeks.")]
    assert merge_texts(actions, separate=True) == ["On the cheeks."]


def test_actions_without_a_template_are_grouped_by_their_text():
    plain = ActionRecord("note", text="Protect from the sun.")
    assert merge_texts([plain, plain], separate=True) == ["Protect from the sun."]
    assert merge_texts([]) == ""
    assert merge_texts([], separate=True) == []
