"""How numbers look to a person and in JSON: whole numbers without a trailing ``.0``.

YAML and the catalogue give floats (7.0 days, a 1.5 mm width); a person reads
"7 days", and the JSON contract keeps 7 as an integer so that the same plan
prints the same bytes whichever way the number was written. Every place that
shows a number goes through here, so they cannot drift apart.
"""

from __future__ import annotations


def plain(value: float) -> int | float:
    """``7.0`` -> ``7``; ``1.5`` stays ``1.5``; booleans and ints pass through."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def number_text(value: float) -> str:
    """The number as a person writes it: ``7``, ``1.5``."""
    return str(plain(value))
