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
   Here a node's children that test a field for equality with a string literal are
   indexed by that literal (as CLIPS and Drools hash alpha memories), and a fact
   reaches only the child for its own value; the root indexes its type tests by
   fact class in the same way.
4. A join whose left memory is empty can produce nothing from a right token,
   yet experta copies and stores every token in every join it reaches. Here
   such joins are unlinked from their alpha node, which remembers the tokens once
   and replays them when the join's left side first gets a token (right
   unlinking, see :class:`AlphaMemory`). With selective patterns first (the
   compiler's ordering), a fact reaches only the joins that can use it.
5. Every token hop goes through experta's logging checks. The callbacks of the
   built network are rewired to call the nodes' activation code directly.

Nothing changes what matches: the nodes, their tests, memories and the order in
which they receive tokens per child are experta's own. The differential tests in
``tests/engine/match/test_matcher.py`` run random rule sets and patients through both matchers
and require identical firings, in the same order, and identical plans.

The matcher is a drop-in for experta's on every rule experta's runs, not only on
the flat conjunctions the compiler emits: OR, EXISTS, FORALL, NOT over AND / OR /
NOT, alternatives (``|``) in fields. Those rules go through experta's own
preparation and wiring, and the steps above apply to the nodes they produce
(``tests/engine/match/test_matcher_conditional_elements.py`` runs random ones
against the stock matcher). A rule experta cannot build, or one that would fail
in the middle of matching, is refused with an :class:`UnsupportedRule` naming
it when the network is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..common.errors import CicatrixError
from ..compile.compat import (
    ANDFC,
    NOT,
    NOTFC,
    ORFC,
    TEST,
    BusNode,
    ChildNode,
    ConflictSetNode,
    Fact,
    FeatureCheck,
    FeatureTesterNode,
    InitialFact,
    L,
    NoMemory,
    NotNode,
    OrdinaryMatchNode,
    P,
    ReteMatcher,
    Token,
    TypeCheck,
    W,
    WhereNode,
    prepare_rule,
)

INDEX_THRESHOLD = 3  # index a node's children once this many test the same field


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


def _direct(node: Any, callback: Callable[..., Any]) -> Callable[..., Any]:
    """The activation a child callback stands for, without experta's per-hop logging checks."""
    name = getattr(callback, "__name__", "")
    if name == "activate" and isinstance(node, FeatureTesterNode) and not _binds(getattr(node, "cx_check", None)):
        # A test that binds nothing never changes the token, so it can share it.
        return lambda token: node._activate(token)
    if name in ("activate", "activate_left", "activate_right"):
        port = "_" + name  # looked up at call time: indexing and linking may replace it later
        return lambda token: getattr(node, port)(_copy(token))
    return callback


def _binds(check: Any) -> bool:
    """Whether an alpha test may add bindings to a token's context (conservatively)."""
    if isinstance(check, TypeCheck):
        return False
    how = getattr(check, "how", None)
    return not (isinstance(how, (L, P)) and how.__bind__ is None)


def _copy(token: Any) -> Any:
    """``Token.copy()`` without re-validating that its data are facts (they already are)."""
    return Token._make((token.tag, token.data.copy(), token.context.copy()))


class AlphaMemory:
    """The tokens that passed one alpha node, for the joins it feeds on their right.

    A join whose left memory is empty can produce nothing from a right token, so
    it is left unlinked: the token is remembered here once instead of being
    copied into every such join. When the join's left side receives its first
    token, the join is linked and the remembered tokens are replayed into it, in
    arrival order, exactly as experta would have stored them (Rete's right
    unlinking; Doorenbos 1995).
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
            join._activate_right(_copy(token))
        if token.is_valid():
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
            join._activate_right(_copy(token))

    def _reset(self) -> None:
        for join in self.linked:
            join.cx_linked = False
        self.tokens = []
        self.linked = []


def _literal_key(child_node: Any) -> tuple[str, str] | None:
    """(field, value) when a child tests ``fact[field] == "value"`` and binds nothing."""
    check = getattr(child_node, "cx_check", None)
    if not isinstance(check, FeatureCheck) or not isinstance(check.what, str) or "__" in check.what:
        return None
    how = check.how
    if isinstance(how, L) and how.__bind__ is None and isinstance(how.value, str):
        return check.what, how.value
    return None


def _fast_check(check: Any) -> Callable[[Any], Any]:
    """A FeatureCheck's test without its logging (same lookup, same comparison)."""
    if isinstance(check, TypeCheck):
        wanted = check.fact_type
        return lambda fact: type(fact) is wanted
    if isinstance(check, FeatureCheck) and isinstance(check.what, str) and "__" not in check.what:
        what, test, expected = check.what, check.check, check.expected

        def run(fact: Any) -> Any:
            try:
                record = fact[what]
            except (IndexError, KeyError, TypeError):
                return False
            return test(record, expected)

        return run
    return check


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
    tainted = [
        n for n in nodes if isinstance(n, FeatureTesterNode) and _negates_a_binding(getattr(n.matcher, "how", None))
    ]
    seen: set[int] = set()
    while tainted:
        node = tainted.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in node.children:
            port = getattr(child.callback, "__name__", "")
            if port == "activate_left" and isinstance(child.node, (OrdinaryMatchNode, NotNode)):
                raise UnsupportedRule(
                    _rule_below(child.node),
                    "a pattern negates a variable (~MATCH.name) before any pattern binds it, which experta "
                    "cannot match; bind the variable in an earlier pattern",
                )
            if port == "activate" and isinstance(child.node, (FeatureTesterNode, WhereNode)):
                tainted.append(child.node)  # passes the context on unchanged


def _rule_below(node: Any) -> Any:
    """The rule a beta node belongs to (experta builds the beta nodes of each rule apart)."""
    while not isinstance(node, ConflictSetNode):
        if not node.children:  # pragma: no cover - every node experta wires leads to a rule
            return None
        node = node.children[0].node
    return node.rule


class IncrementalReteMatcher(ReteMatcher):
    """experta's Rete network, driven incrementally (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dirty_sets: dict[int, Any] = {}  # conflict-set nodes that received tokens
        self._touched: dict[int, Any] = {}  # nodes holding memory since the last reset
        self._budget = [0]  # rule matches since the last reset, bounded by MAX_MATCHES
        nodes = _walk(self.root_node)
        _refuse_negated_bindings_on_the_left(nodes)
        self._right_ports = {
            c for n in nodes for c in n.children if getattr(c.callback, "__name__", "") == "activate_right"
        }
        self._csn_order = {id(n): i for i, n in enumerate(n for n in nodes if isinstance(n, ConflictSetNode))}
        for node in nodes:
            self._instrument(node)
        for node in nodes:
            rewired = []
            for c in node.children:
                direct = ChildNode(c.node, _direct(c.node, c.callback))
                if c in self._right_ports:
                    self._right_ports.add(direct)
                rewired.append(direct)
            node.children = rewired
        for node in nodes:
            if isinstance(node, FeatureTesterNode):
                self._unlink_right_joins(node)
        for node in nodes:
            if isinstance(node, (BusNode, FeatureTesterNode)):
                self._index(node)

    # -- bookkeeping ---------------------------------------------------------------

    def _instrument(self, node: Any) -> None:
        touched = self._touched
        if isinstance(node, ConflictSetNode):
            dirty = self._dirty_sets
            original = node._activate
            budget = self._budget

            def activate(token: Any, node: Any = node, original: Any = original) -> None:
                dirty[id(node)] = node
                touched[id(node)] = node
                budget[0] += 1
                if budget[0] > MAX_MATCHES:
                    _too_many(node)
                original(token)

            node._activate = activate
            return
        if isinstance(node, FeatureTesterNode):
            node.cx_check = node.matcher  # the original check, for indexing
            node.matcher = _fast_check(node.matcher)
        if isinstance(node, NoMemory):
            return
        for port in ("_activate_left", "_activate_right", "_activate"):
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
            if isinstance(c.node, (OrdinaryMatchNode, NotNode))
            and getattr(c.node, "cx_right_parent", None) is None
            and c in self._right_ports
        ]
        if not joins:
            return
        memory = AlphaMemory(self._touched, [c.node for c in joins])
        for child in joins:
            join = child.node
            join.cx_right_parent = memory
            join.cx_linked = False
            left = join._activate_left

            def activate_left(token: Any, join: Any = join, left: Any = left, memory: AlphaMemory = memory) -> None:
                if not join.cx_linked:
                    memory.link(join)
                left(token)

            join._activate_left = activate_left
        node.children = [c for c in node.children if c not in joins] + [ChildNode(memory, memory.receive)]

    # -- alpha indexing ---------------------------------------------------------------

    def _index(self, node: Any) -> None:
        if isinstance(node, BusNode):
            self._index_root(node)
            return
        tables: dict[str, dict[str, list[Any]]] = {}
        for child in node.children:
            key = _literal_key(child.node)
            if key is not None:
                tables.setdefault(key[0], {}).setdefault(key[1], []).append(child)
        indexed = {f: t for f, t in tables.items() if sum(map(len, t.values())) >= INDEX_THRESHOLD}
        rest = [c for c in node.children if (_literal_key(c.node) or ("", ""))[0] not in indexed]
        self._index_tester(node, rest, list(indexed.items()))

    @staticmethod
    def _index_root(node: Any) -> None:
        by_type: dict[type, list[Any]] = {}
        others: list[Any] = []
        for child in node.children:
            check = getattr(child.node, "cx_check", None)
            if isinstance(check, TypeCheck):
                by_type.setdefault(check.fact_type, []).append(child)
            else:
                others.append(child)

        def send(fact: Any, token: Any) -> None:
            for child in by_type.get(type(fact), ()):
                child.callback(token)
            for child in others:
                child.callback(token)

        node.add = lambda fact: send(fact, Token.valid(fact))
        node.remove = lambda fact: send(fact, Token.invalid(fact))

    @staticmethod
    def _index_tester(node: Any, rest: list[Any], indexed: list[tuple[str, dict[str, list[Any]]]]) -> None:
        matcher = node.matcher

        def activate(token: Any) -> Any:
            fact = next(iter(token.data))
            match = matcher(fact)
            if not match:
                return None
            if isinstance(match, Mapping):
                context = token.context
                for key, value in match.items():
                    if isinstance(key, tuple):
                        if key[1] in context and context[key[1]] == value:
                            return None
                    else:
                        if context.get(key, value) != value:
                            return None
                        if (False, key) in context and context[(False, key)] == value:
                            return None
                context.update(match)
            for child in rest:
                child.callback(token)
            for field, table in indexed:
                try:
                    value = fact[field]
                except (KeyError, IndexError, TypeError):
                    continue
                if isinstance(value, str):
                    for child in table.get(value, ()):
                        child.callback(token)
            return None

        node._activate = activate

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
                    prepared.add(rule.new_conditions(InitialFact(), *rule))
                else:
                    prepared.add(rule.new_conditions(*rule))
            else:
                prepared.add(prepare_rule(rule))
        return prepared

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
