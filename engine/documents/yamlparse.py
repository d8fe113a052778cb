"""The YAML half of :mod:`.yamlio`: composing nodes with the safe loader and building
plain values from them while recording each one's position.

Kept apart so that importing PyYAML (and its C loader) is paid only by readers of
YAML: the knowledge base on a cold cache, YAML patient files, rule authoring.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from ..common.errors import CicatrixError, Problem, short
from . import limits
from .document import Document, Mark, PathKey, format_path

try:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


_PLAIN_TAGS = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


_MERGE = "tag:yaml.org,2002:merge"
_NUMBERS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class _Bound(Exception):
    """An input past one of :mod:`.limits`' bounds, at a node."""

    def __init__(self, node: yaml.Node, message: str):
        super().__init__(message)
        self.node = node


class _Builder:
    """Builds plain values from the node graph, recording where each one was."""

    def __init__(self, loader: Any, doc: Document, problems: list[Problem]):
        self.loader = loader
        self.doc = doc
        self.problems = problems
        self.written: dict[int, set[int]] = {}  # mapping node -> ids of the keys written in it (not merged)
        self.open: set[int] = set()  # collections being built: one met again is an alias to itself
        self.values = 0  # values built, aliases expanded: bounded, or an alias bomb never ends

    def root(self, node: yaml.Node) -> Any:
        """The whole document. Which keys each mapping wrote itself is noted first,
        because resolving a merge key (<<) rewrites the merged mappings in place."""
        stack, seen = [node], set()
        while stack:
            current = stack.pop()
            if id(current) in seen or not isinstance(current, (yaml.MappingNode, yaml.SequenceNode)):
                continue
            seen.add(id(current))
            if isinstance(current, yaml.MappingNode):
                self.written[id(current)] = {id(k) for k, _ in current.value if k.tag != _MERGE}
                stack.extend(v for pair in current.value for v in pair)
            else:
                stack.extend(current.value)
        return self.build(node, ())

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.values += 1
        if self.values > limits.MAX_VALUES:
            raise _Bound(node, f"expands to more than {limits.MAX_VALUES:,} values (aliases repeat too much)")
        if len(path) > limits.MAX_DEPTH:
            raise _Bound(node, f"nested deeper than {limits.MAX_DEPTH} levels")
        self.doc.marks[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBERS and len(node.value) > limits.MAX_NUMBER:
            raise _Bound(node, f"a number longer than {limits.MAX_NUMBER} characters")
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in self.open:
                raise _Bound(node, "an alias refers to the collection it is part of")
            self.open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self.open.discard(id(node))
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            raise _Bound(node, f"expected a finite number, got {node.value}")
        return value

    def _collection(self, node: yaml.Node, path: PathKey) -> Any:
        expected = _PLAIN_TAGS.get(type(node))
        if expected is not None and node.tag != expected:
            # Building collections ourselves must not let a tag such as
            # !!python/object/apply pass unnoticed: only plain data is accepted.
            raise yaml.constructor.ConstructorError(
                None, None, f"tag {node.tag!r} is not allowed (only plain data)", node.start_mark
            )
        if isinstance(node, yaml.MappingNode):
            written = self.written.get(id(node), set())
            self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<): merged pairs come first
            result: dict[Any, Any] = {}
            merged: set[Any] = set()  # keys whose value came through <<, which a later pair may override
            for key_node, value_node in node.value:
                if key_node.tag in _NUMBERS and len(key_node.value) > limits.MAX_NUMBER:
                    raise _Bound(key_node, f"a number longer than {limits.MAX_NUMBER} characters")
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    got = short(key)
                    self.problems.append(self.doc.problem(path, f"a mapping key must be a plain value, got {got}"))
                    continue
                overrides = key in merged  # a value merged in earlier: this pair replaces it, in place
                if id(key_node) in written:
                    merged.discard(key)
                else:
                    merged.add(key)
                if key in result and not overrides:
                    first = self.doc.key_marks.get((*path, key))
                    where = f" (first at line {first.line})" if first else ""
                    self.problems.append(
                        Problem(
                            self.doc.file,
                            key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1,
                            format_path((*path, key)),
                            f"duplicate key {key!r}{where}",
                        )
                    )
                    continue
                self.doc.key_marks[(*path, key)] = _mark(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]


def syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    """A YAML syntax error as a located problem (shared by every reader of YAML)."""
    mark = exc.problem_mark or exc.context_mark
    reason = exc.problem or exc.context or "malformed YAML"
    if exc.context and exc.problem:
        reason = f"{exc.problem} ({exc.context})"
    return Problem(
        file, mark.line + 1 if mark else None, mark.column + 1 if mark else None, "", f"not valid YAML: {reason}"
    )


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML/JSON document, raising :class:`CicatrixError` with positions."""
    doc = Document(file=file, data=None)
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _Builder(loader, doc, problems).root(node)
    except yaml.MarkedYAMLError as exc:
        raise CicatrixError([syntax_problem(exc, file)]) from None
    except _Bound as exc:
        mark = _mark(exc.node)
        raise CicatrixError([Problem(file, mark.line, mark.column, "", str(exc))]) from None
    except yaml.YAMLError as exc:
        raise CicatrixError.about(file, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if problems:
        raise CicatrixError(problems)
    return doc
