"""Filling ``{$variable}`` placeholders of rule texts with words.

Shared by the rule parser (which checks every placeholder is bound), the session
(which fills them for each firing) and the resolver (which merges the texts of a
rule that fired several times).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TEXT_VAR = re.compile(r"\{\$([a-z_][a-z0-9_]*)\}")


def placeholders(template: str) -> list[str]:
    return TEXT_VAR.findall(template)


def fill(template: str, labels: Mapping[str, str]) -> str:
    """Put the words for each ``{$var}`` into a rule's text."""
    if "{$" not in template:  # most texts have no placeholder: skip the regex
        return template
    return TEXT_VAR.sub(lambda m: labels[m.group(1)], template)
