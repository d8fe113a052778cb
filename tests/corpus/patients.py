"""Malformed patient files: every class of issue 13, crossed with the places they can hide.

Each case is one file given to ``cicatrix consult``. The generator starts from a
valid patient and breaks it one way at a time: YAML and JSON syntax, types and
values at every field, resource bombs (size, nesting, aliases, numbers, endless
input), encodings, and the edges of JSON and YAML. Every one must end with a
located refusal (exit 2), or, for the inputs that are valid after all (a BOM,
``1e1`` in JSON, a merge key with an override), with a plan (exit 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from . import Case

GOOD = {
    "patient": {"age": 30, "fitzpatrick": 3, "downtime_days": 7, "budget": "medium"},
    "scars": [{"type": "rolling", "site": "cheeks", "count": 4, "depth": "moderate"}],
}

PATIENT_FIELDS = {
    "age": ["thirty", -1, 121, 3.5, [], {}, True],
    "sex": ["robot", 3, []],
    "fitzpatrick": [0, 7, "III", 2.5, [3]],
    "pregnant": ["yes please", 2, []],
    "trying_to_conceive": ["maybe", {}],
    "breastfeeding": [[], "often"],
    "retinoid_cleared": ["x"],
    "active_acne": [{"a": 1}],
    "acne_severity": ["terrible", 4],
    "isotretinoin_months_ago": [-2, "last year", []],
    "keloid_history": ["sometimes"],
    "family_keloid_history": [7],
    "skin_sensitivity": ["extreme", None, 1],
    "conditions": ["eczema", ["eczma"], [1], {"eczema": True}],
    "active_infection": ["flu"],
    "anticoagulants": ["warfarin"],
    "sun_exposure": ["always"],
    "recent_tan": [[]],
    "marks": ["red", ["purple"]],
    "expectations": ["perfect"],
    "downtime_days": [-1, "a week", []],
    "budget": ["unlimited", 100],
    "favourite_colour": ["blue"],  # an unknown key
}

SCAR_FIELDS = {
    "type": ["icepick", None, 3, ["rolling"]],
    "site": ["elbow", 7, ["cheeks"]],
    "count": [0, 1001, "many", 2.5],
    "depth": ["shalow", 1],
    "width_mm": [-1, "wide"],
    "distensible": ["yes please", 2],
    "floor": ["wooden"],
    "colour": ["red"],  # an unknown key
}


def _case(root: Path, name: str, content: bytes, *, suffix: str = ".yaml", exits=(2,), located: bool = True) -> Case:
    case = Case(kind="patients", name=name, argv=())
    path = case.folder(root) / f"patient{suffix}"
    path.write_bytes(content)
    return Case(
        kind="patients",
        name=name,
        argv=("consult", str(path), "--format", "json"),
        exits=tuple(exits),
        located=path.name if located and 2 in exits else "",
    )


def _yaml(data: object) -> bytes:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def _fields(root: Path) -> Iterator[Case]:
    for field, values in PATIENT_FIELDS.items():
        for i, value in enumerate(values):
            data = json.loads(json.dumps(GOOD))
            data["patient"][field] = value
            yield _case(root, f"patient-{field}-{i}", _yaml(data))
            yield _case(root, f"patient-{field}-{i}-json", json.dumps(data).encode(), suffix=".json")
    for field, values in SCAR_FIELDS.items():
        for i, value in enumerate(values):
            data = json.loads(json.dumps(GOOD))
            data["scars"][0][field] = value
            yield _case(root, f"scar-{field}-{i}", _yaml(data))


def _shapes(root: Path) -> Iterator[Case]:
    shapes = {
        "empty": b"",
        "only-comment": b"# nothing here\n",
        "null": b"null\n",
        "a-list": b"- 1\n- 2\n",
        "a-string": b"just words\n",
        "a-number": b"42\n",
        "no-scars": _yaml({"patient": {"age": 30}}),
        "scars-empty": _yaml({"scars": []}),
        "scars-mapping": _yaml({"scars": {"type": "rolling"}}),
        "scars-strings": _yaml({"scars": ["rolling"]}),
        "patient-list": _yaml({"patient": [1, 2], "scars": GOOD["scars"]}),
        "too-many-scars": _yaml({"scars": [{"type": "boxcar"}] * 101}),
        "two-documents": b"scars: [{type: rolling}]\n---\nscars: [{type: boxcar}]\n",
        "duplicate-key": b"scars: [{type: rolling}]\nscars: [{type: boxcar}]\n",
        "duplicate-field": b"scars:\n  - type: rolling\n    type: boxcar\n",
        "complex-key": b"? [a, b]\n: 1\nscars: [{type: rolling}]\n",
        "python-tag": b"scars: !!python/object/apply:os.system ['echo hi']\n",
        "python-name": b"scars: [{type: !!python/name:os.system ''}]\n",
        "custom-tag": b"scars: [{type: !rolling x}]\n",
        "binary-tag": b"scars: !!binary aGVsbG8=\n",
        "set-tag": b"scars: !!set {a, b}\n",
        "timestamp": b"patient: {age: 2001-12-14}\nscars: [{type: rolling}]\n",
    }
    for name, content in shapes.items():
        yield _case(root, f"shape-{name}", content)


def _syntax(root: Path) -> Iterator[Case]:
    broken = {
        "unclosed-flow": b"scars: [{type: rolling}\n",
        "bad-indent": b"scars:\n  - type: rolling\n   site: cheeks\n",
        "tab-indent": b"scars:\n\t- type: rolling\n",
        "colon-chaos": b"scars: : : :\n",
        "unclosed-quote": b'scars: [{type: "rolling}]\n',
        "stray-bracket": b"scars: ]\n",
        "undefined-alias": b"scars: [*nothing]\n",
        "anchor-only": b"scars: &a\n",
        "null-byte": b"scars: [{type: rolling}]\x00\n",
        "control-chars": b"scars: [{type: \x07rolling}]\n",
    }
    for name, content in broken.items():
        yield _case(root, f"syntax-{name}", content)
    json_broken = {
        "trailing-comma": b'{"scars": [{"type": "rolling"},]}',
        "single-quotes": b"{'scars': []}",
        "comment": b'{"scars": [] // no\n}',
        "nan": b'{"scars": [{"type": "rolling", "count": NaN}]}',
        "infinity": b'{"scars": [{"type": "rolling", "width_mm": Infinity}]}',
        "truncated": b'{"scars": [{"type": "roll',
        "two-values": b'{"scars": []} {"scars": []}',
        "bare-word": b"rolling",
        "deep": b'{"scars": ' + b"[" * 200 + b"]" * 200 + b"}",
        "huge-int": b'{"patient": {"age": ' + b"9" * 5000 + b'}, "scars": [{"type": "rolling"}]}',
        "huge-exponent": b'{"patient": {"age": 1e999}, "scars": [{"type": "rolling"}]}',
        "duplicate-key": b'{"scars": [{"type": "rolling"}], "scars": []}',
        "lone-surrogate": b'{"scars": [{"type": "\\ud800"}]}',
    }
    for name, content in json_broken.items():
        yield _case(root, f"json-{name}", content, suffix=".json")


def _bombs(root: Path) -> Iterator[Case]:
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        laughs.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    laughs.append("scars: [*j]")
    bombs = {
        "alias-bomb": ("\n".join(laughs) + "\n").encode(),
        "self-alias": b"scars: &s [*s]\n",
        "self-alias-map": b"scars: [&m {type: rolling, again: *m}]\n",
        "deep-flow": b"scars: " + b"[" * 500 + b"]" * 500 + b"\n",
        "deep-block": "".join("  " * i + "- \n" for i in range(300)).encode(),
        "deep-mapping": ("scars:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200))).encode(),
        "huge-int": b"patient: {age: " + b"9" * 5000 + b"}\nscars: [{type: rolling}]\n",
        "huge-int-key": b"9" * 5000 + b": 1\nscars: [{type: rolling}]\n",
        "huge-float": b"patient: {age: 1" + b"0" * 400 + b".5}\nscars: [{type: rolling}]\n",
        "inf": b"patient: {downtime_days: .inf}\nscars: [{type: rolling}]\n",
        "nan": b"scars: [{type: rolling, width_mm: .nan}]\n",
        "long-string": b"scars: [{type: " + b"r" * 3_000_000 + b"}]\n",
        "long-key": b"x" * 2_000_000 + b": 1\nscars: [{type: rolling}]\n",
        "big-file": b"scars: [{type: rolling}]\n" + b"# padding\n" * 1_000_000,
        "many-items": _yaml({"scars": [{"type": "boxcar", "site": "cheeks"}] * 5000}),
        "wide-mapping": _yaml({"patient": {f"k{i}": i for i in range(20_000)}, "scars": GOOD["scars"]}),
    }
    for name, content in bombs.items():
        yield _case(root, f"bomb-{name}", content)


def _encodings(root: Path) -> Iterator[Case]:
    text = _yaml(GOOD).decode()
    encodings = {
        "latin1": ("scars: [{type: rolling, site: cheeks}]  # caf\u00e9\n".encode("latin-1"), (2,)),
        "utf16": (text.encode("utf-16"), (2,)),
        "binary": (bytes(range(256)) * 8, (2,)),
        "bom-yaml": (b"\xef\xbb\xbf" + text.encode(), (0,)),
        "bom-json": (b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), (0,)),
    }
    for name, (content, exits) in encodings.items():
        suffix = ".json" if name.endswith("json") else ".yaml"
        yield _case(root, f"encoding-{name}", content, suffix=suffix, exits=exits)


def _valid_edges(root: Path) -> Iterator[Case]:
    """Inputs that look odd but are valid: they must give a plan, not a refusal."""
    exponent = json.dumps(GOOD).replace('"downtime_days": 7', '"downtime_days": 1e1').encode()
    capital = json.dumps(GOOD).replace('"count": 4', '"count": 4').replace('"age": 30', '"age": 3.0E1').encode()
    merge = b"base: &b {type: rolling, site: cheeks, count: 4}\nscars:\n  - <<: *b\n    count: 6\n"
    edges = {"json-exponent": (exponent, ".json"), "json-capital-exponent": (capital, ".json")}
    for name, (content, suffix) in edges.items():
        yield _case(root, f"valid-{name}", content, suffix=suffix, exits=(0,))
    # a merge key with an override: valid YAML, but `base` is not a patient field
    yield _case(root, "valid-merge-override-unknown-key", merge)
    merge_ok = b"scars:\n  - &b {type: rolling, site: cheeks, count: 4}\n  - <<: *b\n    site: forehead\n"
    yield _case(root, "valid-merge-override", merge_ok, exits=(0,))


def _special_files(root: Path) -> Iterator[Case]:
    """Not regular files: a folder, a missing file, an endless stream, a FIFO nobody writes."""
    case = Case(kind="patients", name="special-folder", argv=())
    folder = case.folder(root) / "a-folder.yaml"
    folder.mkdir(exist_ok=True)
    yield Case("patients", "special-folder", ("consult", str(folder)), located=folder.name)
    missing = case.folder(root) / "missing.yaml"
    yield Case("patients", "special-missing", ("consult", str(missing)), located=missing.name)
    zero = Path("/dev/zero")
    if zero.exists():
        yield Case("patients", "special-dev-zero", ("consult", str(zero)), located="/dev/zero")


def cases(root: Path) -> Iterator[Case]:
    yield from _fields(root)
    yield from _shapes(root)
    yield from _syntax(root)
    yield from _bombs(root)
    yield from _encodings(root)
    yield from _valid_edges(root)
    yield from _special_files(root)
