"""engine/patient/batchio.py: many patients from one stream, one record at a time:
JSON lines, YAML documents and CSV rows, each record with its line and, when it
cannot be read, its located problems instead of a stop. Every record is decoded
and bounded on its own: bad bytes, a huge number, deep nesting or a YAML syntax
error spoil that record and no other."""

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
    assert list(read_jsonl(stream, "in.jsonl")) == [(1, {"a": 1}, ()), (4, {"b": [1, 2]}, ()), (5, [3], ())]


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
    problems = [p for _, _, found in records for p in found]
    assert [(p.file, p.line, p.column) for p in problems] == [
        ("in.jsonl", 2, 1),
        ("in.jsonl", 3, 11),
        ("in.jsonl", 4, 9),
    ]
    assert problems[0].render() == "in.jsonl:2:1: not valid JSON: Expecting value"


def test_jsonl_empty_stream():
    assert list(read_jsonl(io.StringIO(""), "in.jsonl")) == []


# --- YAML documents ------------------------------------------------------------------------------


def test_yaml_one_record_per_document_with_positions():
    stream = io.StringIO("a: 1\n---\nb: [1, 2]\n---\n# a comment\nc: {d: 1}\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [(line, doc.data, problem) for line, doc, problem in records] == [
        (1, {"a": 1}, ()),
        (3, {"b": [1, 2]}, ()),
        (6, {"c": {"d": 1}}, ()),
    ]
    last = records[-1][1]
    assert isinstance(last, Document) and last.file == "in.yaml"
    assert last.mark(("c", "d")) == Mark(6, 8)  # positions count from the start of the stream


def test_yaml_an_empty_document_is_a_record_without_data():
    records = list(read_yaml(io.StringIO("---\n---\na: 1\n"), "in.yaml"))
    assert [(line, doc.data, problem) for line, doc, problem in records] == [(1, None, ()), (3, {"a": 1}, ())]
    assert list(read_yaml(io.StringIO(""), "in.yaml")) == []


def test_yaml_a_syntax_error_is_confined_to_its_document():
    stream = io.StringIO("a: 1\n---\nb: [1, 2\n---\nc: 3\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [(line, getattr(doc, "data", None)) for line, doc, _ in records] == [(1, {"a": 1}), (3, None), (5, {"c": 3})]
    (problem,) = records[1][2]
    assert (problem.file, problem.line, problem.column) == ("in.yaml", 4, 1)
    assert problem.message.startswith("not valid YAML: did not find expected ',' or ']'")
    assert records[2][2] == () and records[2][1].mark(("c",)) == Mark(5, 4)


def test_yaml_a_document_with_a_duplicate_key_is_a_problem_and_the_batch_goes_on():
    stream = io.StringIO("a: 1\na: 2\n---\nc: 1\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [line for line, _, _ in records] == [1, 4]
    (problem,) = records[0][2]
    assert problem.render() == "in.yaml:2:1: a: duplicate key 'a' (first at line 1)"
    assert records[1][1].data == {"c": 1} and records[1][2] == ()


def test_yaml_a_document_with_a_tag_is_a_problem_and_the_batch_goes_on():
    stream = io.StringIO("a: 1\n---\nb: !!python/object/apply:os.system [echo]\n---\nc: 1\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [line for line, _, _ in records] == [1, 3, 5]
    (problem,) = records[1][2]
    assert (problem.file, problem.line) == ("in.yaml", 3)
    assert problem.message.startswith("not valid YAML: ") and "is not allowed (only plain data)" in problem.message
    assert records[2][1].data == {"c": 1} and records[2][2] == ()


def test_yaml_a_refused_tag_is_located_as_in_a_single_file():
    stream = io.StringIO("a: 1\n---\nb: !!python/object/apply:os.system [echo]\n")
    (problem,) = list(read_yaml(stream, "in.yaml"))[1][2]
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
            (),
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
    ((_, doc, problems),) = rows(kb, f"{column}\n{cell}\n")
    key, *rest = column.split(".")
    got = doc[key][0][rest[-1]] if len(rest) == 2 else doc[key][rest[0]]
    assert problems == ()
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("column", ["patient.age", "patient.isotretinoin_months_ago", "scars.1.distensible"])
def test_csv_null_for_every_nullable_field(kb, column):
    ((_, doc, _),) = rows(kb, f"{column}\nnull\n")
    key, *rest = column.split(".")
    assert (doc[key][0][rest[-1]] if len(rest) == 2 else doc[key][rest[0]]) is None


def test_csv_an_empty_cell_is_not_given(kb):
    text = "patient.age,patient.conditions,scars.1.type,scars.1.site,scars.2.type,scars.2.site\n,,boxcar,  ,,\n"
    assert rows(kb, text) == [(2, {"scars": [{"type": "boxcar"}]}, ())]
    # a row of empty cells is an empty patient (validation says what is missing)
    assert rows(kb, "patient.age,scars.1.type\n,\n") == [(2, {}, ())]


@pytest.mark.parametrize(
    "column",
    ["patient.agee", "scars.type", "patient.1.age", "scars.x.type", "scar.1.type", "scars.1.type.x", "patient"],
)
def test_csv_an_unknown_column_stops_with_examples_of_good_ones(kb, column):
    records = rows(kb, f"patient.age,{column}\n30,x\n40,y\n")
    assert len(records) == 1
    line, data, (problem,) = records[0]
    assert (line, data) == (1, None)
    assert problem.render().startswith(
        f"in.csv:1: column {column!r} is not a patient-file field (e.g. patient.age, scars.1.type)"
    )  # and a did-you-mean where one is close


def test_csv_rows_with_too_many_or_too_few_cells(kb):
    text = "patient.age,scars.1.type\n30\n40,boxcar,extra\n50,rolling\n"
    records = rows(kb, text)
    assert [(line, data) for line, data, _ in records] == [
        (2, None),
        (3, None),
        (4, {"patient": {"age": 50}, "scars": [{"type": "rolling"}]}),
    ]
    assert records[0][2][0].render() == "in.csv:2: the row has 1 cells; the header has 2"
    assert records[1][2][0].render() == "in.csv:3: the row has 3 cells; the header has 2"
    assert records[2][2] == ()


def test_csv_with_only_a_header_or_nothing(kb):
    assert rows(kb, "patient.age,scars.1.type\n") == []
    assert rows(kb, "") == []


def test_csv_a_quoted_cell_may_hold_commas_and_lines(kb):
    text = 'patient.conditions,scars.1.type\n"eczema;\nrosacea",boxcar\npatient.age\n'
    ((line, doc, problems), bad) = rows(kb, text)
    assert doc == {"patient": {"conditions": ["eczema", "rosacea"]}, "scars": [{"type": "boxcar"}]}
    assert (line, problems) == (3, ())  # the line the record ends on
    assert bad[0] == 4 and "the row has 1 cells" in bad[2][0].message


def test_csv_null_in_a_nullable_list_field_is_an_empty_list(kb):
    from cicatrix.engine.knowledge.model import FieldSpec
    from cicatrix.engine.patient.batchio import value_from_text

    assert value_from_text(FieldSpec("tags", "list", nullable=True), "null") == ["null"]
    assert value_from_text(FieldSpec("n", "number"), " 2.0 ") == 2


def test_csv_a_column_given_twice_is_refused_at_the_header(kb):
    ((line, doc, (problem,)),) = rows(kb, "patient.age,patient.age\n30,31\n")
    assert (line, doc) == (1, None) and problem.message == "column 'patient.age' appears twice in the header"


# --- each record on its own: encodings and bounds ---------------------------------------------------


def _rendered(records):
    return [(line, [p.render() for p in problems]) for line, _, problems in records]


def test_jsonl_reads_bytes_and_each_line_is_decoded_and_bounded_alone():
    lines = [
        b'\xef\xbb\xbf{"a": 1e1}',  # a BOM, and JSON's own numbers
        b'{"b": "\xff"}',  # not UTF-8
        b'{"c": ' + b"1" * 5000 + b"}",  # an integer Python would refuse to read
        b"[" * 200 + b"]" * 200,  # nesting
        b'{"d": NaN}',
        b'{"e": 1e999}',
        b'{"f": "caf\xc3\xa9"}',
    ]
    records = list(read_jsonl(io.BytesIO(b"\n".join(lines) + b"\n"), "in.jsonl"))
    assert [(line, data) for line, data, _ in records] == [
        (1, {"a": 10.0}),
        (2, None),
        (3, None),
        (4, None),
        (5, None),
        (6, None),
        (7, {"f": "café"}),
    ]
    assert _rendered(records)[1:6] == [
        (2, ["in.jsonl:2:8: not UTF-8 text (byte 0xff)"]),
        (3, ["in.jsonl:3:7: a number longer than 64 characters, or too large to be finite"]),
        (4, ["in.jsonl:4:65: nested deeper than 64 levels"]),
        (5, ["in.jsonl:5:7: expected a finite number, got NaN"]),
        (6, ["in.jsonl:6:7: a number longer than 64 characters, or too large to be finite"]),
    ]


def test_jsonl_a_line_longer_than_a_record_is_skipped_unread(monkeypatch):
    from cicatrix.engine.documents import limits

    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 100)
    stream = io.BytesIO(b'{"a": 1}\n{"b": "' + b"x" * 1000 + b'"}\n{"c": 3}\n' + b"y" * 101)
    records = list(read_jsonl(stream, "in.jsonl"))
    assert [(line, data) for line, data, _ in records] == [(1, {"a": 1}), (2, None), (3, {"c": 3}), (4, None)]
    message = "the record is larger than the 0 MB limit for one batch record"
    assert _rendered(records)[1] == (2, [f"in.jsonl:2: {message}"])


def test_jsonl_a_two_megabyte_line_is_one_bad_record():
    stream = io.BytesIO(b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}\n{"b": 2}\n')
    records = list(read_jsonl(stream, "in.jsonl"))
    assert [(line, data) for line, data, _ in records] == [(1, None), (2, {"b": 2})]
    assert "larger than the 1 MB limit for one batch record" in records[0][2][0].message


def test_yaml_reads_bytes_a_bom_and_markers_as_yaml_has_them():
    text = (
        b"\xef\xbb\xbf# a comment\n"  # 1: the BOM is dropped
        b"%YAML 1.1\n"  # 2: a directive belongs to the document after it
        b"---\n"  # 3
        b"a: 1\n"  # 4
        b"...\n"  # 5: the end of a document; the next needs no ---
        b"b: 2\n"  # 6
        b"--- {c: 3}\n"  # 7: a document may start on its marker's line
        b"---   # nothing\n"  # 8: an empty document
        b"--- \n"  # 9
        b"d: [1, 2]\n"  # 10
        b"# a trailing comment is no document\n"
    )
    records = list(read_yaml(io.BytesIO(text), "in.yaml"))
    assert [(line, doc.data, problems) for line, doc, problems in records] == [
        (4, {"a": 1}, ()),
        (6, {"b": 2}, ()),
        (7, {"c": 3}, ()),
        (8, None, ()),  # an empty document is on its marker's line
        (10, {"d": [1, 2]}, ()),
    ]
    assert records[-1][1].mark(("d", 1)) == Mark(10, 8)


def test_yaml_each_document_is_decoded_and_bounded_alone():
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((bytes([c]),) * 2 + (bytes([c - 1]),) * 10)
        for c in range(ord("b"), ord("j"))
    )
    docs = [
        b"ok: 1\n",
        b"name: \xff\n",
        b"n: " + b"9" * 5000 + b"\n",
        b"deep: " + b"[" * 200 + b"]" * 200 + b"\n",
        bomb,
        b"self: &s [*s]\n",
        b"bad: [1, 2\n",
        b"tab:\n\t- 1\n",
        b"last: 2\n",
    ]
    stream = io.BytesIO(b"---\n" + b"---\n".join(docs))
    records = list(read_yaml(stream, "in.yaml"))
    assert [getattr(doc, "data", None) for _, doc, _ in records] == [{"ok": 1}, *[None] * 7, {"last": 2}]
    firsts = [problems[0].render() if problems else "" for _, _, problems in records]
    assert firsts[0] == firsts[-1] == ""
    assert firsts[1] == "in.yaml:4:7: not UTF-8 text (byte 0xff)"
    assert firsts[2] == "in.yaml:6:4: a number longer than 64 characters"
    assert firsts[3] == "in.yaml:8:71: nested deeper than 64 levels"
    assert "expands to more than 200,000 values" in firsts[4]
    assert "refers to the collection it is part of" in firsts[5]
    assert firsts[6].startswith("in.yaml:23:1: not valid YAML: did not find expected ',' or ']'")  # at the next ---
    assert firsts[7].startswith("in.yaml:25:1: not valid YAML")
    assert records[-1][0] == 27 and records[-1][1].mark(("last",)) == Mark(27, 7)


def test_yaml_a_document_larger_than_a_record_is_one_bad_record(monkeypatch):
    from cicatrix.engine.documents import limits

    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 100)
    big = b"".join(b"k%d: %s\n" % (i, b"v" * 20) for i in range(10))
    stream = io.BytesIO(b"a: 1\n---\n" + big + b"---\nb: " + b"x" * 200 + b"\n---\nc: 3\n")
    records = list(read_yaml(stream, "in.yaml"))
    assert [(line, getattr(doc, "data", None)) for line, doc, _ in records] == [
        (1, {"a": 1}),
        (3, None),
        (14, None),
        (16, {"c": 3}),
    ]
    assert [p.line for _, _, problems in records for p in problems] == [2, 13]
    assert all("larger than" in p.message for _, _, problems in records for p in problems)


def test_yaml_only_comments_or_nothing_is_no_record():
    assert list(read_yaml(io.BytesIO(b"# nothing\n\n%YAML 1.1\n"), "in.yaml")) == []
    assert list(read_yaml(io.BytesIO(b"\xef\xbb\xbf"), "in.yaml")) == []


def test_csv_reads_bytes_with_a_bom_and_a_bad_row_spoils_only_itself(kb, monkeypatch):
    text = (
        b"\xef\xbb\xbfpatient.age,scars.1.type\n"
        b"30,boxcar\n"
        b"31,bo\xffxcar\n"
        b"32," + b"9" * 5000 + b"\n"
        b'33,"rolling\n'
        b'\xfe"\n'
        b"34,rolling\n"
    )
    records = list(read_csv(io.BytesIO(text), "in.csv", kb))
    assert [(line, data) for line, data, _ in records] == [
        (2, {"patient": {"age": 30}, "scars": [{"type": "boxcar"}]}),
        (3, None),
        (4, {"patient": {"age": 32}, "scars": [{"type": "9" * 5000}]}),  # text: validation refuses it
        (6, None),
        (7, {"patient": {"age": 34}, "scars": [{"type": "rolling"}]}),
    ]
    assert _rendered(records)[1][1] == ["in.csv:3:6: not UTF-8 text (byte 0xff)"]
    assert _rendered(records)[3][1] == ["in.csv:6:1: not UTF-8 text (byte 0xfe)"]


def test_csv_an_over_long_line_spoils_its_row_and_keeps_the_quoting(kb, monkeypatch):
    from cicatrix.engine.documents import limits

    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 60)
    text = (
        "patient.age,patient.conditions\n"
        "30,eczema\n"
        '31,"eczema;' + "x" * 100 + "\n"  # a quoted cell opens on an over-long line...
        'rosacea"\n'  # ...and closes here
        "32," + "y" * 100 + "\n"
        "33,rosacea\n"
    )
    records = list(read_csv(io.BytesIO(text.encode()), "in.csv", kb))
    assert [(line, data) for line, data, _ in records] == [
        (2, {"patient": {"age": 30, "conditions": ["eczema"]}}),
        (4, None),
        (5, None),
        (6, {"patient": {"age": 33, "conditions": ["rosacea"]}}),
    ]
    assert [p.line for _, _, problems in records for p in problems] == [3, 5]


def test_csv_numbers_too_long_or_not_finite_stay_text():
    from cicatrix.engine.knowledge.model import FieldSpec
    from cicatrix.engine.patient.batchio import value_from_text

    spec = FieldSpec("n", "number")
    assert value_from_text(spec, "1" * 65) == "1" * 65
    assert value_from_text(spec, "1e999") == "1e999"
    assert value_from_text(spec, "nan") == "nan"
    assert isinstance(value_from_text(spec, "1" * 64), int)


def test_csv_an_empty_or_undecodable_header(kb):
    assert list(read_csv(io.BytesIO(b"\xef\xbb\xbf"), "in.csv", kb)) == []
    ((line, data, (problem,)),) = list(read_csv(io.BytesIO(b"patient.\xffage\n30\n"), "in.csv", kb))
    assert (line, data) == (1, None) and problem.render() == "in.csv:1:9: not UTF-8 text (byte 0xff)"


def test_csv_from_a_spreadsheet_with_semicolons_and_decimal_commas(kb):
    text = "\ufeffpatient.age;patient.conditions;scars.1.type;scars.1.width_mm\n30;eczema,rosacea;ice_pick;1,5\n"
    assert rows(kb, text) == [
        (
            2,
            {
                "patient": {"age": 30, "conditions": ["eczema", "rosacea"]},
                "scars": [{"type": "ice_pick", "width_mm": 1.5}],
            },
            (),
        )
    ]


@pytest.mark.parametrize(
    ("column", "meant"),
    [("scars.1.typ", "scars.1.type"), ("scar.type", "scars.1.type"), ("patient.agee", "patient.age")],
)
def test_a_misspelt_csv_column_gets_a_did_you_mean(kb, column, meant):
    ((line, record, problems),) = rows(kb, f"{column}\nx\n")
    assert (line, record) == (1, None) and problems[0].message.endswith(f"; did you mean {meant!r}?")
