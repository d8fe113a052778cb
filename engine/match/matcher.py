"""An incremental Rete matcher for experta: the same matches, work proportional to the change.

experta's stock ``ReteMatcher`` (measured in ``benchmarks/``) spends a consultation's
time in places that grow with the size of the knowledge base, not with what the
patient's facts touch:

1. ``changes()`` asks *every* rule's conflict-set node for activations after every
   fact change and every firing. Here each conflict-set node reports when a token
   reaches it, and only those nodes are asked.
2. ``reset()`` walks the whole network to clear memories. Here the nodes that
   stored something since the last reset are remembered, and only those are cleared.
3. The alpha network tests each new fact against every child of a node in turn.
   Here a node's children that test one field are indexed, as CLIPS and Drools
   hash alpha memories, and a fact reaches only the children its value passes:
   equality with a literal (of any hashable type) and the compiler's
   equal-to, any-of and contains checks by looking the value up, numeric
   comparisons and ranges by bisecting their sorted bounds (see
   :class:`_Ranges`). The root dispatches facts by class in the same way.
4. A join whose left memory is empty can produce nothing from a right token,
   yet experta copies and stores every token in every join it reaches. Here
   such joins are unlinked from their alpha node, which remembers the tokens once
   and replays them when the join's left side first gets a token (right
   unlinking, see :class:`AlphaMemory`). With selective patterns first (the
   compiler's ordering), a fact reaches only the joins that can use it.
5. experta copies a token at every hop and checks its logging level on every
   test. Here the alpha tests are compiled into plain closures, and tokens are
   never copied: no node changes a token it receives (a test that binds a
   variable makes a new token with the larger context instead), so each is
   shared by every node it reaches. Joins test two contexts of names by the
   names they share (a set intersection) rather than walking one of them.

Building the network is linear in the number of rules (experta's own builder is
quadratic: it scans a node's children for an existing test, and creates a
``singledispatch`` function per rule), with the cyclic garbage collector paused
(:func:`..common.memory.collector_paused`).

Nothing changes what matches: the nodes, their tests, memories and the order in
which each node receives its tokens are experta's own. The differential tests in
``tests/engine/match/`` run random rule sets and patients through both matchers
and require identical firings, in the same order, and identical plans.

The matcher is a drop-in for experta's on every rule experta's runs, not only on
the flat conjunctions the compiler emits: OR, EXISTS, FORALL, NOT over AND / OR /
NOT, alternatives (``|``) in fields. Those rules go through experta's own
preparation and its wiring (ported, node for node: ``tests/engine/match/
test_matcher_indexes.py`` compares the networks), and the steps above apply
to the nodes they produce
(``tests/engine/match/test_matcher_conditional_elements.py`` runs random ones
against the stock matcher). A rule experta cannot build, or one that would fail
in the middle of matching, is refused with an :class:`UnsupportedRule` naming
it when the network is built.

Memories keep experta's own layout (lists in joins, a set in conflict-set
nodes, a dict in NOT nodes), plus :class:`AlphaMemory`'s ``tokens`` and
``linked`` lists; :mod:`.snapshot` copies and restores them. What a join or NOT
node stores carries the context it was made from (``cx_context``, never changed)
and whether that holds names only (``cx_plain``), so that memories are not
turned back into dicts at every test; joins store a :class:`_Held` rather than
experta's ``TokenInfo`` of frozensets, which is costly to make and only ever
compared.

The network holds experta's own node and test classes, never subclasses of
them, so the matcher tells them apart by ``type(x) is ...``: experta's classes
are abstract base classes, whose ``isinstance`` costs several times more.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from contextlib import suppress
from functools import partial, update_wrapper
from itertools import pairwise
from typing import Any

from ..common.errors import CicatrixError
from ..common.memory import collector_paused
from ..compile.compat import (
    AND,
    ANDFC,
    EXISTS,
    FORALL,
    NOT,
    NOTFC,
    OR,
    ORFC,
    TEST,
    Activation,
    BusNode,
    ChildNode,
    ConflictSetNode,
    Fact,
    FactCapture,
    FeatureCheck,
    FeatureTesterNode,
    InitialFact,
    L,
    NoMemory,
    NotNode,
    OrdinaryMatchNode,
    P,
    ReteMatcher,
    Rule,
    SameContextCheck,
    Token,
    TokenInfo,
    TypeCheck,
    W,
    WhereCheck,
    WhereNode,
    extract_facts,
    generate_checks,
    prepare_rule,
)
from ..knowledge.constraints import is_number, same_key

INDEX_THRESHOLD = 3  # index a node's children once this many test the same field the same way
RANGE_CELLS = 64  # a field's ranges are indexed while they fill at most this many cells per range, on average

_VALID = Token.TagType.VALID
_INVALID = Token.TagType.INVALID
_new_tuple = tuple.__new__  # with TokenInfo: a TokenInfo of frozensets made here, without its Python constructor
# A token from (tag, data, context), without experta's re-validation of facts it already holds;
# namedtuple's _make would add a Python call to every token made.
_make_token = partial(_new_tuple, Token)


def _walk(root: Any) -> list[Any]:
    """Every node of the network once, parents before children, in wiring order."""
    seen: dict[int, Any] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(child.node for child in reversed(node.children))
    return list(seen.values())


# -- building the network in linear time ------------------------------------------------


def _build_alpha(ruleset: set[Any], root: Any) -> dict[Any, Any]:
    """experta's ``build_alpha_part``, node for node, in linear time.

    experta looks for an existing child with the wanted test by scanning the
    node's children, which is quadratic in a node's fan-out (the class node of a
    template with thousands of rules). Here each node's tests are kept in a dict.
    experta also hashes rules, patterns and tests again at every lookup of its
    tables (a test's hash hashes its constraint objects in Python); here they
    are counted and sorted by identity (experta interns tests: equal tests are
    one object), each hashed once. The rules, patterns and tests are ranked and
    sorted exactly as experta sorts them, so the network is the one experta builds.
    """
    ruleset = set(ruleset)
    ruleset.add(Rule(InitialFact()))  # experta's: InitialFact always has its alpha branch
    rules = [(rule, list(extract_facts(rule))) for rule in ruleset]  # in the set's order, as experta sorts
    fact_checks: dict[Any, list[Any]] = {}
    for fact in reversed([fact for _, facts in rules for fact in facts]):
        if fact not in fact_checks:  # experta keeps the last of equal patterns' tests
            fact_checks[fact] = list(set(generate_checks(fact)))  # a set's order, as experta sorts them
    rank: dict[int, int] = {}
    hashes: dict[int, int] = {}
    for checks in fact_checks.values():
        for check in checks:
            rank[id(check)] = rank.get(id(check), 0) + 1
            if id(check) not in hashes:
                hashes[id(check)] = hash(check)
    infinity = float("inf")

    def check_order(check: Any) -> tuple[float, int]:
        kind = type(check)
        if kind is TypeCheck:
            return (infinity, hashes[id(check)])
        if kind is FactCapture:
            return (-infinity, hashes[id(check)])
        if kind is FeatureCheck:
            return (rank[id(check)], hashes[id(check)])
        raise TypeError("Unknown check type.")  # pragma: no cover - experta's own message

    def rule_order(item: tuple[Any, list[Any]]) -> float:
        facts = item[1]
        return sum(rank[id(check)] for fact in facts for check in fact_checks[fact]) / len(facts)

    for checks in fact_checks.values():
        checks.sort(key=check_order, reverse=True)
    made: dict[tuple[int, int], Any] = {}
    for child in root.children:
        made.setdefault((id(root), id(child.node.matcher)), child.node)
    terminals: dict[Any, Any] = {}
    for _, facts in sorted(rules, key=rule_order, reverse=True):
        for fact in facts:
            node = root
            for check in fact_checks[fact]:
                key = (id(node), id(check))  # experta matches a child's test by identity
                found = made.get(key)
                if found is None:
                    found = made[key] = FeatureTesterNode(check)
                    node.children.append(ChildNode(found, found.activate))
                node = found
            terminals[fact] = node
    return terminals


def _wire_rule(rule: Any, terminals: Mapping[Any, Any], lhs: Any) -> None:
    """experta's ``wire_rule`` without its per-rule ``singledispatch`` function.

    experta builds (and registers eight implementations into) a fresh
    ``functools.singledispatch`` for every rule, which was about half of the
    bundled knowledge base's network build. The element classes are unrelated,
    so an ``isinstance`` chain dispatches exactly as it does. ``add_child`` is
    an append: experta's membership test compares a node with (node, callback)
    pairs, which is never true.
    """

    def link(parent: Any, child: Any, port: Callable[..., Any]) -> None:
        parent.children.append(ChildNode(child, port))

    def wire(elem: Any) -> Any:
        if isinstance(elem, TEST):
            return WhereNode(WhereCheck(elem[0]))
        if isinstance(elem, FORALL):
            initial, leader = wire(InitialFact()), wire(elem[0])
            followers = wire(AND(*elem[1:]))
            first, second = NotNode(SameContextCheck()), NotNode(SameContextCheck())
            link(followers, first, first.activate_right)
            link(leader, first, first.activate_left)
            link(first, second, second.activate_right)
            link(initial, second, second.activate_left)
            return second
        if isinstance(elem, EXISTS):
            condition, initial = wire(elem[0]), wire(InitialFact())
            first, second = NotNode(SameContextCheck()), NotNode(SameContextCheck())
            link(condition, first, first.activate_right)
            link(initial, first, first.activate_left)
            link(initial, second, second.activate_left)
            link(first, second, second.activate_right)
            return second
        if isinstance(elem, (Rule, AND)):
            if len(elem) == 1:
                return terminals[elem[0]] if isinstance(elem[0], Fact) else wire(elem[0])
            current = None
            for f, s in pairwise(elem):
                if isinstance(s, TEST):
                    if current is None:
                        current = wire(f)
                    test = wire(s)
                    link(current, test, test.activate)
                    current = test
                else:
                    join = (NotNode if isinstance(s, NOT) else OrdinaryMatchNode)(SameContextCheck())
                    if current is None:
                        left, right = wire(f), wire(s)
                    else:
                        left, right = current, wire(s)
                    current = join
                    link(left, join, join.activate_left)
                    link(right, join, join.activate_right)
            return current
        if isinstance(elem, OR):
            raise SyntaxError("You can't use an OR clause inside FORALL or EXISTS")
        if isinstance(elem, Fact):
            return terminals[elem]
        if isinstance(elem, NOT):
            return terminals[elem[0]]
        raise TypeError(f"Unknown type {type(elem)}")

    last = wire(lhs)
    conflict_set = ConflictSetNode(rule)
    link(last, conflict_set, conflict_set.activate)


# -- alpha tests as plain closures ------------------------------------------------------


def _plain_field(check: Any) -> Any:
    """The key a FeatureCheck looks up in a fact in one step, or None (a nested path,
    a ``__special__`` name, or a numeric name experta reads as a position)."""
    what = check.what
    if not isinstance(what, str):
        return what
    if "__" in what or what.isnumeric() or not what:
        return None
    return what


def _value_test(check: Any) -> Callable[[Any], Any] | None:
    """A FeatureCheck that binds nothing, as a one-argument test of the field's value.

    Its truth is the truth of experta's check (the same calls on the same
    constraint objects, in the same order, so a predicate that raises raises
    alike), without experta's logging at each step. None for a check that binds
    a variable anywhere, or one of a kind this does not know.
    """
    how = check.how
    if isinstance(how, (L, P, W)):
        expected = check.expected  # the constraint experta tests (the first of equal ones)
        if expected.__bind__ is not None:
            return None
        if isinstance(expected, W):
            return lambda value: True
        if isinstance(expected, P):
            return expected.match
        literal = expected.value
        return lambda value: literal == value
    if isinstance(how, NOTFC):
        inner = _value_test(check.expected)
        if inner is None:
            return None
        return lambda value: not inner(value)
    if isinstance(how, (ANDFC, ORFC)):
        parts = [_value_test(sub) for sub in check.expected]
        if any(part is None for part in parts):
            return None
        if isinstance(how, ANDFC):
            return lambda value: all(part(value) for part in parts)  # type: ignore[misc]
        return lambda value: any(part(value) for part in parts)  # type: ignore[misc]
    return None


def _conflicts(context: Mapping[Any, Any], match: Mapping[Any, Any]) -> bool:
    """experta's test of new bindings against a token's context (FeatureTesterNode._activate)."""
    for key, value in match.items():
        if isinstance(key, tuple):  # a negated binding
            if key[1] in context and context[key[1]] == value:
                return True
        else:
            if context.get(key, value) != value:
                return True
            if (False, key) in context and context[(False, key)] == value:
                return True
    return False


# -- indexing a node's children ---------------------------------------------------------


def _constraint(how: Any) -> tuple[str, Any] | None:
    """The compiler's own description of a predicate, when it carries one (see constraints.predicate)."""
    if isinstance(how, P) and how.__bind__ is None:
        found = getattr(how.match, "cx_constraint", None)
        if isinstance(found, tuple) and len(found) == 2:
            return found
    return None


_LOWER = {"gt": False, "gte": True}  # op -> closed?
_UPPER = {"lt": False, "lte": True}


def _interval(check: Any) -> tuple[Any, bool, Any, bool] | None:
    """(low, closed, high, closed) for a numeric comparison or an AND of them (None: unbounded).

    Only comparisons with a number (not NaN, not a boolean) qualify: they then
    hold for a value exactly when it is a number inside the interval, which is
    what :class:`_Ranges` answers. An empty interval holds for nothing.
    """
    parts = [sub.how for sub in check.expected] if isinstance(check.how, ANDFC) else [check.how]
    low: Any = None
    low_closed = True
    high: Any = None
    high_closed = True
    for part in parts:
        found = _constraint(part)
        if found is None:
            return None
        op, bound = found
        if not is_number(bound) or bound != bound:
            return None
        if op in _LOWER:
            closed = _LOWER[op]
            if low is None or bound > low or (bound == low and not closed):
                low, low_closed = bound, closed
        elif op in _UPPER:
            closed = _UPPER[op]
            if high is None or bound < high or (bound == high and not closed):
                high, high_closed = bound, closed
        else:
            return None
    return low, low_closed, high, high_closed


def _index_key(node: Any) -> tuple[tuple[str, Any], Any] | None:
    """How a child could be found by value: ((kind, field), what to file it under), or None.

    kind ``literal``: experta's own equality with a literal (``value == literal``),
    filed under the literal; ``same``: the compiler's equal-to and any-of
    (:func:`..knowledge.constraints.same`), filed under each operand's
    :func:`same_key`; ``contains``: a list field holding an item, filed under
    the item's key; ``range``: numeric comparisons, filed as an interval.
    Values not equal to themselves (NaN) equal nothing, so they are filed
    nowhere: a child filed under no key is never reached, rightly.
    """
    check = getattr(node, "cx_check", None)
    if type(node) is not FeatureTesterNode or type(check) is not FeatureCheck:
        return None
    field = _plain_field(check)
    if field is None:
        return None
    how = check.how
    try:
        if isinstance(how, L) and how.__bind__ is None:
            how = check.expected  # the literal experta compares with (the first of equal ones)
            literal = how.value
            hash(literal)
            return ("literal", field), [literal] if literal == literal else []
        found = _constraint(how)
        if found is not None:
            op, operand = found
            if op in ("eq", "contains") or (op == "any" and isinstance(operand, (tuple, list))):
                # dict.fromkeys hashes every key: an unhashable operand leaves the child to its own test
                keys = list(dict.fromkeys(same_key(x) for x in (operand if op == "any" else [operand]) if x == x))
                return ("contains" if op == "contains" else "same", field), keys
        interval = _interval(check) if isinstance(how, (P, ANDFC)) else None
        if interval is not None:
            return ("range", field), interval
    except TypeError:  # an unhashable literal: tested as it is
        return None
    return None


class _Ranges:
    """Which of many numeric intervals hold a value, by bisection.

    The distinct bounds, sorted, cut the number line into cells: each bound
    itself, and the open stretch before, between and after them. Every interval
    covers whole cells, so each cell lists the intervals holding all its values;
    a value finds its cell with one bisection. A value that is not a number, or
    is NaN, is in no interval (the compiler's comparisons are false for it).
    """

    def __init__(self, intervals: list[tuple[Any, tuple[Any, bool, Any, bool]]], limit: float = float("inf")):
        """Cells for the intervals, unless they would hold more than ``limit`` entries in all
        (intervals nested in one another): then ``cells`` is None and the caller tests each."""
        bounds = sorted({b for _, (lo, _c, hi, _d) in intervals for b in (lo, hi) if b is not None})
        where = {b: i for i, b in enumerate(bounds)}
        count = 2 * len(bounds) + 1
        spans = [
            (
                target,
                0 if lo is None else 2 * where[lo] + (1 if lo_closed else 2),
                count - 1 if hi is None else 2 * where[hi] + (1 if hi_closed else 0),
            )
            for target, (lo, lo_closed, hi, hi_closed) in intervals
        ]
        self.size = sum(max(0, last - first + 1) for _, first, last in spans)
        self.bounds = bounds
        self.cells: list[tuple[Any, ...]] | None = None
        if self.size > limit:
            return
        cells: list[list[Any]] = [[] for _ in range(count)]
        for target, first, last in spans:
            for cell in range(first, last + 1):
                cells[cell].append(target)
        self.cells = [tuple(c) for c in cells]

    def cell(self, value: Any) -> tuple[Any, ...]:
        """The intervals holding ``value``, in the order they were given (the cells must exist)."""
        if not is_number(value) or value != value:
            return ()
        bounds, cells = self.bounds, self.cells
        i = bisect_left(bounds, value)
        if i < len(bounds) and bounds[i] == value:
            return cells[2 * i + 1]  # type: ignore[index]
        return cells[2 * i]  # type: ignore[index]


def _selector(kind: str, field: Any, members: list[tuple[Any, Any]]) -> Callable[[Any, Any], None] | None:
    """The function that passes a token to exactly the children of one group its fact's value passes.

    ``members`` are (child, key or keys or interval). A child found by value has
    passed its test already: the token goes straight to what follows it
    (``cx_after``). A value that cannot be looked up (unhashable) falls back to
    each child's own test.
    """
    everyone = [child.cx_activate for child, _ in members]
    if kind == "range":
        ranges = _Ranges([(child.cx_after, interval) for child, interval in members], RANGE_CELLS * len(members) + 1024)
        if ranges.cells is None:
            return None  # ranges nested so deep that the cells would hold too much: each tests itself
        cell = ranges.cell

        def select_range(token: Any, fact: Any) -> None:
            try:
                value = fact[field]
            except (IndexError, KeyError, TypeError):
                return
            for after in cell(value):
                after(token)

        return select_range
    table: dict[Any, list[Any]] = {}
    for child, keys in members:
        for key in keys:
            table.setdefault(key, []).append(child.cx_after)
    get = table.get

    if kind == "literal":

        def select_literal(token: Any, fact: Any) -> None:
            try:
                value = fact[field]
            except (IndexError, KeyError, TypeError):
                return
            try:
                hits = get(value)
            except TypeError:
                for activate in everyone:
                    activate(token)
                return
            if hits is not None:
                for after in hits:
                    after(token)

        return select_literal

    if kind == "same":

        def select_same(token: Any, fact: Any) -> None:
            try:
                value = fact[field]
            except (IndexError, KeyError, TypeError):
                return
            try:
                hits = get(same_key(value))
            except TypeError:
                for activate in everyone:
                    activate(token)
                return
            if hits is not None:
                for after in hits:
                    after(token)

        return select_same

    def select_contained(token: Any, fact: Any) -> None:
        try:
            value = fact[field]
        except (IndexError, KeyError, TypeError):
            return
        if not isinstance(value, (tuple, list)):
            return
        try:
            keys = dict.fromkeys(map(same_key, value))
        except TypeError:
            for activate in everyone:
                activate(token)
            return
        for key in keys:  # each child is filed under one key: none is reached twice
            hits = get(key)
            if hits is not None:
                for after in hits:
                    after(token)

    return select_contained


def _port(child: Any) -> Callable[[Any], Any]:
    """The function a parent calls to hand a child a token, without experta's per-hop copy and logging.

    No node changes a token it receives (see the module docstring), so the
    copy experta makes at each port is not needed.
    """
    node, callback = child
    name = getattr(callback, "__name__", "")
    if type(node) is FeatureTesterNode and name == "activate":
        return node.cx_activate
    if name in ("activate", "activate_left", "activate_right"):
        return getattr(node, "_" + name)
    return callback


def _compile_tester(node: Any) -> None:
    """Give an alpha node its activation as closures: ``cx_activate`` tests, ``cx_after`` passes on.

    Its children are compiled first (children before parents), so their entry
    points exist. Children that test one field the same way, once there are
    :data:`INDEX_THRESHOLD` of them, are found by value (:func:`_selector`)
    instead of being tried in turn; the rest are called in experta's order.
    """
    groups: dict[tuple[str, Any], list[tuple[Any, Any]]] = {}
    for child in node.children:
        found = _index_key(child.node)
        if found is not None:
            groups.setdefault(found[0], []).append((child.node, found[1]))
    selectors = []
    indexed: set[int] = set()
    node.cx_indexes = []  # (kind, field, children found by value): what was indexed, for tests and debugging
    for (kind, field), members in groups.items():
        if len(members) < INDEX_THRESHOLD:
            continue
        select = _selector(kind, field, members)
        if select is not None:
            selectors.append(select)
            indexed.update(id(child) for child, _ in members)
            node.cx_indexes.append((kind, field, len(members)))
    rest = [_port(child) for child in node.children if id(child.node) not in indexed]
    node.cx_after = after = _after(rest, selectors)
    node.cx_activate = node._activate = _activation(node.cx_check, after)


def _after(rest: list[Callable[[Any], Any]], selectors: list[Callable[[Any, Any], None]]) -> Callable[[Any], None]:
    """What an alpha node does with a token that passed its test: hand it to its children."""
    if not selectors:
        if len(rest) == 1:
            return rest[0]  # type: ignore[return-value]

        def pass_on(token: Any) -> None:
            for call in rest:
                call(token)

        return pass_on

    def pass_on_indexed(token: Any) -> None:
        for call in rest:
            call(token)
        (fact,) = token.data
        for select in selectors:
            select(token, fact)

    return pass_on_indexed


def _activation(check: Any, after: Callable[[Any], None]) -> Callable[[Any], None]:
    """An alpha node's activation: experta's FeatureTesterNode._activate for this one check.

    A test that binds nothing hands on the very token it received; one that
    binds makes a new token with the larger context (experta copies the token
    and updates the copy: the same result).
    """
    if type(check) is TypeCheck:
        wanted = check.fact_type

        def activate_type(token: Any) -> None:
            (fact,) = token.data
            if type(fact) == wanted:  # noqa: E721 - experta's comparison
                after(token)

        return activate_type
    if type(check) is FactCapture:
        bind = check.bind

        def capture(token: Any) -> None:
            (fact,) = token.data
            context = token.context
            if context.get(bind, fact) != fact or ((False, bind) in context and context[(False, bind)] == fact):
                return
            bound = context.copy()
            bound[bind] = fact
            after(_make_token((token.tag, token.data, bound)))

        return capture
    field = _plain_field(check) if type(check) is FeatureCheck else None
    test = _value_test(check) if field is not None else None
    if test is not None:

        def activate_test(token: Any) -> None:
            (fact,) = token.data
            try:
                value = fact[field]
            except (IndexError, KeyError, TypeError):
                return
            if test(value):
                after(token)

        return activate_test
    how = getattr(check, "expected", None)
    if field is not None and isinstance(check.how, (W, P, L)):
        bind = how.__bind__  # not None: _value_test took every constraint that binds nothing
        if isinstance(how, W):
            accepts: Callable[[Any], Any] = lambda value: True  # noqa: E731
        elif isinstance(how, P):
            accepts = how.match
        else:
            literal = how.value
            accepts = lambda value: literal == value  # noqa: E731

        def activate_binding(token: Any) -> None:
            (fact,) = token.data
            try:
                value = fact[field]
            except (IndexError, KeyError, TypeError):
                return
            if not accepts(value):
                return
            context = token.context
            if context.get(bind, value) != value or ((False, bind) in context and context[(False, bind)] == value):
                return
            bound = context.copy()
            bound[bind] = value
            after(_make_token((token.tag, token.data, bound)))

        return activate_binding

    def activate_any(token: Any) -> None:  # experta's own check: nested fields, AND/OR/NOT that bind
        (fact,) = token.data
        match = check(fact)
        if not match:
            return
        if isinstance(match, Mapping):
            if _conflicts(token.context, match):
                return
            bound = token.context.copy()
            bound.update(match)
            after(_make_token((token.tag, token.data, bound)))
        else:
            after(token)

    return activate_any


# -- joins ---------------------------------------------------------------------------


def _names_only(context: Mapping[Any, Any]) -> bool:
    """Whether every key of a token's context is a name (no negated binding, ``(False, name)``)."""
    for key in context:  # noqa: SIM110 - a loop costs less than all() over a generator
        if key.__class__ is not str:
            return False
    return True


class _Held:
    """What a join remembers of a token: its facts and its context, as they are.

    experta remembers a ``TokenInfo`` of two frozensets, which hashes every fact
    in the context (a Python call each) for every token a join stores; a join
    only ever compares what it holds, to take a token back out. Two of these are
    equal when their facts and contexts are: what the frozensets would say.
    Tokens are never changed, so their set and dict are kept, not copied.
    """

    __slots__ = ("cx_context", "cx_plain", "data")

    def __init__(self, data: Any, context: dict[Any, Any], plain: bool):
        self.data = data
        self.cx_context = context
        self.cx_plain = plain

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Held)
            and (self.data is other.data or self.data == other.data)
            and (self.cx_context is other.cx_context or self.cx_context == other.cx_context)
        )

    __hash__ = None  # type: ignore[assignment]  # held in lists only


def _fast_join(node: Any, touched: dict[int, Any]) -> None:
    """experta's OrdinaryMatchNode activation, without its logging calls and token re-validation.

    The node marks itself as holding memory (for ``reset``), and its left port
    links it to its alpha memory first when it is unlinked (see
    :class:`AlphaMemory`). The memories are experta's lists, read through the
    node on every call (a snapshot may have put new lists in place), of
    :class:`_Held` tokens: the context each was made from (``cx_context``;
    tokens are never changed) and whether that holds only names (``cx_plain``),
    so that a pair is not rebuilt into a dict each time.

    experta's join test (``SameContextCheck``) walks every binding of the left
    context; for two contexts of names only the shared names decide it, and
    set intersection finds them. Any other pair (a negated binding on either
    side: experta raises for one on the left) goes to experta's test.
    """
    matches = node.matcher
    exact = type(matches) is SameContextCheck
    node.cx_linked = True  # until an alpha memory unlinks it

    node_key = id(node)

    def activation(token: Any, left_side: bool) -> None:
        touched[node_key] = node
        context = token.context
        plain = _names_only(context)
        info = _Held(token.data, context, plain)
        branch = node.left_memory if left_side else node.right_memory
        if token.tag is _VALID:
            branch.append(info)
        else:
            with suppress(ValueError):
                branch.remove(info)
        tag, data = token.tag, token.data
        children = node.children
        for held in node.right_memory if left_side else node.left_memory:
            other = held.cx_context
            if exact and plain and held.cx_plain:
                left, right = (context, other) if left_side else (other, context)
                for key in left.keys() & right.keys():
                    if left[key] != right[key]:
                        break
                else:
                    out = _make_token((tag, data | held.data, {**context, **other}))
                    for child in children:
                        child.callback(out)
                continue
            if matches(context, other) if left_side else matches(other, context):
                joined = {k: v for k, v in context.items() if isinstance(k, str)}
                for k, v in other.items():
                    if not isinstance(k, tuple):  # negated values are not needed any further
                        joined[k] = v
                out = _make_token((tag, data | held.data, joined))
                for child in children:
                    child.callback(out)

    def activate_left(token: Any) -> None:
        if not node.cx_linked:
            node.cx_right_parent.link(node)
        activation(token, True)

    node._activate_left = activate_left
    node._activate_right = lambda token: activation(token, False)


def _compatible(matches: Any, left: Any, right: Any, plain: bool) -> bool:
    """experta's join test on two contexts (``plain``: both hold names only, see :func:`_fast_join`)."""
    if plain:
        for key in left.keys() & right.keys():  # noqa: SIM110 - experta tests !=, not == (and a loop is cheaper)
            if left[key] != right[key]:
                return False
        return True
    return bool(matches(left, right))


def _fast_not(node: Any, touched: dict[int, Any]) -> None:
    """experta's NotNode activation, with the context of each remembered token kept (as in :func:`_fast_join`).

    The memories keep experta's layout (a dict of ``TokenInfo`` to match counts
    on the left, a list of ``TokenInfo`` on the right), read through the node on
    every call. A left token that the right side stops blocking is passed on
    with its own context again rather than one rebuilt from the ``TokenInfo``
    (the same bindings).
    """
    matches = node.matcher
    exact = type(matches) is SameContextCheck
    node.cx_linked = True  # until an alpha memory unlinks it
    children_of = node

    key = id(node)

    def remember(token: Any) -> Any:
        context = token.context
        info = _new_tuple(TokenInfo, (frozenset(token.data), frozenset(context.items())))  # token.to_info()
        info.cx_context = context
        info.cx_plain = exact and _names_only(context)
        return info

    def activate_left(token: Any) -> None:
        if not node.cx_linked:
            node.cx_right_parent.link(node)
        touched[key] = node
        info = remember(token)
        right_memory = node.right_memory
        if not right_memory:
            if token.tag is _VALID:
                node.left_memory[info] = 0
            else:
                del node.left_memory[info]
            for child in children_of.children:
                child.callback(token)
            return
        context, plain = token.context, info.cx_plain
        count = 0
        for held in right_memory:
            if _compatible(matches, context, held.cx_context, plain and held.cx_plain):
                count += 1
                if token.tag is not _VALID:
                    break
        if count == 0:
            for child in children_of.children:
                child.callback(token)
        if token.tag is _VALID:
            node.left_memory[info] = count
        else:
            del node.left_memory[info]

    def activate_right(token: Any) -> None:
        touched[key] = node
        info = remember(token)
        if token.tag is _VALID:
            node.right_memory.append(info)
            step = 1
        else:
            step = -1
            node.right_memory.remove(info)
        context, plain = token.context, info.cx_plain
        left_memory = node.left_memory
        for held in left_memory:
            if _compatible(matches, held.cx_context, context, plain and held.cx_plain):
                left_memory[held] += step
                count = left_memory[held]
                if (count == 0 and step == -1) or (count == 1 and step == 1):
                    tag = _VALID if step == -1 else _INVALID
                    out = _make_token((tag, set(held.data), held.cx_context))
                    for child in children_of.children:
                        child.callback(out)

    node._activate_left = activate_left
    node._activate_right = activate_right


class _NodeActivation(Activation):
    """An activation hashed without its rule, for the sets of its own conflict-set node.

    experta hashes an activation by its rule, facts and context, building two
    frozensets and hashing the rule's structure each time it is looked up. In one
    node's ``added`` and ``removed`` sets every activation has the same rule, so
    the facts and the context decide; the context's frozenset is the one the
    node's memory already made for the match (when the context holds names
    only), and the hash is made once. The facts alone would not do: one rule
    can match the same facts many ways (patterns of one template swapping
    facts), and those would all collide. Equality stays experta's.
    """

    def __init__(self, rule: Any, facts: frozenset[Any], context: dict[str, Any], items: frozenset[Any] | None):
        self.rule = rule
        self.facts = facts  # experta copies them into a set; nothing changes them
        self.key = None
        self.context = context
        self.cx_items = items  # frozenset(context.items()) if already made, else None
        self.cx_hash: int | None = None

    def __hash__(self) -> int:
        found = self.cx_hash
        if found is None:
            items = self.cx_items if self.cx_items is not None else frozenset(self.context.items())
            found = self.cx_hash = hash((self.facts, items))
        return found


def _fast_conflict_set(node: Any, dirty: dict[int, Any], touched: dict[int, Any], budget: list[int]) -> None:
    """experta's ConflictSetNode activation, with the matcher's bookkeeping and budget.

    The node reports that it holds news for ``changes`` and memory for
    ``reset``, and counts the rule match against :data:`MAX_MATCHES`. An
    activation is hashed only when the set it is looked up in holds anything.
    """
    rule = node.rule
    key = id(node)

    def activate(token: Any) -> None:
        dirty[key] = node
        touched[key] = node
        budget[0] += 1
        if budget[0] > MAX_MATCHES:
            _too_many(node)
        context = token.context
        items = frozenset(context.items())
        info = _new_tuple(TokenInfo, (frozenset(token.data), items))  # token.to_info()
        named = {k: v for k, v in context.items() if isinstance(k, str)}
        activation = _NodeActivation(rule, info.data, named, items if len(named) == len(context) else None)
        if token.tag is _VALID:
            if info not in node.memory:
                node.memory.add(info)
                removed = node.removed
                if removed and activation in removed:
                    removed.remove(activation)
                else:
                    node.added.add(activation)
        else:
            node.memory.remove(info)  # experta lets the KeyError of an unknown token through, too
            added = node.added
            if added and activation in added:
                added.remove(activation)
            else:
                node.removed.add(activation)

    node._activate = activate


class AlphaMemory:
    """The tokens that passed one alpha node, for the joins it feeds on their right.

    A join whose left memory is empty can produce nothing from a right token, so
    it is left unlinked: the token is remembered here once instead of being
    stored in every such join. When the join's left side receives its first
    token, the join is linked and the remembered tokens are replayed into it, in
    arrival order, exactly as experta would have stored them (Rete's right
    unlinking; Doorenbos 1995). ``tokens`` and ``linked`` are the memory a
    snapshot copies; both are read through the object on every call.
    """

    def __init__(self, touched: dict[int, Any], joins: list[Any]):
        self.tokens: list[Any] = []
        self.linked: list[Any] = []
        self.touched = touched
        self.joins = joins  # every join it feeds, linked or not

    @property
    def children(self) -> list[Any]:
        """The joins this memory feeds, as experta lists a node's children, so that
        what walks the network (experta's ``print_network``) still sees all of it."""
        return [ChildNode(join, join.activate_right) for join in self.joins]

    def __str__(self) -> str:
        return "AlphaMemory"

    def receive(self, token: Any) -> None:
        """Pass a token to the linked joins, then remember it (or forget its valid twin).

        Passing a token on can link another join of this memory: a NOT on its right
        that lets a token through, say, reaches that join's left side. experta
        would hand the token to that join too, after its left activation, so the
        loop runs over the growing list and the join gets it in turn; and its
        replay must hold what it had received before this token, which is why the
        memory is updated only after the loop. Updating it first would hand the
        join the token twice (once replayed, once in turn), and a retraction
        replayed without its valid twin would reach a join that never held it.
        """
        self.touched[id(self)] = self
        for join in self.linked:  # grows while it runs (see above)
            join._activate_right(token)
        if token.tag is _VALID:
            self.tokens.append(token)
        else:
            info = token.to_info()
            for i, held in enumerate(self.tokens):
                if held.to_info() == info:
                    del self.tokens[i]
                    break

    def link(self, join: Any) -> None:
        join.cx_linked = True
        self.linked.append(join)
        self.touched[id(self)] = self
        for token in self.tokens:
            join._activate_right(token)

    def _reset(self) -> None:
        for join in self.linked:
            join.cx_linked = False
        self.tokens = []
        self.linked = []


# -- rules experta's network takes as they are, and rules it cannot take ---------------


def _in_normal_form(rule: Any) -> bool:
    """Whether experta's normal-form rewrite would leave ``rule`` as it is.

    True for a flat conjunction of patterns, NOTs of one pattern and TESTs whose
    field constraints are plain (see :func:`_plain`): the only rules the compiler
    emits. For those the rewrite is a costly no-op; every other rule needs it.
    """
    for element in rule:
        if isinstance(element, TEST):
            continue
        if isinstance(element, NOT):
            if len(element) != 1:
                return False
            element = element[0]
        if not isinstance(element, Fact) or not all(_plain(v) for v in element.values()):
            return False
    return True


_ATOMS = (L, P, W)


def _plain(constraint: Any) -> bool:
    """A field constraint the rewrite keeps as it is: no alternative to split into
    several patterns (``|``), no double negation to cancel, no nested ``&`` to flatten."""
    if isinstance(constraint, ORFC):
        return False
    if isinstance(constraint, NOTFC):
        return isinstance(constraint[0], _ATOMS)
    if isinstance(constraint, ANDFC):
        return all(isinstance(c, _ATOMS) or (isinstance(c, NOTFC) and isinstance(c[0], _ATOMS)) for c in constraint)
    return True


class UnsupportedRule(CicatrixError):
    """A rule experta's Rete network cannot run, refused while the network is built."""

    def __init__(self, rule: Any, reason: str):
        self.rule = rule
        name = getattr(getattr(rule, "_wrapped", None), "__name__", None) if rule is not None else None
        super().__init__(f"rule {name or rule!r}: {reason}" if rule is not None else reason)


_SUPPORTED = (
    "the matcher takes patterns, TEST, AND, OR, EXISTS, FORALL of two or more patterns, "
    "and NOT over a pattern, an AND, an OR or a NOT, but not a NOT over EXISTS, FORALL or TEST "
    "nor an OR inside EXISTS or FORALL"
)


def _unbuildable(engine: Any, failure: Exception) -> UnsupportedRule:
    """The error naming the first rule whose network experta cannot build on its own.

    Only called once building has already failed, so rebuilding rule by rule to
    find the culprit costs nothing on the way every knowledge base takes.
    """
    for rule in engine.get_rules():
        try:
            ruleset = {prepare_rule(rule)}
            ReteMatcher.build_beta_part(ruleset, ReteMatcher.build_alpha_part(ruleset, BusNode()))
        except Exception as exc:  # the same failure, now attributable to one rule
            return UnsupportedRule(rule, f"cannot be matched ({type(exc).__name__}: {exc}); {_SUPPORTED}")
    return UnsupportedRule(None, f"the rules cannot be matched ({type(failure).__name__}: {failure}); {_SUPPORTED}")


def _negates_a_binding(constraint: Any, negated: bool = False) -> bool:
    """Whether a field constraint can put a negated binding (``~MATCH.x``) in a token's context."""
    if isinstance(constraint, NOTFC):
        return any(_negates_a_binding(c, True) for c in constraint)
    if isinstance(constraint, (ANDFC, ORFC)):
        return any(_negates_a_binding(c, negated) for c in constraint)
    return negated and getattr(constraint, "__bind__", None) is not None


def _refuse_negated_bindings_on_the_left(nodes: list[Any]) -> None:
    """Refuse a rule whose negated binding reaches the left side of a join.

    A pattern like ``Fact(a=~MATCH.x)`` leaves ``(False, "x")`` in its tokens'
    context. On the right side of a join that means "not the x bound on the
    left"; on the left side, experta's join test raises RuntimeError ("Negated
    value present before capture") the first time the other side holds a token,
    in the middle of a consultation. The path from such a pattern to a join's left
    port is fixed when the network is built, so the rule is refused here instead.
    """
    tainted = [n for n in nodes if type(n) is FeatureTesterNode and _negates_a_binding(getattr(n.matcher, "how", None))]
    seen: set[int] = set()
    while tainted:
        node = tainted.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in node.children:
            port = getattr(child.callback, "__name__", "")
            if port == "activate_left" and type(child.node) in (OrdinaryMatchNode, NotNode):
                raise UnsupportedRule(
                    _rule_below(child.node),
                    "a pattern negates a variable (~MATCH.name) before any pattern binds it, which experta "
                    "cannot match; bind the variable in an earlier pattern",
                )
            if port == "activate" and type(child.node) in (FeatureTesterNode, WhereNode):
                tainted.append(child.node)  # passes the context on unchanged


def _rule_below(node: Any) -> Any:
    """The rule a beta node belongs to (experta builds the beta nodes of each rule apart)."""
    while type(node) is not ConflictSetNode:
        if not node.children:  # pragma: no cover - every node experta wires leads to a rule
            return None
        node = node.children[0].node
    return node.rule


def _renewed(rule: Any, *conditions: Any) -> Any:
    """``rule.new_conditions(*conditions)``, without inspecting the action's signature again.

    experta's copy re-wraps the action, which inspects its signature to learn
    which context names to pass it; the rule being copied learnt exactly that
    from the very same function, so its answer is reused. Everything else is
    experta's own: a new Rule of the conditions and salience, wrapping the action.
    """
    copy = Rule(*conditions, salience=rule.salience)
    if rule._wrapped:
        copy._wrapped = rule._wrapped
        copy._wrapped_args = rule._wrapped_args
        update_wrapper(copy, rule._wrapped)
    return copy


class IncrementalReteMatcher(ReteMatcher):
    """experta's Rete network, driven incrementally (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Everything built here lives as long as the engine: the cyclic collector
        # would only traverse it again and again (see common.memory).
        with collector_paused():
            super().__init__(*args, **kwargs)
            self._dirty_sets: dict[int, Any] = {}  # conflict-set nodes that received tokens
            self._touched: dict[int, Any] = {}  # nodes holding memory since the last reset
            self._budget = [0]  # rule matches since the last reset, bounded by MAX_MATCHES
            nodes = _walk(self.root_node)
            _refuse_negated_bindings_on_the_left(nodes)
            self._csn_order = {id(n): i for i, n in enumerate(n for n in nodes if type(n) is ConflictSetNode)}
            for node in nodes:
                self._instrument(node)
            for node in nodes:
                if type(node) is FeatureTesterNode:
                    self._unlink_right_joins(node)
            for node in nodes:  # beta nodes call their children directly (alpha nodes: _compile_tester)
                if type(node) not in (BusNode, FeatureTesterNode):
                    node.children = [ChildNode(c.node, _port(c)) for c in node.children]
            for node in reversed(nodes):  # children before parents
                if type(node) is FeatureTesterNode:
                    _compile_tester(node)
            self._index_root(self.root_node)

    # -- bookkeeping ---------------------------------------------------------------

    def _instrument(self, node: Any) -> None:
        """Give memory nodes their activation with the matcher's bookkeeping (what changed, what to reset)."""
        touched = self._touched
        if type(node) is ConflictSetNode:
            _fast_conflict_set(node, self._dirty_sets, touched, self._budget)
            return
        if type(node) is FeatureTesterNode:
            node.cx_check = node.matcher  # what _compile_tester compiles and indexes
            return
        if type(node) is OrdinaryMatchNode:
            _fast_join(node, touched)
            return
        if type(node) is NotNode:
            _fast_not(node, touched)
            return
        if isinstance(node, NoMemory):
            return
        for port in ("_activate_left", "_activate_right", "_activate"):  # pragma: no cover - no other node
            original = getattr(node, port, None)
            if original is None:
                continue

            def activate(token: Any, node: Any = node, original: Any = original) -> None:
                touched[id(node)] = node
                original(token)

            setattr(node, port, activate)

    # -- right unlinking ------------------------------------------------------------------

    def _unlink_right_joins(self, node: Any) -> None:
        joins = [
            c
            for c in node.children
            if type(c.node) in (OrdinaryMatchNode, NotNode)
            and getattr(c.node, "cx_right_parent", None) is None
            and getattr(c.callback, "__name__", "") == "activate_right"
        ]
        if not joins:
            return
        memory = AlphaMemory(self._touched, [c.node for c in joins])
        for child in joins:
            join = child.node
            join.cx_right_parent = memory
            join.cx_linked = False
            if type(join) in (OrdinaryMatchNode, NotNode):
                continue  # its left port links it (_fast_join, _fast_not)
            left = join._activate_left  # pragma: no cover - no other join

            def activate_left(token: Any, join: Any = join, left: Any = left, memory: AlphaMemory = memory) -> None:
                if not join.cx_linked:
                    memory.link(join)
                left(token)

            join._activate_left = activate_left
        unlinked = {id(c) for c in joins}
        node.children = [c for c in node.children if id(c) not in unlinked] + [ChildNode(memory, memory.receive)]

    # -- the root ---------------------------------------------------------------------

    @staticmethod
    def _index_root(node: Any) -> None:
        """Facts go straight to their own class's branch (which then skips its class test)."""
        by_type: dict[type, list[Any]] = {}
        others: list[Any] = []
        for child in node.children:
            check = getattr(child.node, "cx_check", None)
            if type(check) is TypeCheck:
                by_type.setdefault(check.fact_type, []).append(child.node.cx_after)
            else:
                others.append(_port(child))
        get = by_type.get

        def send(fact: Any, token: Any) -> None:
            for after in get(type(fact), ()):
                after(token)
            for call in others:
                call(token)

        def add(fact: Any) -> None:
            send(fact, _make_token((_VALID, {fact}, {})) if isinstance(fact, Fact) else Token.valid(fact))

        def remove(fact: Any) -> None:
            send(fact, _make_token((_INVALID, {fact}, {})) if isinstance(fact, Fact) else Token.invalid(fact))

        node.add = add
        node.remove = remove

    # -- building -----------------------------------------------------------------------

    @staticmethod
    def prepare_ruleset(engine: Any) -> set[Any]:
        """experta's own preparation of every rule, skipping its normal-form rewrite where that is a no-op.

        experta rewrites every rule into disjunctive normal form first, which costs
        more than the rest of building the network. The compiler only ever emits a
        flat conjunction of patterns, NOTs of one pattern and TESTs whose field
        constraints hold no alternative (``|``) and no double negation: that is
        already the normal form, so only experta's last step (an InitialFact before
        a leading NOT, or for a rule without patterns) is applied to those. Any
        other rule (OR, EXISTS, FORALL, NOT over AND, ``|`` in a field, ...) goes
        through experta's full preparation, so the network it gets is exactly
        the one the stock matcher builds for it.
        """
        prepared = set()
        for rule in engine.get_rules():
            if _in_normal_form(rule):
                # new_conditions also drops the engine experta bound the rule to while
                # listing rules, as its own preparation does. experta counts the
                # pattern of a NOT as a pattern here: a rule of TESTs and NOTs that
                # does not start with the NOT gets no InitialFact (and never fires).
                if not rule or isinstance(rule[0], NOT) or not any(isinstance(e, (Fact, NOT)) for e in rule):
                    prepared.add(_renewed(rule, InitialFact(), *rule))
                else:
                    prepared.add(_renewed(rule, *rule))
            else:
                prepared.add(prepare_rule(rule))
        return prepared

    build_alpha_part = staticmethod(_build_alpha)

    @staticmethod
    def build_beta_part(ruleset: set[Any], alpha_terminals: Mapping[Any, Any]) -> None:
        """experta's ``build_beta_part``, wiring each rule with :func:`_wire_rule`."""
        for rule in ruleset:
            if isinstance(rule[0], OR):
                for subrule in rule[0]:
                    _wire_rule(rule, alpha_terminals, subrule)
            else:
                _wire_rule(rule, alpha_terminals, rule)

    def build_network(self) -> None:
        """experta's network for the rules, or a :class:`UnsupportedRule` naming the rule it cannot build.

        experta's own builder fails on a few combinations (a NOT over EXISTS,
        FORALL or TEST; an OR inside EXISTS or FORALL; a FORALL of one pattern)
        with a bare KeyError, SyntaxError or AttributeError that names no rule.
        """
        try:
            super().build_network()
        except Exception as exc:  # experta raises whatever its builder happens to hit
            raise _unbuildable(self.engine, exc) from exc

    # -- the Matcher interface ----------------------------------------------------------

    def changes(self, adding: Any = None, deleting: Any = None) -> tuple[list[Any], list[Any]]:
        if deleting is not None:
            for deleted in deleting:
                self.root_node.remove(deleted)
        if adding is not None:
            for added in adding:
                self.root_node.add(added)
        added: list[Any] = []
        removed: list[Any] = []
        if self._dirty_sets:
            order = self._csn_order
            for csn in sorted(self._dirty_sets.values(), key=lambda n: order[id(n)]):
                c_added, c_removed = csn.get_activations()
                added.extend(c_added)
                removed.extend(c_removed)
            self._dirty_sets.clear()
        return added, removed

    def reset(self) -> None:
        for node in self._touched.values():
            node._reset()
        self._touched.clear()
        self._dirty_sets.clear()
        self._budget[0] = 0


# One consultation may produce this many rule matches. A rule that joins the same
# facts many ways (eight patterns on one input template) grows as n^8 with the input and
# would otherwise run for hours; real knowledge bases stay far below (the bundled
# one makes about 1,000 for 50 input entries and 5,000 for 200). `kb lint` warns about such joins before they run.
MAX_MATCHES = 20_000


class TooManyMatches(Exception):
    """The match budget ran out; ``index`` is the load index of the rule that exceeded it (or None)."""

    def __init__(self, index: int | None):
        super().__init__(f"more than {MAX_MATCHES:,} rule matches in one consultation")
        self.index = index


def _too_many(node: Any) -> None:
    raise TooManyMatches(getattr(getattr(node.rule, "_wrapped", None), "cx_index", None))
