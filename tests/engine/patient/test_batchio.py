"""engine/patient/batchio.py: many patients from one stream, one record at a time:
JSON lines, YAML documents and CSV rows, each record with its line and, when it
cannot be read, a located problem instead of a stop."""

from __future__ import annotations

import io

import pytest

from cicatrix.engine.documents.yamlio import Document, Mark
from cicatrix.engine.patient.batchio import detect, read_csv, read_jsonl, read_yaml


@pytest.mark.parametrize(
    ("name", "explicit", "fmt"),
    [
        ("in.jsonl", "auto", "jsonl"),
        ("in.ndjson", "auto", "jsonl"),
        ("in.json", "auto", "jsonl"),
        ("IN.JSONL", "auto", "jsonl"),
        ("in.yaml", "auto", "yaml"),
        ("in.YML", "auto", "yaml"),
        ("in.csv", "auto", "csv"),
        ("dir.csv/in.Csv", "auto", "csv"),
        ("in.txt", "auto", "jsonl"),  # anything else is read as JSON lines
        ("-", "auto", "jsonl"),
        ("in.csv", "yaml", "yaml"),  # an explicit format wins
        ("in.yaml", "jsonl", "jsonl"),
    ],
)
def test_detect(name, explicit, fmt):
    assert detect(name, explicit) == fmt


# --- JSON lines ------------------------------------------------------------------------------


def test_jsonl_one_record_per_line_skipping_blank_lines():
    stream = io.StringIO('{"a": 1}\n\n   \n{"b": [1, 2]}\n[3]\n')
    assert list(read_jsonl(stream, "in.jsonl")) == [(1, {"a": 1}, None), (4, {"b": [1, 2]}, None), (5, [3], None)]


def test_jsonl_bad_json_is_located_by_line_and_the_batch_goes_on():
    stream = io.StringIO('{"a": 1}\nnot json\n{"b": [1, x]}\n  {"c": x}\n{"d": 4}')
    records = list(read_jsonl(stream, "in.jsonl"))
    assert [(line, data) for line, data, _ in records] == [
        (1, {"a": 1}),
        (2, None),
        (3, None),
        (4, None),
        (5, {"d": 4}),
    ]
    problems = [p for _, _, p in records if p is not None]
    assert [(p.file, p.line, p.column) for p in problems] == [
        ("in.jsonl", 2, 1),
        ("in.jsonl", 3, 11),
        ("in.jsonl", 4, 9),
    ]
    assert problems[0].render() == "in.jsonl:2:1: not a JSON object: Expecting value"


def test_jsonl_empty_stream():
    assert list(read_jsonl(io.StringIO(""), "in.jsonl")) == []


# --- YAML documents ------------------------------------------------------------------------------


def test_yaml_one_record_per_document_with_positions():
    stream = io.StringIO("a: 1\n---\nb: [1, 2]\n---\n# a comment\nc: {d: 1}\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [(line, doc.data, problem) for line, doc, problem in records] == [
        (1, {"a": 1}, None),
        (3, {"b": [1, 2]}, None),
        (6, {"c": {"d": 1}}, None),
    ]
    last = records[-1][1]
    assert isinstance(last, Document) and last.file == "in.yaml"
    assert last.mark(("c", "d")) == Mark(6, 8)  # positions count from the start of the stream


def test_yaml_an_empty_document_is_a_record_without_data():
    records = list(read_yaml(io.StringIO("---\n---\na: 1\n"), "in.yaml"))
    assert [(line, doc.data, problem) for line, doc, problem in records] == [(2, None, None), (3, {"a": 1}, None)]
    assert list(read_yaml(io.StringIO(""), "in.yaml")) == []


def test_yaml_a_syntax_error_stops_with_a_located_problem():
    stream = io.StringIO("a: 1\n---\nb: [1, 2\n---\nc: 3\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert len(records) == 2  # nothing after the broken document can be trusted
    line, data, problem = records[1]
    assert (line, data) == (4, None)
    assert (problem.file, problem.line, problem.column) == ("in.yaml", 4, 1)
    assert problem.message.startswith("not valid YAML: did not find expected ',' or ']'")


def test_yaml_a_document_with_a_duplicate_key_is_a_problem_and_the_batch_goes_on():
    stream = io.StringIO("a: 1\na: 2\n---\nc: 1\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [line for line, _, _ in records] == [1, 4]
    problem = records[0][2]
    assert problem.render() == "in.yaml:2:1: a: duplicate key 'a' (first at line 1)"
    assert records[1][1].data == {"c": 1} and records[1][2] is None


def test_yaml_a_document_with_a_tag_is_a_problem_and_the_batch_goes_on():
    stream = io.StringIO("a: 1\n---\nb: !!python/object/apply:os.system [echo]\n---\nc: 1\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [line for line, _, _ in records] == [1, 3, 5]
    problem = records[1][2]
    assert (problem.file, problem.line) == ("in.yaml", 3)
    assert problem.message.startswith("not valid YAML: ") and "is not allowed (only plain data)" in problem.message
    assert records[2][1].data == {"c": 1} and records[2][2] is None


def test_yaml_a_refused_tag_is_located_as_in_a_single_file():
    stream = io.StringIO("a: 1\n---\nb: !!python/object/apply:os.system [echo]\n")
    problem = list(read_yaml(stream, "in.yaml"))[1][2]
    assert (problem.line, problem.column) == (3, 4) and "\n" not in problem.message


# --- CSV -------------------------------------------------------------------------------------------


def rows(kb, text: str):
    return list(read_csv(io.StringIO(text), "in.csv", kb))


def test_csv_columns_name_patient_file_fields(kb):
    text = (
        "patient.age,patient.pregnant,patient.conditions,scars.1.type,scars.1.site,scars.2.type\n"
        "30,no,eczema; rosacea ;,rolling,cheeks,ice_pick\n"
    )
    assert rows(kb, text) == [
        (
            2,
            {
                "patient": {"age": 30, "pregnant": False, "conditions": ["eczema", "rosacea"]},
                "scars": [{"type": "rolling", "site": "cheeks"}, {"type": "ice_pick"}],
            },
            None,
        )
    ]


def test_csv_items_are_ordered_by_their_number_not_by_column(kb):
    ((_, doc, _),) = rows(kb, "scars.10.type,scars.2.type, scars.1.type \nc,b,a\n")
    assert doc == {"scars": [{"type": "a"}, {"type": "b"}, {"type": "c"}]}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("true", True),
        ("Yes", True),
        ("y", True),
        ("1", True),
        ("FALSE", False),
        ("no", False),
        ("N", False),
        ("0", False),
        (" yes ", True),
        ("maybe", "maybe"),  # left as text for validation to report
    ],
)
def test_csv_booleans(kb, cell, value):
    ((_, doc, _),) = rows(kb, f'patient.pregnant\n"{cell}"\n')
    assert doc["patient"]["pregnant"] == value
    assert type(doc["patient"]["pregnant"]) is type(value)


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [
        ("patient.age", "30", 30),  # integer
        ("patient.age", "40.0", 40),  # a whole number stays an integer
        ("patient.age", "2.5", 2.5),  # not whole: validation reports it
        ("patient.age", "thirty", "thirty"),
        ("patient.downtime_days", "7", 7),  # number: a whole one shows as in JSON
        ("patient.downtime_days", "1.5", 1.5),
        ("scars.1.width_mm", "2", 2),
        ("patient.sex", "female", "female"),  # text as it is
        ("patient.sex", " male ", "male"),
        ("patient.sex", "null", None),  # null for a nullable field
        ("patient.sex", "None", None),
        ("patient.budget", "null", "null"),  # budget is not nullable: validation reports it
    ],
)
def test_csv_cells_are_typed_by_the_template(kb, column, cell, value):
    ((_, doc, problem),) = rows(kb, f"{column}\n{cell}\n")
    key, *rest = column.split(".")
    got = doc[key][0][rest[-1]] if len(rest) == 2 else doc[key][rest[0]]
    assert problem is None
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("column", ["patient.age", "patient.isotretinoin_months_ago", "scars.1.distensible"])
def test_csv_null_for_every_nullable_field(kb, column):
    ((_, doc, _),) = rows(kb, f"{column}\nnull\n")
    key, *rest = column.split(".")
    assert (doc[key][0][rest[-1]] if len(rest) == 2 else doc[key][rest[0]]) is None


def test_csv_an_empty_cell_is_not_given(kb):
    text = "patient.age,patient.conditions,scars.1.type,scars.1.site,scars.2.type,scars.2.site\n,,boxcar,  ,,\n"
    assert rows(kb, text) == [(2, {"scars": [{"type": "boxcar"}]}, None)]
    # a row of empty cells is an empty patient (validation says what is missing)
    assert rows(kb, "patient.age,scars.1.type\n,\n") == [(2, {}, None)]


@pytest.mark.parametrize(
    "column",
    ["patient.agee", "scars.type", "patient.1.age", "scars.x.type", "scar.1.type", "scars.1.type.x", "patient"],
)
def test_csv_an_unknown_column_stops_with_examples_of_good_ones(kb, column):
    records = rows(kb, f"patient.age,{column}\n30,x\n40,y\n")
    assert len(records) == 1
    line, data, problem = records[0]
    assert (line, data) == (1, None)
    assert problem.render() == (
        f"in.csv:1: column {column!r} is not a patient-file field (e.g. patient.age, scars.1.type)"
    )


def test_csv_rows_with_too_many_or_too_few_cells(kb):
    text = "patient.age,scars.1.type\n30\n40,boxcar,extra\n50,rolling\n"
    records = rows(kb, text)
    assert [(line, data) for line, data, _ in records] == [
        (2, None),
        (3, None),
        (4, {"patient": {"age": 50}, "scars": [{"type": "rolling"}]}),
    ]
    assert records[0][2].render() == "in.csv:2: the row has 1 cells; the header has 2"
    assert records[1][2].render() == "in.csv:3: the row has 3 cells; the header has 2"
    assert records[2][2] is None


def test_csv_with_only_a_header_or_nothing(kb):
    assert rows(kb, "patient.age,scars.1.type\n") == []
    assert rows(kb, "") == []


def test_csv_a_quoted_cell_may_hold_commas_and_lines(kb):
    text = 'patient.conditions,scars.1.type\n"eczema;\nrosacea",boxcar\npatient.age\n'
    ((line, doc, problem), bad) = rows(kb, text)
    assert doc == {"patient": {"conditions": ["eczema", "rosacea"]}, "scars": [{"type": "boxcar"}]}
    assert (line, problem) == (3, None)  # the line the record ends on
    assert bad[0] == 4 and "the row has 1 cells" in bad[2].message


def test_csv_null_in_a_nullable_list_field_is_an_empty_list(kb):
    from cicatrix.engine.knowledge.model import FieldSpec
    from cicatrix.engine.patient.batchio import value_from_text

    assert value_from_text(FieldSpec("tags", "list", nullable=True), "null") == ["null"]
    assert value_from_text(FieldSpec("n", "number"), " 2.0 ") == 2


def test_csv_a_column_given_twice_is_refused_at_the_header(kb):
    ((line, doc, problem),) = rows(kb, "patient.age,patient.age\n30,31\n")
    assert (line, doc) == (1, None) and problem.message == "column 'patient.age' appears twice in the header"
