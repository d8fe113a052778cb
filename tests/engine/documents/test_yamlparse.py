"""The YAML reader's syntax errors: worded and placed as an editor would show them."""

from __future__ import annotations

import yaml

from cicatrix.engine.common.errors import Problem
from cicatrix.engine.documents.yamlparse import syntax_problem


def _mark(line: int, column: int) -> yaml.Mark:
    return yaml.Mark("f", 0, line, column, None, None)


def test_syntax_problem_words_and_places():
    both = yaml.MarkedYAMLError("while parsing", _mark(0, 0), "found junk", _mark(4, 2))
    assert syntax_problem(both, "f.yaml") == Problem("f.yaml", 5, 3, "", "not valid YAML: found junk (while parsing)")
    problem_only = yaml.MarkedYAMLError(None, None, "found junk", _mark(1, 0))
    assert syntax_problem(problem_only, "f.yaml") == Problem("f.yaml", 2, 1, "", "not valid YAML: found junk")
    # without a problem mark, the context's place is used
    context_only = yaml.MarkedYAMLError("while scanning", _mark(6, 9), None, None)
    assert syntax_problem(context_only, "f.yaml") == Problem("f.yaml", 7, 10, "", "not valid YAML: while scanning")
    nothing = yaml.MarkedYAMLError()
    assert syntax_problem(nothing, "f.yaml") == Problem("f.yaml", None, None, "", "not valid YAML: malformed YAML")


# --- read() ----------------------------------------------------------------------------
