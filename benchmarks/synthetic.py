"""Synthetic knowledge bases in cicatrix's own YAML rule language, and the same rules in CLIPS.

Rules come in four families that mix every condition form: literals, any-of
lists, comparisons with numbers and with bound variables, binding joins across
patterns, ``unless`` patterns, and facts derived by one rule and matched by
another. The number of distinct item kinds grows with the rule count, so a
patient's facts match about the same number of rules at every size: what grows
is only the knowledge base a matcher must not get lost in.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

TREATMENTS = 20


def kinds(n: int) -> int:
    return max(1, n // 4)


def rules(n: int) -> list[dict[str, Any]]:
    k = kinds(n)
    out = []
    for i in range(n):
        family = i % 4
        kind = f"k{(i // 4) % k}"
        base = {"id": f"r{i}", "title": f"synthetic rule {i}", "salience": i % 10, "sources": ["bench"]}
        if family == 0:
            out.append({**base,
                "when": [{"item": {"kind": kind, "grade": ["mid", "high"], "zone": "$z"}},
                         {"person": {"level": {"lte": 1 + i % 6}}}],
                "unless": [{"person": {"flag": True}}],
                "then": [{"assert": {"derived": {"tag": f"t{i}", "zone": "$z"}}}]})  # fmt: skip
        elif family == 1:
            out.append({**base,
                "when": [{"derived": {"tag": f"t{i - 1}", "zone": "$z"}},
                         {"item": {"zone": "$z", "size": {"gte": i % 50}}}],
                "then": [{"recommend": f"x{i % TREATMENTS}", "explain": "chained on {$z}"}]})  # fmt: skip
        elif family == 2:
            out.append({**base,
                "when": [{"person": {"age": "$a"}},
                         {"item": {"kind": kind, "size": {"lt": "$a"}}}],
                "then": [{"note": f"note {i}"}]})  # fmt: skip
        else:
            out.append({**base,
                "when": [{"item": {"kind": kind, "grade": {"not": "low"}}}],
                "unless": [{"derived": {"tag": f"t{i - 3}"}}],
                "then": [{"recommend": f"x{i % TREATMENTS}", "explain": "unless-guarded"}]})  # fmt: skip
    return out


PER_FILE = 1000


def write_kb(root: Path, n: int) -> Path:
    k = kinds(n)
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "kb.yaml").write_text(
        yaml.safe_dump(
            {
                "name": f"synthetic-{n}",
                "version": "1",
                "disclaimer": "Benchmark only.",
                "sources": {"bench": {"title": "synthetic", "confidence": "low"}},
            }
        )
    )
    templates = {
        "templates": {
            "person": {
                "input": {"key": "person"},
                "fields": {
                    "age": {"type": "integer", "minimum": 0, "maximum": 120, "nullable": True, "default": None},
                    "level": {"type": "integer", "minimum": 1, "maximum": 6, "default": 3},
                    "flag": {"type": "boolean", "default": False},
                },
            },
            "item": {
                "input": {"key": "items", "many": True, "min_items": 1},
                "fields": {
                    "kind": {"type": "string", "allowed": [f"k{j}" for j in range(k)], "required": True},
                    "grade": {"type": "string", "allowed": ["low", "mid", "high"], "default": "mid"},
                    "zone": {"type": "string", "allowed": [f"z{j}" for j in range(10)], "default": "z0"},
                    "size": {"type": "integer", "minimum": 0, "maximum": 100, "default": 10},
                },
            },
            "derived": {
                "fields": {
                    "tag": {"type": "string", "required": True},
                    "zone": {"type": "string", "nullable": True, "default": None},
                }
            },
        }
    }
    (root / "templates.yaml").write_text(yaml.safe_dump(templates, sort_keys=False))
    treatments = {
        "treatments": {
            f"x{j}": {"title": f"X{j}", "kind": "procedure", "summary": "synthetic", "downtime": {"min": 0, "max": 1},
                      "sources": ["bench"]}
            for j in range(TREATMENTS)
        }
    }  # fmt: skip
    (root / "treatments.yaml").write_text(yaml.safe_dump(treatments, sort_keys=False))
    # Files of at most PER_FILE rules: one file of 10,000 rules holds more values than
    # a knowledge-base file may (engine/documents/limits.py), as an author's would.
    generated = rules(n)
    for start in range(0, len(generated), PER_FILE):
        chunk = generated[start : start + PER_FILE]
        (root / "rules" / f"synthetic-{start // PER_FILE:03d}.yaml").write_text(yaml.safe_dump(chunk, sort_keys=False))
    return root


def patients(n_rules: int, count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k = kinds(n_rules)
    out = []
    for _ in range(count):
        items = [
            {
                "kind": f"k{rng.randrange(k)}",
                "grade": rng.choice(["low", "mid", "high"]),
                "zone": f"z{rng.randrange(10)}",
                "size": rng.randrange(100),
            }
            for _ in range(rng.randint(1, 3))
        ]
        person = {"age": rng.randint(15, 80), "level": rng.randint(1, 6), "flag": rng.random() < 0.2}
        out.append({"person": person, "items": items})
    return out


# --- the same rules in CLIPS ------------------------------------------------------------


def _clips_value(value: Any) -> str:
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    return str(value)


def clips_program(n: int) -> list[str]:
    constructs = [
        "(deftemplate person (slot age) (slot level) (slot flag))",
        "(deftemplate item (slot kind) (slot grade) (slot zone) (slot size))",
        "(deftemplate derived (slot tag) (slot zone))",
        "(deftemplate recommend (slot treatment))",
        "(deftemplate note (slot text))",
    ]
    for i in range(n):
        family = i % 4
        kind = f"k{(i // 4) % kinds(n)}"
        head = f"(defrule r{i} (declare (salience {i % 10}))"
        if family == 0:
            body = (f"(item (kind {kind}) (grade ?g&mid|high) (zone ?z)) (person (level ?l&:(<= ?l {1 + i % 6}))) "
                    f"(not (person (flag TRUE))) => (assert (derived (tag t{i}) (zone ?z))))")  # fmt: skip
        elif family == 1:
            body = (f"(derived (tag t{i - 1}) (zone ?z)) (item (zone ?z) (size ?s&:(>= ?s {i % 50}))) "
                    f"=> (assert (recommend (treatment x{i % TREATMENTS}))))")  # fmt: skip
        elif family == 2:
            body = (f"(person (age ?a&:(numberp ?a))) (item (kind {kind}) (size ?s&:(< ?s ?a))) "
                    f"=> (assert (note (text n{i}))))")  # fmt: skip
        else:
            body = (f"(item (kind {kind}) (grade ?g&~low)) (not (derived (tag t{i - 3}))) "
                    f"=> (assert (recommend (treatment x{i % TREATMENTS}))))")  # fmt: skip
        constructs.append(f"{head} {body}")
    return constructs


def clips_facts(patient: dict[str, Any]) -> list[str]:
    p = patient["person"]
    facts = [f"(person (age {p['age']}) (level {p['level']}) (flag {_clips_value(p['flag'])}))"]
    for it in patient["items"]:
        facts.append(f"(item (kind {it['kind']}) (grade {it['grade']}) (zone {it['zone']}) (size {it['size']}))")
    return facts
