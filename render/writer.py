"""Wrapped plain text with headings and hanging labels, and the one-line input summary."""

from __future__ import annotations

import textwrap
from typing import Any

from ..engine.knowledge.model import KnowledgeBase
from ..engine.resolve.result import Result


class Writer:
    def __init__(self, width: int):
        self.width = max(width, 40)
        self.lines: list[str] = []
        self.cited: set[int] = set()  # reference numbers the text has shown, for the list at its end

    def para(self, text: str, indent: int = 0, label: str = "", hang: int | None = None) -> None:
        first = " " * indent + label
        rest = " " * (indent + len(label) if hang is None else hang)
        wrapped = textwrap.wrap(
            text,
            width=self.width,
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
        )
        self.lines.extend(wrapped or [first.rstrip()])

    def heading(self, text: str) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(text.upper())

    def blank(self) -> None:
        self.lines.append("")


def input_summary(result: Result, kb: KnowledgeBase) -> list[str]:
    """One line per input fact: what the plan was made for."""
    out = []
    for template in kb.input_templates():
        assert template.input is not None
        data = result.patient.get(template.input.key)
        items = data if template.input.many else [data]
        for i, item in enumerate(items or [], 1):
            shown = []
            for name, spec in template.fields.items():
                value: Any = item.get(name)
                if template.input.many or spec.required or value != spec.default:
                    if value is None or value == []:
                        continue
                    shown.append(spec.describe(value))
            label = f"{template.name} {i}" if template.input.many else template.name
            out.append(f"{label}: " + (", ".join(shown) if shown else "all defaults"))
    return out
