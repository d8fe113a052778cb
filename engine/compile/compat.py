"""The one module that imports experta.

experta 1.9.4, its last release, pins ``frozendict==1.2``, whose import does
``class frozendict(collections.Mapping)``; that alias was removed in Python 3.10,
so a plain ``pip install experta`` installs but cannot be imported. Restoring the
alias before the first experta import is the smallest fix that keeps a plain
``pip install .`` working on Python 3.10-3.13 without vendoring either package.

experta also calls ``logging.basicConfig()`` when imported, which would attach a
handler to the root logger and let its watcher noise reach the terminal. We undo
that and silence experta's own loggers; its debug calls in the hot path then
cost a level check only.
"""

from __future__ import annotations

import collections
import collections.abc
import logging

if not hasattr(collections, "Mapping"):  # Python >= 3.10
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

_root = logging.getLogger()
_handlers_before = list(_root.handlers)

import experta  # noqa: E402
from experta import (  # noqa: E402
    AND,
    AS,
    EXISTS,
    FORALL,
    MATCH,
    NOT,
    OR,
    TEST,
    Fact,
    InitialFact,
    KnowledgeEngine,
    P,
    Rule,
    W,
)
from experta.abstract import Strategy  # noqa: E402
from experta.activation import Activation  # noqa: E402
from experta.factlist import FactList  # noqa: E402
from experta.fieldconstraint import ANDFC, NOTFC, ORFC, L  # noqa: E402
from experta.matchers.rete import ReteMatcher  # noqa: E402
from experta.matchers.rete.check import (  # noqa: E402
    FactCapture,
    FeatureCheck,
    SameContextCheck,
    TypeCheck,
    WhereCheck,
)
from experta.matchers.rete.mixins import ChildNode, NoMemory  # noqa: E402
from experta.matchers.rete.nodes import (  # noqa: E402
    BusNode,
    ConflictSetNode,
    FeatureTesterNode,
    NotNode,
    OrdinaryMatchNode,
    WhereNode,
)
from experta.matchers.rete.token import Token, TokenInfo  # noqa: E402
from experta.matchers.rete.utils import extract_facts, generate_checks, prepare_rule  # noqa: E402
from experta.utils import freeze  # noqa: E402

for _handler in list(_root.handlers):
    if _handler not in _handlers_before:
        _root.removeHandler(_handler)
logging.getLogger("experta").setLevel(logging.CRITICAL)
logging.getLogger("experta").propagate = False

EXPERTA_VERSION: str = experta.__version__

__all__ = [
    "AND",
    "ANDFC",
    "AS",
    "EXISTS",
    "EXPERTA_VERSION",
    "FORALL",
    "MATCH",
    "NOT",
    "NOTFC",
    "OR",
    "ORFC",
    "TEST",
    "Activation",
    "BusNode",
    "ChildNode",
    "ConflictSetNode",
    "Fact",
    "FactCapture",
    "FactList",
    "FeatureCheck",
    "FeatureTesterNode",
    "InitialFact",
    "KnowledgeEngine",
    "L",
    "NoMemory",
    "NotNode",
    "OrdinaryMatchNode",
    "P",
    "ReteMatcher",
    "Rule",
    "SameContextCheck",
    "Strategy",
    "Token",
    "TokenInfo",
    "TypeCheck",
    "W",
    "WhereCheck",
    "WhereNode",
    "extract_facts",
    "freeze",
    "generate_checks",
    "prepare_rule",
]
