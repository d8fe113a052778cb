"""Merging the texts of rules that fired several times into one sentence each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..knowledge.wording import fill
from ..session.records import ActionRecord


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """The non-empty items, first occurrence kept, in order."""
    return tuple(dict.fromkeys(i for i in items if i))


def joined(words: Sequence[str]) -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c" ("" for none)."""
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def merge_texts(actions: Iterable[ActionRecord], *, separate: bool = False) -> Any:
    """One sentence per rule text, however many times the rule fired.

    A rule that fires once per input item would otherwise repeat itself ("... on
    the first area. ... on the second area."); instead the words its variables
    became are gathered: "... on the first and second areas".
    """
    actions = actions if isinstance(actions, (list, tuple)) else list(actions)
    if len(actions) == 1 and not actions[0].labels:  # the common case: one text, nothing to gather
        text = actions[0].template or actions[0].text
        if "{$" not in text:
            texts = [text] if text else []
            return texts if separate else " ".join(texts)
    groups: dict[str, dict[str, list[str]]] = {}
    for action in actions:
        words = groups.setdefault(action.template or action.text, {})
        for name, label in action.labels.items():
            if label not in words.setdefault(name, []):
                words[name].append(label)
    texts = [fill(template, {k: joined(v) for k, v in words.items()}) for template, words in groups.items()]
    texts = list(unique(texts))
    return texts if separate else " ".join(texts)
