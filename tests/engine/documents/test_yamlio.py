"""engine/documents/yamlio.py: YAML and JSON read as plain data, with the 1-based
line and column of every value and key kept for messages; duplicate keys, tags
other than plain data and syntax errors are located problems."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError, Problem
from cicatrix.engine.documents.yamlio import Document, Mark, format_path, parse, parse_json, read

TEXT = """\
name: test
items:
  - x
  - {c: 2, d: [3, 4]}
"""


def problems(text: str, file: str = "f.yaml") -> tuple[Problem, ...]:
    with pytest.raises(CicatrixError) as caught:
        parse(text, file)
    return caught.value.problems


# --- positions -------------------------------------------------------------------------


def test_plain_data_comes_back_as_python_values():
    assert parse(TEXT, "f.yaml").data == {"name": "test", "items": ["x", {"c": 2, "d": [3, 4]}]}


def test_values_are_marked_at_their_first_character():
    doc = parse(TEXT, "f.yaml")
    assert doc.marks[()] == Mark(1, 1)
    assert doc.marks[("name",)] == Mark(1, 7)
    assert doc.marks[("items",)] == Mark(3, 3)  # a block sequence starts at its first dash
    assert doc.marks[("items", 0)] == Mark(3, 5)
    assert doc.marks[("items", 1)] == Mark(4, 5)
    assert doc.marks[("items", 1, "c")] == Mark(4, 9)
    assert doc.marks[("items", 1, "d", 1)] == Mark(4, 19)


def test_keys_are_marked_apart_from_their_values():
    doc = parse(TEXT, "f.yaml")
    assert doc.key_marks[("name",)] == Mark(1, 1)
    assert doc.key_marks[("items",)] == Mark(2, 1)
    assert doc.key_marks[("items", 1, "d")] == Mark(4, 12)
    assert ("items", 0) not in doc.key_marks  # a list item has no key
    assert doc.mark(("items",), key=True) == Mark(2, 1)
    assert doc.mark(("items",)) == Mark(3, 3)


def test_mark_falls_back_to_the_nearest_parent():
    doc = parse(TEXT, "f.yaml")
    assert doc.mark(("items", 1, "missing")) == Mark(4, 5)
    assert doc.mark(("items", 1, "missing", 0, "deeper")) == Mark(4, 5)
    assert doc.mark(("nowhere",)) == Mark(1, 1)
    # a key mark is used only where there is one; otherwise the value's (or a parent's)
    assert doc.mark(("items", 0), key=True) == Mark(3, 5)
    assert doc.mark(["items", 1, "c"]) == Mark(4, 9)  # any sequence is a path


def test_an_empty_document_has_no_data_and_no_marks():
    doc = parse("", "f.yaml")
    assert doc.data is None
    assert doc.mark(("anything",)) is None
    assert doc.problem(("a", 0), "bad") == Problem("f.yaml", None, None, "a[0]", "bad")


def test_problem_is_located_at_the_value_or_the_key():
    doc = parse(TEXT, "f.yaml")
    assert doc.problem(("items", 1, "d"), "bad") == Problem("f.yaml", 4, 15, "items[1].d", "bad")
    assert doc.problem(("items", 1, "d"), "bad", key=True) == Problem("f.yaml", 4, 12, "items[1].d", "bad")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), ""),
        (("a",), "a"),
        (("a", "b"), "a.b"),
        (("scars", 0, "type"), "scars[0].type"),
        ((0, "when", 2), "[0].when[2]"),
        (("m", 1, 2), "m[1][2]"),
    ],
)
def test_format_path(path, expected):
    assert format_path(path) == expected


def test_json_is_read_with_positions_too(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"scars": [\n  {"type": "boxcar"}\n]}\n')
    doc = read(path)
    assert doc.data == {"scars": [{"type": "boxcar"}]}
    assert doc.mark(("scars", 0, "type")) == Mark(2, 12)
    assert doc.file == str(path)


# --- what is refused -------------------------------------------------------------------


def test_a_duplicate_key_is_reported_where_it_repeats_naming_the_first():
    (problem,) = problems("a: 1\nb:\n  c: 2\n  c: 3\n")
    assert problem == Problem("f.yaml", 4, 3, "b.c", "duplicate key 'c' (first at line 3)")
    (problem,) = problems("b:\n  c: 2\nb:\n  c: 3\n")
    assert problem == Problem("f.yaml", 3, 1, "b", "duplicate key 'b' (first at line 1)")  # the key, not its value


def test_every_duplicate_is_reported_in_one_pass():
    found = problems("{a: 1, a: 2, a: 3}\n")
    assert [(p.line, p.column) for p in found] == [(1, 8), (1, 14)]
    assert all(p.message == "duplicate key 'a' (first at line 1)" for p in found)
    # each repeat names the first occurrence, not the previous repeat
    found = problems("a: 1\na: 2\na: 3\n")
    assert [(p.line, p.message) for p in found] == [
        (2, "duplicate key 'a' (first at line 1)"),
        (3, "duplicate key 'a' (first at line 1)"),
    ]


def test_a_mapping_key_must_be_a_plain_value():
    (problem,) = problems("? [1, 2]\n: x\n")
    assert problem.line == 1 and "a mapping key must be a plain value, got [1, 2]" in problem.message


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        # on a scalar, the safe loader has no constructor for the tag
        ("a: !!python/object/apply:os.system echo\n", (1, 4), "could not determine a constructor"),
        ("a: !!python/name:os.system x\n", (1, 4), "could not determine a constructor"),
        # on a sequence or a mapping the reader builds itself, the tag is refused outright
        ("a: !!python/object/apply:os.system [echo]\n", (1, 4), "is not allowed (only plain data)"),
        ("a:\n  b: !!python/object/apply:os.system\n    args: [echo]\n", (2, 6), "is not allowed (only plain data)"),
        ("!!python/object/new:dict {}\n", (1, 1), "is not allowed (only plain data)"),
        ("a: !!set {x, y}\n", (1, 4), "is not allowed (only plain data)"),
        ("a: !custom [1]\n", (1, 4), "'!custom' is not allowed"),
    ],
)
def test_tags_other_than_plain_data_are_refused(text, where, words):
    (problem,) = problems(text)
    assert (problem.line, problem.column) == where
    assert problem.message.startswith("not valid YAML: ") and words in problem.message


def test_explicit_plain_tags_are_fine():
    assert parse("a: !!str 3\nb: !!map {c: 1}\nd: !!seq [1]\n", "f.yaml").data == {"a": "3", "b": {"c": 1}, "d": [1]}


def test_merge_keys_are_resolved():
    doc = parse("base: &b {p: 1, q: 2}\nother:\n  <<: *b\n  r: 3\n", "f.yaml")
    assert doc.data["other"] == {"p": 1, "q": 2, "r": 3}
    assert "<<" not in doc.data["other"]


def test_a_key_beside_a_merge_overrides_the_merged_one():
    assert parse("base: &b {p: 1}\nother:\n  <<: *b\n  p: 2\n", "f.yaml").data["other"] == {"p": 2}


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: [1,\n", (2, 1), "did not find expected node content (while parsing a flow node)"),
        ("a: b: c\n", (1, 5), "mapping values are not allowed in this context"),
        ("a:\n\tb: 1\n", (2, 1), "cannot start any token"),
        ("a: 1\n---\nb: 2\n", (2, 1), "expected a single document"),
    ],
)
def test_syntax_errors_are_located(text, where, words):
    (problem,) = problems(text, "rules.yaml")
    assert problem.file == "rules.yaml" and problem.path == ""
    assert (problem.line, problem.column) == where
    assert problem.message.startswith("not valid YAML: ") and words in problem.message


def test_an_unreadable_character_is_bad_yaml_without_a_place():
    (problem,) = problems("a: \x07\n")
    assert problem.file == "f.yaml" and problem.line is None
    assert problem.message.startswith("not valid YAML: ") and "control characters are not allowed" in problem.message


def read_problem(path, **kwargs) -> Problem:
    with pytest.raises(CicatrixError) as caught:
        read(path, **kwargs)
    (problem,) = caught.value.problems
    return problem


def test_read_a_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    doc = read(path, display="shown.yaml")
    assert isinstance(doc, Document)
    assert doc.data == {"a": [1, 2]} and doc.file == "shown.yaml"


def test_read_a_missing_file(tmp_path):
    problem = read_problem(tmp_path / "nope.yaml")
    assert problem == Problem(str(tmp_path / "nope.yaml"), None, None, "", "no such file")
    assert read_problem(tmp_path / "nope.yaml", display="p.yaml").render() == "p.yaml: no such file"


def test_read_a_folder(tmp_path):
    assert read_problem(tmp_path, display="kb").render() == "kb: is a folder, expected a file"


def test_read_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(b"a: caf\xe9\n")
    assert read_problem(path, display="p.yaml").render() == "p.yaml:1:7: not UTF-8 text (byte 6: 0xe9)"


@pytest.mark.parametrize("suffix", [".json", ".JSON"])
def test_read_json_that_is_not_valid_json_is_located(tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    # valid YAML, so only the JSON check can refuse it
    path.write_text('{"scars": [\n  {type: boxcar}\n]}\n')
    problem = read_problem(path, display="p.json")
    assert (problem.file, problem.line, problem.column) == ("p.json", 2, 4)
    assert problem.message.startswith("not valid JSON: Expecting property name")


def test_read_yaml_is_not_held_to_json(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('{"scars": [\n  {type: boxcar}\n]}\n')
    assert read(path).data == {"scars": [{"type": "boxcar"}]}


def test_read_reports_yaml_problems_with_the_displayed_name(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("a: 1\na: 2\n")
    assert read_problem(path, display="p.yaml").render() == "p.yaml:2:1: a: duplicate key 'a' (first at line 1)"


@pytest.mark.parametrize(("value", "text"), [(None, "null"), (True, "true"), (False, "false"), ("a", "'a'"), (3, "3")])
def test_values_are_shown_as_an_author_wrote_them(value, text):
    from cicatrix.engine.documents.yamlio import as_written

    assert as_written(value) == text


def test_a_mapping_that_overrides_a_merged_key_can_be_reused_by_alias():
    import yaml as pyyaml

    text = "c: &c {x: 0, y: 0}\nb: &b {<<: *c, x: 1}\nother: *b\n"
    data = parse(text, "f.yaml").data
    assert data == pyyaml.safe_load(text)
    assert list(data["other"]) == ["x", "y"]  # an overridden key keeps its place, as in YAML


def test_merges_follow_yaml_order_and_explicit_duplicates_are_still_caught():
    import yaml as pyyaml

    text = "a: &a {p: 1}\nb: &b {p: 2, r: 1}\nc:\n  <<: [*a, *b]\n"
    assert parse(text, "f.yaml").data == pyyaml.safe_load(text)
    (problem,) = problems("c: &c {x: 0}\nd:\n  <<: *c\n  x: 1\n  x: 2\n")
    assert (problem.line, problem.message) == (5, "duplicate key 'x' (first at line 4)")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: &a [*a]\n", (1, 4), "an alias refers to the collection it is part of"),
        ("a: " + "[" * 80 + "]" * 80 + "\n", (1, 68), "nested deeper than 64 levels"),
        ("a: " + "9" * 5000 + "\n", (1, 4), "a number longer than 64 characters"),
        ("9" * 100 + ": 1\n", (1, 1), "a number longer than 64 characters"),
        ("a: .inf\n", (1, 4), "expected a finite number, got .inf"),
        ("a: [1, .nan]\n", (1, 8), "expected a finite number, got .nan"),
    ],
)
def test_input_past_a_bound_is_a_located_problem(text, where, message):
    with pytest.raises(CicatrixError) as caught:
        parse(text, "f.yaml")
    (found,) = caught.value.problems
    assert (found.line, found.column, found.message) == (*where, message)


def test_an_alias_bomb_stops_at_the_value_budget():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(CicatrixError, match="expands to more than 200,000 values"):
        parse("\n".join(lines) + "\n", "f.yaml")


def test_a_merge_key_with_an_override_is_no_duplicate():
    doc = parse("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  a: 3\n", "f.yaml")
    assert doc.data["x"] == {"a": 3, "b": 2}


def test_json_files_are_read_as_json_with_positions(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{\n  "a": 1e1,\n  "b": [1.5E2]\n}\n', encoding="utf-8")
    doc = read(path)
    assert doc.data == {"a": 10.0, "b": [150.0]}
    assert doc.mark(("b", 0)) is not None and doc.mark(("b", 0)).line == 3


def test_a_json_document_reads_positions_only_when_asked():
    doc = parse_json('{"a": [1,\n  {"b": 2}]}', "p.json")
    assert doc.data == {"a": [1, {"b": 2}]}
    assert "_marks" in vars(doc) and vars(doc)["_marks"] is None  # nothing read yet
    assert doc.mark(("a", 1, "b")) == Mark(2, 9)
    assert doc.problem(("a", 1, "b"), "wrong").line == 2


def test_a_valid_json_file_never_imports_pyyaml(tmp_path):
    """Cold start: a JSON patient file pays for PyYAML only when a message needs a position."""
    import subprocess
    import sys

    path = tmp_path / "p.json"
    path.write_text('{"scars": [{"type": "boxcar"}]}')
    code = (
        "import sys; from pathlib import Path; from cicatrix.engine.documents.yamlio import read; "
        f"d = read(Path({str(path)!r})); print(d.data['scars'][0]['type'], 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "boxcar False\n"
