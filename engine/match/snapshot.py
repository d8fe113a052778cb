"""The engine's state after its constant facts, restored instead of re-declared.

Some facts are the same for every consultation (a knowledge base's own catalogue,
declared beside each patient's input). Declaring them and matching them through
the network costs about a third of a consultation, every time, for the same
result. A :class:`Snapshot` records the state they leave (the fact list, the
memories of every node they reached, the agenda) once; each consultation then
restores it and declares only what is new.

Restoring must not change a single firing. Two things make that so:

- Memories hold immutable token records (experta's ``TokenInfo``), so copying each
  memory container (not what it holds) is the whole state; the network's structure never
  changes after it is built.
- Fact ids differ: the constant facts now come first. The agenda orders
  activations by fact ids, so :func:`logical_ids` gives the order the ids would
  have had with the constant facts declared after the input, as before, and the
  strategy sorts by that (see ``compile.compiler.DeterministicDepthStrategy``).

Only the incremental matcher is supported (it knows which nodes hold memory);
with experta's own matcher a session simply declares everything each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The attributes in which a node keeps what it has matched: experta's beta and
# conflict-set nodes, and the matcher's alpha memories. Everything else on a node
# is structure, fixed once the network is built.
MEMORY = ("left_memory", "right_memory", "memory", "tokens", "linked")


def _clone(value: Any) -> Any:
    if isinstance(value, (list, dict, set)):
        return value.copy()
    return value


class Snapshot:
    """What the network, the fact list and the agenda held after the constant facts."""

    def __init__(self, engine: Any):
        matcher = engine.matcher
        if matcher._dirty_sets:  # pragma: no cover - declare() always collects the changes it causes
            raise RuntimeError("a snapshot needs the agenda up to date")
        self.nodes = [
            (node, {name: _clone(getattr(node, name)) for name in MEMORY if hasattr(node, name)})
            for node in matcher._touched.values()
        ]
        self.linked = [join for _, state in self.nodes for join in state.get("linked", ())]
        self.budget = matcher._budget[0]
        facts = engine.facts
        self.facts = list(facts.items())
        self.last_index = facts.last_index
        self.references = facts.reference_counter.copy()
        self.activations = list(engine.agenda.activations)
        self.count = len(self.facts)  # constant facts, with the initial fact

    def restore(self, engine: Any) -> None:
        """Put the engine back as it was when the snapshot was taken (as ``reset`` would, and more)."""
        matcher = engine.matcher
        matcher.reset()
        touched = matcher._touched
        for node, state in self.nodes:
            for name, value in state.items():
                setattr(node, name, _clone(value))
            touched[id(node)] = node
        for join in self.linked:
            join.cx_linked = True
        matcher._budget[0] = self.budget
        facts = type(engine.facts)()
        facts.update(self.facts)
        facts.last_index = self.last_index
        facts.reference_counter = self.references.copy()
        engine.facts = facts
        engine.agenda = type(engine.agenda)()
        engine.agenda.activations = list(self.activations)
        engine.running = False


def logical_ids(constant: int, first_constant: int, inputs: int) -> Callable[[int], int]:
    """Fact id -> the id it would have had with the constant facts declared after the input.

    Before: ids below ``first_constant`` (the initial fact), then ``inputs`` input
    facts, then ``constant`` constant facts, then derived ones. Now the constant
    facts come right after the initial fact and the input after them; derived
    facts keep their ids, as both orders reach the same count by then.
    """
    last_constant = first_constant + constant - 1
    last_input = last_constant + inputs

    def logical(fid: int) -> int:
        if fid < first_constant or fid > last_input:
            return fid
        if fid <= last_constant:
            return fid + inputs
        return fid - constant

    return logical
