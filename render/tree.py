"""Explanation trees as indented text, the same in a terminal, a pipe and a test."""

from __future__ import annotations

import textwrap

from ..engine.explain.tree import Node


def render(node: Node, width: int = 100) -> str:
    lines = _wrap(node.text, "", "", width)
    lines.extend(_children(node, "", width))
    return "\n".join(lines) + "\n"


def _children(node: Node, prefix: str, width: int) -> list[str]:
    out: list[str] = []
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        branch = "└─ " if last else "├─ "
        cont = "   " if last else "│  "
        out.extend(_wrap(child.text, prefix + branch, prefix + cont, width))
        out.extend(_children(child, prefix + cont, width))
    return out


def _wrap(text: str, first: str, rest: str, width: int) -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, 40),
        initial_indent=first,
        subsequent_indent=rest + "  ",
        break_on_hyphens=False,
    ) or [first]
