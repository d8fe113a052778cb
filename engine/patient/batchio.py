"""Reading many patients from one file: JSON lines, YAML documents, or CSV rows.

Each reader takes a binary stream and yields ``(line, document, problems)`` one
record at a time, so a batch of any size runs in constant memory. Every record
stands alone: its bytes are decoded on their own (a UTF-8 BOM at the start of
the stream is dropped), it is held to the bounds of :mod:`..documents.limits`
(:data:`~..documents.limits.MAX_RECORD_BYTES` per record, nesting, number
length, finite numbers, YAML aliases), and a record that cannot be read yields
its located problems instead of stopping the batch: the records after it are
read as if it had been good.

- JSON lines: one record per line; blank lines are skipped.
- YAML: one record per document. The stream is cut at the document markers
  (``---`` and ``...`` at the start of a line, which YAML never allows inside a
  value) before any parsing, and each piece is parsed alone, so a syntax error
  is confined to its document. Positions count from the start of the stream.
- CSV: one record per row (a quoted cell may span lines; the row's line is the
  line it ends on).

CSV columns are flat names for the patient-file fields: ``KEY.FIELD`` for a
template read as one mapping (list fields' items separated by ``;``), and
``KEY.N.FIELD`` with the item number for a template read as a list. An empty
cell means "not given" (the field's default); ``true/false``, ``yes/no`` and
``1/0`` are booleans; numbers are read as the template declares them.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ..common.errors import CicatrixError, Problem, did_you_mean
from ..common.numbers import plain
from ..documents import limits, yamlio
from ..knowledge.model import FieldSpec, KnowledgeBase

Record = tuple[int, Any, tuple[Problem, ...]]
"""A record's line, its data (a :class:`~..documents.yamlio.Document` for YAML), and its problems (none when good)."""

_BOM = b"\xef\xbb\xbf"
_DRAIN = 64 * 1024  # bytes read at a time while skipping the rest of an over-long line


def detect(name: str, explicit: str) -> str:
    if explicit != "auto":
        return explicit
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl"


def too_large(name: str, line: int) -> Problem:
    size = limits.MAX_RECORD_BYTES // (1024 * 1024)
    return Problem(name, line, None, "", f"the record is larger than the {size} MB limit for one batch record")


def _lines(stream: IO[bytes] | IO[str], limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """``(number, bytes with the line feed, 0)`` for each line of the stream, a BOM at its start dropped.

    A line longer than ``limit`` bytes is skipped without being held in memory
    and comes as ``(number, None, quotes)``: how many ``"`` it had, so that a CSV
    reader can keep its quoting in step. A text stream (a test's ``StringIO``)
    is read as its UTF-8 bytes.
    """
    number = 0
    while True:
        chunk = _bytes(stream.readline(limit + 1))
        if not chunk:
            return
        number += 1
        if number == 1 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
        if len(chunk) <= limit or chunk.endswith(b"\n"):
            yield number, chunk, 0
            continue
        quotes = chunk.count(b'"')
        while chunk and not chunk.endswith(b"\n"):
            chunk = _bytes(stream.readline(_DRAIN))
            quotes += chunk.count(b'"')
        yield number, None, quotes


def _bytes(chunk: bytes | str) -> bytes:
    return chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 text of one record; the error names the bad byte by its value (its offset would be the record's)."""
    try:
        return limits.decode(raw, name)
    except CicatrixError as exc:
        raise CicatrixError(
            Problem(p.file, p.line, p.column, p.path, re.sub(r"\(byte \d+: ", "(byte ", p.message), p.severity)
            for p in exc.problems
        ) from None


def _shift(problems: tuple[Problem, ...], offset: int, line: int) -> tuple[Problem, ...]:
    """Problems found in a piece of the stream, located in the whole stream (``line`` when they had none)."""
    return tuple(
        Problem(p.file, p.line + offset if p.line is not None else line, p.column, p.path, p.message, p.severity)
        for p in problems
    )


# --- JSON lines ---------------------------------------------------------------------------------


def read_jsonl(stream: IO[bytes] | IO[str], name: str) -> Iterator[Record]:
    """One record per non-blank line, parsed by :func:`..documents.limits.load_json` (``1e1`` is a number)."""
    for number, raw, _ in _lines(stream, limits.MAX_RECORD_BYTES):
        if raw is None:
            yield number, None, (too_large(name, number),)
            continue
        if not raw.strip():
            continue
        try:
            data = limits.load_json(_decode(raw, name), name)
        except CicatrixError as exc:
            yield number, None, _shift(exc.problems, number - 1, number)
            continue
        yield number, data, ()


# --- YAML documents ---------------------------------------------------------------------------------


def _marker(raw: bytes, word: bytes) -> bool:
    """Whether the line is the document marker ``word`` (``---`` or ``...``), alone or followed by a space."""
    return raw.startswith(word) and raw[3:4] in (b"", b" ", b"\t", b"\r", b"\n")


def _blank(raw: bytes) -> bool:
    stripped = raw.strip()
    return not stripped or stripped.startswith(b"#")


class _Piece:
    """The lines of one YAML document, gathered up to the next document marker."""

    def __init__(self, start: int):
        self.start = start  # the line the piece starts on
        self.chunks: list[bytes] = []
        self.size = 0
        self.marked: int | None = None  # the line of its own start marker (---), if it has one
        self.content: int | None = None  # the first line with anything but comments
        self.large: int | None = None  # the line where the piece passed the limit

    def empty(self) -> bool:
        return self.marked is None and self.content is None

    def add(self, number: int, raw: bytes | None) -> None:
        if raw is None:  # a line longer than a whole record
            self.content = self.content or number
            self.large = self.large or number
            return
        if _marker(raw, b"---"):
            self.marked = number
            if not _blank(raw[3:]):
                self.content = self.content or number
        elif not _blank(raw) and not (self.empty() and raw.startswith(b"%")):
            self.content = self.content or number
        if self.large is not None:
            return
        self.size += len(raw)
        if self.size > limits.MAX_RECORD_BYTES:
            self.large = number
            self.chunks = []  # nothing more is kept; the piece is only reported
        else:
            self.chunks.append(raw)

    def records(self, name: str) -> Iterator[Record]:
        if self.empty():  # only comments, directives or blank lines: no document
            return
        line = self.content or self.marked or self.start
        if self.large is not None:
            yield line, None, (too_large(name, self.start),)
            return
        offset = self.start - 1
        try:
            doc = yamlio.parse(_decode(b"".join(self.chunks), name), name)
        except CicatrixError as exc:
            yield line, None, _shift(exc.problems, offset, line)
            return
        if doc.data is None:  # an empty document: it is where its marker is
            doc.marks = {(): yamlio.Mark(line, 1)}
        elif offset:
            doc.marks = {path: yamlio.Mark(m.line + offset, m.column) for path, m in doc.marks.items()}
            doc.key_marks = {path: yamlio.Mark(m.line + offset, m.column) for path, m in doc.key_marks.items()}
        yield doc.marks[()].line, doc, ()


def read_yaml(stream: IO[bytes] | IO[str], name: str) -> Iterator[Record]:
    """One record per YAML document; a document that cannot be read is its own problem, never the next one's.

    A ``---`` line starts a new piece unless the piece so far holds only
    comments and directives (which belong to the document they precede); a
    ``...`` line ends the piece it is in.
    """
    piece = _Piece(1)
    for number, raw, _ in _lines(stream, limits.MAX_RECORD_BYTES):
        if raw is not None and _marker(raw, b"---") and not piece.empty():
            yield from piece.records(name)
            piece = _Piece(number)
        piece.add(number, raw)
        if raw is not None and _marker(raw, b"..."):
            yield from piece.records(name)
            piece = _Piece(number + 1)
    yield from piece.records(name)


# --- CSV ---------------------------------------------------------------------------------------------


def _decimal_comma(text: str) -> str:
    """A ';'-separated sheet's cell as a ','-separated one would write it: 1,5 -> 1.5, a,b -> a;b."""
    value = text.strip()
    if re.fullmatch(r"-?\d+,\d+", value):
        return value.replace(",", ".")
    return value.replace(",", ";")


def _cell(kb: KnowledgeBase, template_name: str, field: str, text: str) -> Any:
    return value_from_text(kb.templates[template_name].fields[field], text)


def value_from_text(spec: FieldSpec, text: str) -> Any:
    """A value typed as text (a CSV cell, a command-line argument) as the field holds it.

    Empty means not given by the caller; ``null``/``none`` is null where the field
    allows it; a list takes items separated by ``;``. What cannot be read is kept
    as text for validation to report in its usual words, and so is a number
    longer than :data:`~..documents.limits.MAX_NUMBER` characters or one too
    large to be finite.
    """
    value = text.strip()
    if value.lower() in ("null", "none") and spec.nullable and spec.type != "list":
        return None
    if spec.type == "list":
        return [v.strip() for v in value.split(";") if v.strip()]
    if spec.type == "boolean":
        lowered = value.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True
        if lowered in ("false", "no", "n", "0"):
            return False
        return value
    if spec.type in ("integer", "number"):
        if len(value) > limits.MAX_NUMBER:
            return value
        try:
            number = float(value)
        except ValueError:
            return value
        return plain(number) if math.isfinite(number) else value
    return value


def _example_columns(by_key: dict[str, Any]) -> str:
    """Two column names this knowledge base accepts, to show the form in an error."""
    out = []
    for key, template in by_key.items():
        first = next(iter(template.fields))
        out.append(f"{key}.1.{first}" if template.input.many else f"{key}.{first}")
    return ", ".join(out[:2])


class _CsvLines:
    """The stream's lines as text for :mod:`csv`, each decoded alone.

    A line that is not UTF-8, or longer than a whole record, is noted in
    ``problems`` by its number and handed on as a placeholder (keeping the
    quoting in step), so that the row it belongs to is reported and the rows
    after it are read as usual.
    """

    def __init__(self, stream: IO[bytes] | IO[str], name: str):
        self.problems: dict[int, Problem] = {}
        self.name = name
        self.delimiter = ","  # set from the header line when the rows are read
        self._lines = _lines(stream, limits.MAX_RECORD_BYTES)

    def __iter__(self) -> Iterator[str]:
        for number, raw, quotes in self._lines:
            if raw is None:
                self.problems[number] = too_large(self.name, number)
                yield ('"' if quotes % 2 else "") + "\ufffd\n"
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    _decode(raw, self.name)
                except CicatrixError as exc:
                    self.problems[number] = _shift(exc.problems, number - 1, number)[0]
                yield raw.decode("utf-8", "replace")

    def take(self, upto: int) -> tuple[Problem, ...]:
        """The problems of the lines up to ``upto``, forgotten once taken."""
        found = sorted(n for n in self.problems if n <= upto)
        return tuple(self.problems.pop(n) for n in found)


def _delimited(lines: Iterable[str]) -> tuple[Iterator[str], str]:
    """The lines again, and the separator their header uses: ',' or, as spreadsheets set
    to a decimal comma write it, ';'."""
    stream = iter(lines)
    first = next(stream, None)
    if first is None:
        return iter(()), ","
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return itertools.chain([first], stream), delimiter


def _rows(lines: _CsvLines, name: str) -> Iterator[tuple[int, list[str] | None, tuple[Problem, ...]]]:
    """``(line, cells, problems)`` per row, blank lines skipped; a row that cannot be read has no cells."""
    if csv.field_size_limit() < limits.MAX_RECORD_BYTES:
        csv.field_size_limit(limits.MAX_RECORD_BYTES)  # a cell may be as long as a record, no longer
    text, lines.delimiter = _delimited(lines)
    reader = csv.reader(text, delimiter=lines.delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            yield line, None, (*lines.take(line), Problem(name, line, None, "", f"not valid CSV: {exc}"))
            continue
        line = reader.line_num
        problems = lines.take(line)
        if not row and not problems:
            continue
        if not problems and sum(len(cell) for cell in row) > limits.MAX_RECORD_BYTES:
            problems = (too_large(name, line),)
        yield (line, None, problems) if problems else (line, row, ())


def _suggest(column: str, by_key: dict[str, Any]) -> str:
    """A did-you-mean for a misspelt column, with the item number a list column needs."""
    parts = column.strip().split(".")
    choices = []
    for key, template in by_key.items():
        if template.input.many:
            n = parts[1] if len(parts) == 3 and parts[1].isdigit() else "1"
            choices += [f"{key}.{n}.{field}" for field in template.fields]
        else:
            choices += [f"{key}.{field}" for field in template.fields]
    wanted = column.strip()
    if len(parts) == 2:  # 'item.field' for a list of items: that field of the first item
        for key, template in by_key.items():
            if template.input.many and parts[0] in (key, key.rstrip("s")):
                wanted = f"{key}.1.{parts[1]}"
    return did_you_mean(wanted, choices)


def read_csv(stream: IO[bytes] | IO[str], name: str, kb: KnowledgeBase) -> Iterator[Record]:
    by_key = {t.input.key: t for t in kb.input_templates() if t.input is not None}
    lines = _CsvLines(stream, name)
    rows = _rows(lines, name)
    header = next(rows, None)
    if header is None:
        return
    line, names, problems = header
    if names is None:
        yield line, None, problems
        return
    columns: list[tuple[str, int | None, str]] = []
    for column in names:
        parts = column.strip().split(".")
        template = by_key.get(parts[0])
        ok = template is not None and (
            (len(parts) == 2 and not template.input.many and parts[1] in template.fields)
            or (len(parts) == 3 and template.input.many and parts[1].isdigit() and parts[2] in template.fields)
        )
        if not ok:
            example = _example_columns(by_key)
            message = f"column {column!r} is not a patient-file field (e.g. {example})" + _suggest(column, by_key)
            yield line, None, (Problem(name, line, None, "", message),)
            return
        place = (parts[0], int(parts[1]) if len(parts) == 3 else None, parts[-1])
        if place in columns:
            yield line, None, (Problem(name, line, None, "", f"column {column!r} appears twice in the header"),)
            return
        columns.append(place)
    width = len(columns)
    for line, cells, problems in rows:
        if cells is None:
            yield line, None, problems
            continue
        if len(cells) != width:
            message = f"the row has {len(cells)} cells; the header has {width}"
            yield line, None, (Problem(name, line, None, "", message),)
            continue
        doc: dict[str, Any] = {}
        items: dict[str, dict[int, dict[str, Any]]] = {}
        for (key, index, field), text in zip(columns, cells, strict=True):
            if not text.strip():
                continue
            if lines.delimiter == ";":  # a spreadsheet with decimal commas: 1,5 and lists a,b
                text = _decimal_comma(text)
            value = _cell(kb, by_key[key].name, field, text)
            if index is None:
                doc.setdefault(key, {})[field] = value
            else:
                items.setdefault(key, {}).setdefault(index, {})[field] = value
        for key, numbered in items.items():
            doc[key] = [numbered[i] for i in sorted(numbered)]
        yield line, doc, ()
