"""The answer to "how?" or "why not?": a tree of sentences, rendered elsewhere.

Explanations build these plain nodes; the renderers outside the engine decide
how a tree looks on a terminal or in Markdown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)


def leaves(node: Node) -> Iterator[Node]:
    if not node.children:
        yield node
    for child in node.children:
        yield from leaves(child)
