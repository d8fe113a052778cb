"""Damaged trace files: one good trace of the mixed example, broken one way at a time.

The generator first writes a real trace (``cicatrix consult ... --trace``), then
changes its JSON: keys dropped, wrong types at every level, references to facts,
firings, rules, treatments and input items that do not exist, duplicated or
disordered sequence numbers, an unknown version; and its bytes: truncated at
several offsets, binary junk, nesting past the bound, numbers past the bound, an
empty file, a file past the size bound. Each case asks one of ``trace show``,
``how``, ``why-not`` and ``replay`` about the damaged file (in turn, so every
question meets every kind of damage somewhere); each must be refused with exit
status 2 and a message naming the file. A version-1 trace without a plan is
fine for ``show`` (exit 0) and refused, located, where it cannot answer.

:data:`DAMAGE` and :data:`RAW` are also what ``tests/engine/explain/test_tracefile.py``
reads in-process, so the unit tests and the corpus break traces the same ways.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import Case

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "mixed-facial-scars.yaml"
QUESTIONS: dict[str, tuple[str, ...]] = {  # a question each command can answer of the good trace
    "show": (),
    "how": ("tca_cross",),
    "why-not": ("punch_excision",),
    "replay": (),
}
COMMANDS = tuple(QUESTIONS)
FILE = "trace.json"

Data = dict[str, Any]


def command() -> list[str]:
    """How to run this interpreter's cicatrix: as a module if it runs as one, else the script beside it."""
    if importlib.util.find_spec("cicatrix.__main__") is not None:
        return [sys.executable, "-m", "cicatrix"]
    return [str(Path(sys.executable).with_name("cicatrix"))]


def good_trace(folder: Path) -> Path:
    """A fresh trace of the mixed example, written by the command line itself."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    done = subprocess.run(
        [*command(), "consult", str(EXAMPLE), "--trace", str(path), "-o", str(folder / "plan.txt")],
        capture_output=True,
        timeout=120,
    )
    if done.returncode != 0 or not path.exists():
        raise RuntimeError(f"cannot write the good trace: {done.stderr.decode(errors='replace')[:500]}")
    return path


# --- finding the parts to break ---------------------------------------------------


def _fact(data: Data, test: Callable[[Data], bool]) -> Data:
    return next(f for f in data["facts"] if test(f))


def _firing(data: Data, test: Callable[[Data], bool]) -> Data:
    return next(f for f in data["firings"] if test(f))


def _action(data: Data, test: Callable[[Data], bool]) -> Data:
    return next(a for f in data["firings"] for a in f["actions"] if test(a))


def _input(data: Data) -> Data:
    return _fact(data, lambda f: f["id"] == "scar-1")


def _derived(data: Data) -> Data:
    return _fact(data, lambda f: f["origin"] == "rule")


def _derived_ids(data: Data) -> set[str]:
    return {f["id"] for f in data["facts"] if f["origin"] == "rule"}


def _matching(data: Data) -> Data:
    """A firing that matched a derived fact."""
    derived = _derived_ids(data)
    return _firing(data, lambda f: any(m in derived for m in f["matched"]))


def _unmatch(data: Data) -> None:
    """The firing's derived fact becomes one the trace does not have."""
    firing, derived = _matching(data), _derived_ids(data)
    at = next(i for i, m in enumerate(firing["matched"]) if m in derived)
    firing["matched"][at] = "finding-99"


def _rule(data: Data) -> Data:
    return data["rules"][_firing(data, lambda f: True)["rule"]]


def _test(data: Data, op: str) -> Data:
    return next(
        t
        for r in data["rules"].values()
        for p in r["when"]
        for c in p["constraints"]
        for t in c["tests"]
        if t["op"] == op
    )


def _problem(data: Data, n: int = 0) -> Data:
    return data["result"]["plan"]["problems"][n]


def _combination(data: Data) -> Data:
    return next(r for r in data["result"]["recommendations"] if r["kind"] == "combination")


def _set(part: Callable[[Data], Any], key: Any, value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        part(data)[key] = value

    return change


def _drop(part: Callable[[Data], Any], key: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        del part(data)[key]

    return change


def _top(data: Data) -> Data:
    return data


def _result(data: Data) -> Data:
    return data["result"]


def _swap_seqs(data: Data) -> None:
    a, b = data["firings"][3], data["firings"][4]
    a["seq"], b["seq"] = b["seq"], a["seq"]


def _duplicate_seq(data: Data) -> None:
    data["firings"][4]["seq"] = data["firings"][3]["seq"]


def _duplicate_fact(data: Data) -> None:
    data["facts"][2]["id"] = data["facts"][1]["id"]


def _matched_later(data: Data) -> None:
    """The first firing matches a fact only a later firing asserts."""
    data["firings"][0]["matched"][0] = _fact(data, lambda f: f["origin"] == "rule" and f["firing"] > 5)["id"]


def as_version_1(data: Data) -> None:
    """The trace as version 1 wrote it: no plan, names or targets, no same_as, scope or risk."""
    data["version"] = 1
    data["result"].pop("plan")
    data.pop("names")
    data.pop("targets")
    for firing in data["firings"]:
        for action in firing["actions"]:
            for key in ("same_as", "scope", "risk"):
                action.pop(key, None)


def _deep(data: Data) -> None:
    value: Any = 1
    for _ in range(200):
        value = [value]
    _firing(data, lambda f: f["bindings"])["bindings"]["deep"] = value


def _deep_derivation(data: Data) -> None:
    """Seventy findings, each derived from the one before: a chain deeper than ``how`` follows."""
    rule = next(rid for rid, r in data["rules"].items() if len(r["when"]) == 1 and r["when"][0]["template"] == "scar")
    seq, below = data["firings"][-1]["seq"], "scar-1"
    for n in range(70):
        seq, fid = seq + 1, f"finding-{1000 + n}"
        data["facts"].append(
            {"id": fid, "template": "finding", "values": {"kind": "x"}, "origin": "rule", "rule": rule, "firing": seq}
        )
        data["firings"].append(
            {"seq": seq, "rule": rule, "salience": 0, "matched": [below], "bindings": {}, "asserted": [fid],
             "actions": [{"kind": "assert", "fact": fid}]}
        )  # fmt: skip
        below = fid


def _wide_rule(data: Data) -> None:
    rule = _rule(data)
    rule["when"] = rule["when"] * 65


# Each entry breaks the JSON data in place; the name says how.
DAMAGE: dict[str, Callable[[Data], None]] = {
    # the top level
    "format-wrong": _set(_top, "format", "something-else"),
    "format-missing": _drop(_top, "format"),
    "version-unknown": _set(_top, "version", 99),
    "version-text": _set(_top, "version", "2"),
    "version-true": _set(_top, "version", True),
    "version-missing": _drop(_top, "version"),
    "kb-missing-digest": _drop(lambda d: d["kb"], "digest"),
    "kb-list": _set(_top, "kb", ["cicatrix"]),
    "facts-mapping": _set(_top, "facts", {}),
    "firings-missing": _drop(_top, "firings"),
    "rules-list": _set(_top, "rules", []),
    "templates-text": _set(_top, "templates", "scar"),
    "catalogue-missing": _drop(_top, "catalogue"),
    "catalogue-numbers": _set(lambda d: d["catalogue"], "tca_cross", 7),
    "names-list": _set(_top, "names", ["x"]),
    "targets-unknown-template": _set(lambda d: d["targets"], "template", "wart"),
    "targets-unknown-field": _set(lambda d: d["targets"], "field", "colour"),
    "result-missing": _drop(_top, "result"),
    # facts
    "fact-values-list": _set(_input, "values", ["ice_pick", "cheeks"]),
    "fact-missing-id": _drop(_input, "id"),
    "fact-id-number": _set(_input, "id", 7),
    "fact-origin-unknown": _set(_input, "origin", "dream"),
    "fact-value-mapping": _set(lambda d: _input(d)["values"], "count", {"n": 8}),
    "fact-value-wrong-type": _set(lambda d: _input(d)["values"], "count", "eight"),
    "fact-unknown-field": _set(lambda d: _input(d)["values"], "colour", "red"),
    "fact-unknown-template": _set(_input, "template", "wart"),
    "fact-duplicate-id": _duplicate_fact,
    "derived-fact-without-firing": _drop(_derived, "firing"),
    "derived-fact-firing-missing": _set(_derived, "firing", 9999),
    "derived-fact-firing-text": _set(_derived, "firing", "2"),
    "derived-fact-wrong-rule": _set(_derived, "rule", "profile/deep-narrow"),
    "recommend-fact-without-treatment": _drop(
        lambda d: _fact(d, lambda f: f["template"] == "recommend")["values"], "treatment"
    ),
    # firings
    "firing-matches-missing-fact": _unmatch,
    "firing-matches-later-fact": _matched_later,
    "firing-matched-text": _set(_matching, "matched", "finding-1"),
    "firing-seq-text": _set(lambda d: d["firings"][2], "seq", "3"),
    "firing-seq-duplicate": _duplicate_seq,
    "firing-seq-disordered": _swap_seqs,
    "firing-seq-zero": _set(lambda d: d["firings"][0], "seq", 0),
    "firing-seq-float": _set(lambda d: d["firings"][0], "seq", 1.5),
    "firing-unknown-rule": _set(lambda d: d["firings"][0], "rule", "no/such-rule"),
    "firing-salience-text": _set(lambda d: d["firings"][0], "salience", "high"),
    "firing-bindings-list": _set(lambda d: _firing(d, lambda f: f["bindings"]), "bindings", ["site", "cheeks"]),
    "firing-binding-mapping": lambda d: _firing(d, lambda f: f["bindings"])["bindings"].update(site={"a": 1}),
    "firing-without-actions": _drop(lambda d: d["firings"][0], "actions"),
    "firing-asserts-missing-fact": lambda d: _firing(d, lambda f: f["asserted"])["asserted"].append("finding-99"),
    "firing-matched-count": lambda d: _matching(d)["matched"].pop(),
    # actions
    "action-kind-unknown": _set(lambda d: _action(d, lambda a: a["kind"] == "recommend"), "kind", "prescribe"),
    "action-without-kind": _drop(lambda d: _action(d, lambda a: a["kind"] == "recommend"), "kind"),
    "action-recommend-without-treatment": _drop(lambda d: _action(d, lambda a: a["kind"] == "recommend"), "treatment"),
    "action-tier-unknown": _set(lambda d: _action(d, lambda a: a["kind"] == "recommend"), "tier", "best"),
    "action-combine-without-components": _drop(lambda d: _action(d, lambda a: a["kind"] == "combine"), "components"),
    "action-same-as-missing-fact": _set(lambda d: _action(d, lambda a: "same_as" in a), "same_as", "finding-99"),
    "action-fact-missing": _set(lambda d: _action(d, lambda a: "fact" in a), "fact", "recommend-99"),
    "action-label-missing": lambda d: _action(d, lambda a: bool(a.get("labels")))["labels"].clear(),
    "action-scope-list": _set(lambda d: _action(d, lambda a: "scope" in a), "scope", ["site"]),
    "action-labels-numbers": _set(lambda d: _action(d, lambda a: "labels" in a), "labels", {"site": 3}),
    "action-unknown-treatment": _set(lambda d: _action(d, lambda a: a["kind"] == "caution"), "treatment", "leeches"),
    "action-severity-unknown": _set(lambda d: _action(d, lambda a: a["kind"] == "recommend"), "severity", "dire"),
    "actions-mapping": _set(lambda d: d["firings"][0], "actions", {"kind": "note"}),
    # rules and templates
    "rule-without-when": _drop(_rule, "when"),
    "rule-title-number": _set(_rule, "title", 12),
    "rule-test-op-unknown": _set(lambda d: _test(d, "eq"), "op", "roughly"),
    "rule-test-compares-text": _set(lambda d: _test(d, "lte"), "value", "five"),
    "rule-test-without-operand": _drop(lambda d: _test(d, "lte"), "value"),
    "rule-any-not-a-list": _set(lambda d: _test(d, "any"), "value", "cheeks"),
    "rule-concludes-text": _set(_rule, "concludes", "recommend"),
    "rule-any-with-a-variable": lambda d: _test(d, "any").update(var="site"),
    "rule-too-many-patterns": _wide_rule,
    "derivation-too-deep": _deep_derivation,
    "template-without-fields": _drop(lambda d: d["templates"]["scar"], "fields"),
    "template-labels-numbers": _set(lambda d: d["templates"]["scar"]["fields"]["type"], "labels", {"ice_pick": 1}),
    # the result and the plan
    "result-patient-missing": _drop(_result, "patient"),
    "recommendation-without-id": _drop(lambda d: d["result"]["recommendations"][0], "id"),
    "recommendation-rank-text": _set(lambda d: d["result"]["recommendations"][0], "rank", "first"),
    "recommendation-duplicate": lambda d: d["result"]["recommendations"].append(d["result"]["recommendations"][0]),
    "recommendation-unknown-treatment": _set(lambda d: d["result"]["recommendations"][0], "id", "leeches"),
    "combination-without-components": _drop(_combination, "components"),
    "avoid-mapping": _set(_result, "avoid", {}),
    "avoid-without-id": _drop(lambda d: d["result"]["avoid"][0], "id"),
    "avoid-unknown-rule": _set(lambda d: d["result"]["avoid"][0], "rules", ["no/such-rule"]),
    "alert-without-id": _set(_result, "alerts", [{"severity": "urgent", "text": "x", "rules": []}]),
    "left-out-without-reason": _set(
        _result, "left_out", [{"id": "prp", "title": "PRP", "constraint": "", "rules": []}]
    ),
    "plan-missing": _drop(_result, "plan"),
    "problems-mapping": _set(lambda d: d["result"]["plan"], "problems", {}),
    "problem-without-id": _drop(_problem, "id"),
    "problem-without-why": _drop(lambda d: _problem(d, 1), "why"),
    "problem-duplicate-id": _set(lambda d: _problem(d, 1), "id", "problem-1"),
    "problem-item-missing": _set(_problem, "scars", [9]),
    "problem-item-text": _set(_problem, "scars", ["one"]),
    "problem-item-zero": _set(_problem, "scars", [0]),
    "problem-choice-unknown": _set(_problem, "choice", "leeches"),
    "problem-alternatives-text": _set(_problem, "alternatives", "microneedling"),
    "problem-adjuncts-list": _set(_problem, "adjuncts", ["prp"]),
    "problem-ruled-out-kind": _set(
        _problem, "ruled_out", [{"id": "prp", "title": "PRP", "kind": "banned", "reason": "", "rules": []}]
    ),
    "course-names-missing-problem": lambda d: d["result"]["plan"]["course"][-1]["items"][0].update(problem="problem-9"),
    # bounds within valid JSON
    "deep-nesting": _deep,
}

TRUNCATE_AT = (0.02, 0.25, 0.5, 0.75, 0.999)


def _truncate(fraction: float) -> Callable[[bytes], bytes]:
    return lambda text: text[: int(len(text) * fraction)]


def _raw_big(text: bytes) -> bytes:
    return text[:-2] + b" " * (9 * 1024 * 1024) + text[-2:]


def _huge_number(text: bytes) -> bytes:
    return text.replace(b'"seq": 1,', b'"seq": 1' + b"0" * 5000 + b",", 1)


def _huge_exponent(text: bytes) -> bytes:
    return text.replace(b'"salience": 100', b'"salience": 1e999', 1)


# Each entry turns the good trace's bytes into damaged bytes.
RAW: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda t: b"",
    "blank": lambda t: b"  \n\n",
    "not-json": lambda t: b"this is not a trace\n",
    "a-list": lambda t: b"[1, 2, 3]\n",
    "null": lambda t: b"null\n",
    **{f"truncated-{round(f * 1000)}": _truncate(f) for f in TRUNCATE_AT},
    "binary-junk": lambda t: bytes(range(256)) * 16,
    "junk-after": lambda t: t + b"\x00\x01garbage",
    "junk-inside": lambda t: t[:5000] + b"\xff\xfe\x00" + t[5000:],
    "utf16": lambda t: t.decode("utf-8").encode("utf-16"),
    "nan": lambda t: t.replace(b'"salience": 100', b'"salience": NaN', 1),
    "huge-number": _huge_number,
    "huge-exponent": _huge_exponent,
    "deep-brackets": lambda t: t[:-2] + b', "x": ' + b"[" * 5000 + b"]" * 5000 + t[-2:],
    "too-big": _raw_big,
}


def damaged(data: Data, name: str) -> bytes:
    """The good trace's data with one :data:`DAMAGE` applied, as a file's bytes."""
    changed = copy.deepcopy(data)
    DAMAGE[name](changed)
    return json.dumps(changed, indent=1, ensure_ascii=False).encode("utf-8")


def _case(root: Path, name: str, content: bytes | None, which: str, *, args: tuple[str, ...] = (), exits=(2,)) -> Case:
    folder = Case(kind="traces", name=name, argv=()).folder(root)
    path = folder / FILE
    if content is not None:
        path.write_bytes(content)
    return Case(
        kind="traces",
        name=name,
        argv=("trace", which, str(path), *(args or QUESTIONS[which])),
        exits=tuple(exits),
        located=FILE if 2 in exits else "",
    )


def cases(root: Path) -> Iterator[Case]:
    good = good_trace(root / "traces" / "good-source")
    text = good.read_bytes()
    data = json.loads(text)
    turn = 0
    for name in DAMAGE:
        yield _case(root, name, damaged(data, name), COMMANDS[turn % len(COMMANDS)])
        turn += 1
    for name, change in RAW.items():
        yield _case(root, f"raw-{name}", change(text), COMMANDS[turn % len(COMMANDS)])
        turn += 1
    # a file that is not there, and a version-1 trace asked what it cannot answer
    yield _case(root, "missing-file", None, "how")
    old = copy.deepcopy(data)
    as_version_1(old)
    content = json.dumps(old, indent=1).encode()
    yield _case(root, "version-1-show", content, "show", exits=(0,))
    yield _case(root, "version-1-how-problem", content, "how", args=("problem-1",))
    yield _case(root, "version-1-replay", content, "replay")
    old["result"]["recommendations"][0].pop("id")
    yield _case(root, "version-1-recommendation-without-id", json.dumps(old).encode(), "why-not")
