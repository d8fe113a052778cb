"""A parsed document's positions: a message always finds the nearest place to point at."""

from __future__ import annotations

from cicatrix.engine.documents.document import Document, Mark, format_path


def test_a_mark_falls_back_to_the_nearest_parent_and_keys_have_their_own():
    doc = Document("f.yaml", {"a": [1]}, marks={(): Mark(1, 1), ("a",): Mark(2, 3)}, key_marks={("a",): Mark(2, 1)})
    assert doc.mark(("a", 0, "deeper")) == Mark(2, 3)
    assert doc.mark(("a",), key=True) == Mark(2, 1)
    assert doc.mark(("b",), key=True) == Mark(1, 1)
    assert Document("f.yaml", None).mark(("x",)) is None


def test_a_problem_names_file_place_and_path():
    doc = Document("f.yaml", {}, marks={("a",): Mark(2, 3)})
    problem = doc.problem(("a", 1, "b"), "wrong")
    assert (problem.file, problem.line, problem.column, problem.path) == ("f.yaml", 2, 3, "a[1].b")
    assert format_path(()) == "" and format_path(("x", 0)) == "x[0]"
