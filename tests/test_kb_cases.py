"""The knowledge base's own test cases (kb/tests/*.yaml), one pytest test each,
and the coverage rule: every rule of the bundled knowledge base is fired by at
least one case."""

from __future__ import annotations

import pytest

from cicatrix.engine.authoring.cases import load_cases, run_case
from cicatrix.engine.knowledge.loader import load

KB = load()
CASES = load_cases(KB)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(session, case):
    outcome = run_case(session, case)
    assert outcome.passed, f"{case.where}: {case.id}\n  " + "\n  ".join(outcome.failures)


def test_there_are_enough_cases():
    assert len(CASES) >= 40
    assert sum(c.id.startswith("V") for c in CASES) >= 24


def test_every_rule_is_fired_by_some_case(session):
    fired: set[str] = set()
    for case in CASES:
        fired.update(run_case(session, case).fired)
    never = [r.id for r in KB.rules if r.id not in fired]
    assert not never, "rules no test case fires: " + ", ".join(never)
