"""Building large, long-lived object graphs without CPython's cyclic collector in the way.

Loading a knowledge base and building its Rete network allocate hundreds of
thousands of objects that all stay alive. Each allocation burst triggers the
cyclic garbage collector, and its older generations traverse everything built so
far: the build becomes quadratic in the number of rules (the collector was 57% of
the network build at 10,000 rules). Nothing built there is garbage, so pausing
the collector for the duration loses nothing and makes the build linear.
Reference counting still frees everything that is dropped; only cycles made
during the build wait until the collector runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; put it back as it was, even on error.

    Nested uses are harmless: only the outermost one that turned the collector off
    turns it back on, and a collector someone else turned off stays off.

    What the block built would otherwise sit in the youngest generation, and the
    first collections after it would traverse all of it twice on its way to the
    oldest one (at 10,000 rules, a third of a second each). ``freeze`` then
    ``unfreeze`` files every tracked object with the oldest generation directly,
    where the next full collection looks at it as usual: nothing is exempted
    from collection. Skipped when something else froze objects, whose freeze
    ``unfreeze`` would undo.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def settle() -> None:
    """Exempt every object alive now from cyclic collection, for the rest of the process.

    For a process that has loaded what it keeps until it exits (a batch worker
    with its compiled knowledge base) and then makes many short-lived objects:
    each full collection would otherwise walk the whole network again, to find
    nothing (about a tenth of a worker's time). Objects made afterwards are
    collected as usual. Not for a process that drops what it built (tests, a
    session per knowledge base), whose cycles would then never be collected,
    unless it calls :func:`unsettle` when done.
    """
    gc.collect()
    gc.freeze()


def unsettle() -> None:
    """Undo :func:`settle`: what it exempted is collected as usual again."""
    gc.unfreeze()
