"""Malformed batch inputs: JSON lines, YAML streams and CSV, broken one way at a time.

Each case is one input given to ``cicatrix batch INPUT -o OUT``. Most put the
damage between good records, because the point of a batch is that one bad
record spoils only itself: the batch must end normally with exit status 2 (some
record failed) and a message on stderr naming the input and the record's line
(``located``), or with 0 when the input is valid after all (a BOM, ``1e1``, an
empty input). Resource bombs (size, nesting, aliases, numbers) are bounded per
record; the runner's time and memory limits catch a reader that is not.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from . import Case

GOOD = {
    "patient": {"age": 30, "fitzpatrick": 3, "downtime_days": 7, "budget": "medium"},
    "scars": [{"type": "rolling", "site": "cheeks", "count": 4, "depth": "moderate"}],
}
GOOD_JSON = json.dumps(GOOD).encode()
GOOD_YAML = b"patient: {age: 30, fitzpatrick: 3}\nscars:\n  - {type: rolling, site: cheeks, count: 4}\n"
GOOD_CSV_HEADER = b"patient.age,patient.fitzpatrick,scars.1.type,scars.1.site\n"
GOOD_CSV_ROW = b"30,3,rolling,cheeks\n"
BIG = 2 * 1024 * 1024  # past the 1 MB bound on one record


def _case(
    root: Path, name: str, content: bytes, suffix: str, *, line: int | None = 2, exits=(2,), stdin: bool = False
) -> Case:
    """``content`` as ``in.SUFFIX``; ``line`` is where the located message must point (None: the file only)."""
    folder = Case(kind="batches", name=name, argv=()).folder(root)
    path = folder / f"in.{suffix}"
    path.write_bytes(content)
    out = folder / "out.jsonl"
    if stdin:
        argv = ("batch", "-", "--format", suffix, "-o", str(out))
        located = "-:" if line is None else f"-:{line}:"
    else:
        argv = ("batch", str(path), "-o", str(out))
        located = path.name if line is None else f"{path.name}:{line}:"
    return Case(
        kind="batches",
        name=name,
        argv=argv,
        exits=tuple(exits),
        located=located if 2 in exits else "",
        stdin=content if stdin else None,
    )


def _between(bad: bytes) -> bytes:
    """A bad JSON line between two good ones: the bad record is line 2."""
    return GOOD_JSON + b"\n" + bad + b"\n" + GOOD_JSON + b"\n"


def _jsonl(root: Path) -> Iterator[Case]:
    rng = random.Random(13)
    junk = bytes(rng.randrange(256) for _ in range(4096))
    bad = {
        "bad-utf8": b'{"scars": [{"type": "rolling", "site": "\xff\xfe"}]}',
        "latin1": '{"scars": [{"type": "rolling"}], "note": "café"}'.encode("latin-1"),
        "huge-int": b'{"patient": {"age": ' + b"9" * 5000 + b'}, "scars": [{"type": "rolling"}]}',
        "huge-exponent": b'{"patient": {"age": 1e999}, "scars": [{"type": "rolling"}]}',
        "nan": b'{"patient": {"downtime_days": NaN}, "scars": [{"type": "rolling"}]}',
        "infinity": b'{"scars": [{"type": "rolling", "width_mm": -Infinity}]}',
        "deep-200": b'{"scars": ' + b"[" * 200 + b"]" * 200 + b"}",
        "deep-100000": b"[" * 100_000 + b"]" * 100_000,
        "line-2mb": b'{"scars": [{"type": "' + b"r" * BIG + b'"}]}',
        "unclosed-2mb": b"[" * BIG,
        "syntax": b'{"scars": [{"type": "rolling"},]}',
        "single-quotes": b"{'scars': [{'type': 'rolling'}]}",
        "not-an-object": b'["scars", {"type": "rolling"}]',
        "null": b"null",
        "nul-bytes": b'{"scars": [{"type": "roll\x00ing"}]}\x00',
        "lone-surrogate-key": b'{"patient": {"\\ud800": 1}, "scars": [{"type": "rolling"}]}',
        "wrong-types": b'{"patient": {"age": "thirty"}, "scars": {"type": "rolling"}}',
    }
    for name, line in bad.items():
        yield _case(root, f"jsonl-{name}", _between(line), "jsonl")
    yield _case(root, "jsonl-binary-junk", GOOD_JSON + b"\n" + junk, "jsonl")
    yield _case(root, "jsonl-truncated-last", GOOD_JSON + b"\n" + GOOD_JSON[:25], "jsonl")
    yield _case(root, "jsonl-utf16", (GOOD_JSON.decode() + "\n").encode("utf-16"), "jsonl", line=1)
    many = b"".join(GOOD_JSON + b"\n" if i % 2 else b"{bad\n" for i in range(400))
    yield _case(root, "jsonl-many-bad", many, "jsonl", line=1)
    yield _case(root, "jsonl-stdin-bad-utf8", _between(b'{"a": "\xc3"}'), "jsonl", stdin=True)
    # valid after all
    valid = {
        "bom": b"\xef\xbb\xbf" + GOOD_JSON + b"\n" + GOOD_JSON + b"\n",
        "exponent": GOOD_JSON.replace(b'"downtime_days": 7', b'"downtime_days": 1e1') + b"\n",
        "crlf": GOOD_JSON + b"\r\n" + GOOD_JSON + b"\r\n",
        "blank-lines": b"\n\n  \n" + GOOD_JSON + b"\n\n",
        "empty": b"",
        "no-final-newline": GOOD_JSON,
    }
    for name, content in valid.items():
        yield _case(root, f"jsonl-valid-{name}", content, "jsonl", exits=(0,))


def _stream(*docs: bytes) -> bytes:
    """YAML documents, each after a ``---`` line: document N starts on a known line."""
    return b"".join(b"---\n" + (doc if doc.endswith(b"\n") else doc + b"\n") for doc in docs)


def _yaml(root: Path) -> Iterator[Case]:
    laughs = [b"a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        a, b = bytes([97 + i]), bytes([96 + i])
        laughs.append(a + b": &" + a + b" [" + b", ".join([b"*" + b] * 9) + b"]")
    bomb = b"\n".join(laughs) + b"\nscars: [*j]\n"
    first = GOOD_YAML.count(b"\n") + 3  # the first line of the bad document (the second), after its ---
    bad = {
        "syntax-mid-stream": (b"scars: [{type: rolling\n", first + 1),
        "unterminated-quote": (b'scars: [{type: "rolling}]\n', first + 1),
        "tab-indent": (b"scars:\n\t- type: rolling\n", first + 1),
        "alias-bomb": (bomb, None),
        "self-alias": (b"scars: &s [*s]\n", first),
        "bad-utf8": (b"scars: [{type: rolling, site: \xff}]\n", first),
        "huge-int": (b"patient: {age: " + b"9" * 5000 + b"}\nscars: [{type: rolling}]\n", first),
        "deep-flow": (b"scars: " + b"[" * 200 + b"]" * 200 + b"\n", first),
        "deep-flow-100000": (b"scars: " + b"[" * 100_000 + b"\n", first),
        "deep-block": ("".join("  " * i + "- \n" for i in range(300)).encode(), first + 65),
        "document-2mb": (b"scars: [{type: " + b"r" * BIG + b"}]\n", first - 1),
        "python-tag": (b"scars: !!python/object/apply:os.system [echo]\n", first),
        "duplicate-key": (b"scars: []\nscars: [{type: rolling}]\n", first + 1),
        "inf": (b"patient: {downtime_days: .inf}\nscars: [{type: rolling}]\n", first),
        "empty-document": (b"", first - 1),
        "a-list": (b"- scars: [{type: rolling}]\n", first),
    }
    for name, (doc, line) in bad.items():
        yield _case(root, f"yaml-{name}", _stream(GOOD_YAML, doc, GOOD_YAML), "yaml", line=line)
    junk = bytes(random.Random(7).randrange(256) for _ in range(4096))
    yield _case(root, "yaml-binary-junk", _stream(GOOD_YAML) + junk, "yaml", line=None)
    yield _case(root, "yaml-utf16", GOOD_YAML.decode().encode("utf-16"), "yaml", line=1)
    yield _case(root, "yaml-stdin-syntax", _stream(GOOD_YAML, b"a: [\n", GOOD_YAML), "yaml", line=None, stdin=True)
    valid = {
        "bom": b"\xef\xbb\xbf" + _stream(GOOD_YAML, GOOD_YAML),
        "no-markers": GOOD_YAML,
        "end-markers": GOOD_YAML + b"...\n" + GOOD_YAML + b"...\n",
        "directive": b"%YAML 1.1\n---\n" + GOOD_YAML,
        "comments-only": b"# nothing here\n\n# at all\n",
        "empty": b"",
    }
    for name, content in valid.items():
        yield _case(root, f"yaml-valid-{name}", content, "yaml", exits=(0,))


def _csv(root: Path) -> Iterator[Case]:
    def rows(*middle: bytes) -> bytes:
        return GOOD_CSV_HEADER + GOOD_CSV_ROW + b"".join(middle) + GOOD_CSV_ROW

    bad = {
        "bad-utf8": (rows(b"31,3,rolling,ch\xffeeks\n"), 3),
        "too-few-cells": (rows(b"31,3\n"), 3),
        "too-many-cells": (rows(b"31,3,rolling,cheeks,extra,more\n"), 3),
        "huge-number": (rows(b"9" * 5000 + b",3,rolling,cheeks\n"), 3),
        "inf-number": (rows(b"1e999,3,rolling,cheeks\n"), 3),
        "line-2mb": (rows(b"31,3,rolling," + b"c" * BIG + b"\n"), 3),
        "cell-2mb-over-lines": (rows(b'31,3,rolling,"' + b"c\n" * (BIG // 2) + b'"\n'), None),
        "unterminated-quote": (rows(b'31,3,"rolling,cheeks\n'), None),
        "nul-byte": (rows(b"31,3,roll\x00ing,cheeks\n"), 3),
        "wrong-values": (rows(b"old,9,icepick,elbow\n"), 3),
    }
    for name, (content, line) in bad.items():
        yield _case(root, f"csv-{name}", content, "csv", line=line)
    header = {
        "unknown-column": b"patient.agee,scars.1.type\n30,rolling\n",
        "duplicate-column": b"scars.1.type,scars.1.type\nrolling,boxcar\n",
        "bad-utf8-header": b"patient.\xffage,scars.1.type\n30,rolling\n",
        "binary-junk": bytes(random.Random(5).randrange(256) for _ in range(4096)),
        "json-as-csv": GOOD_JSON + b"\n",
    }
    for name, content in header.items():
        yield _case(root, f"csv-{name}", content, "csv", line=1)
    valid = {
        "bom": b"\xef\xbb\xbf" + GOOD_CSV_HEADER + GOOD_CSV_ROW,
        "header-only": GOOD_CSV_HEADER,
        "empty": b"",
        "crlf": (GOOD_CSV_HEADER + GOOD_CSV_ROW).replace(b"\n", b"\r\n"),
    }
    for name, content in valid.items():
        yield _case(root, f"csv-valid-{name}", content, "csv", exits=(0,))


def _special(root: Path) -> Iterator[Case]:
    """Not a regular input file, and an output that cannot be written."""
    folder = Case(kind="batches", name="special-folder-input", argv=()).folder(root)
    (folder / "a-folder.jsonl").mkdir(exist_ok=True)
    out = str(folder / "out.jsonl")
    argv = ("batch", str(folder / "a-folder.jsonl"), "-o", out)
    yield Case("batches", "special-folder-input", argv, located="a-folder.jsonl")
    missing = Case(kind="batches", name="special-missing-input", argv=()).folder(root) / "missing.jsonl"
    yield Case("batches", "special-missing-input", ("batch", str(missing), "-o", out), located="missing.jsonl")
    nowhere = Case(kind="batches", name="special-missing-output-folder", argv=()).folder(root)
    path = nowhere / "in.jsonl"
    path.write_bytes(GOOD_JSON + b"\n")
    yield Case(
        "batches",
        "special-missing-output-folder",
        ("batch", str(path), "-o", str(nowhere / "no" / "out.jsonl")),
        located="does not exist",
    )
    resume = Case(kind="batches", name="special-resume-foreign-output", argv=()).folder(root)
    path = resume / "in.jsonl"
    path.write_bytes(GOOD_JSON + b"\n")
    (resume / "out.jsonl.partial").write_bytes(b'{"line":7}\n{"line":8}\n')
    yield Case(
        "batches",
        "special-resume-foreign-output",
        ("batch", str(path), "-o", str(resume / "out.jsonl"), "--resume"),
        located="out.jsonl.partial",
    )


def cases(root: Path) -> Iterator[Case]:
    yield from _jsonl(root)
    yield from _yaml(root)
    yield from _csv(root)
    yield from _special(root)
