"""Malformed knowledge bases: the bundled one, broken one way at a time.

Each case copies the bundled knowledge base and breaks one file: syntax,
schema, references, resource bombs, encodings, non-finite numbers, test cases
with bad patients, a rule that joins one template eight ways. ``kb validate``
(or, where the damage only shows when rules run, ``consult``) must refuse it
with a located message and exit status 2.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from . import Case

BUNDLED = Path(__file__).resolve().parents[2] / "kb"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mixed-facial-scars.yaml"

RULE = """
- id: corpus/extra
  title: An extra rule
  when: {when}
  then:
    {then}
  sources: ["clinical-facts.md#1.1"]
"""


Break = tuple[str, Callable[[Path], None]]  # the file a message must name, and the damage


def _rule(when: str = "[]", then: str = "- note: extra") -> Break:
    def edit(kb: Path) -> None:
        with (kb / "rules" / "50-home-care.yaml").open("a", encoding="utf-8") as handle:
            handle.write(RULE.format(when=when, then=then))

    return "50-home-care.yaml", edit


def _replace(file: str, old: str, new: str) -> Break:
    def edit(kb: Path) -> None:
        path = kb / file
        text = path.read_text(encoding="utf-8")
        assert old in text, (file, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return Path(file).name, edit


def _write(file: str, content: bytes) -> Break:
    def edit(kb: Path) -> None:
        (kb / file).write_bytes(content)

    return Path(file).name, edit


def _remove(file: str) -> Break:
    def edit(kb: Path) -> None:
        (kb / file).unlink()

    return Path(file).name, edit


LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]" for i in range(1, 10)]
)

BREAKS: dict[str, Break] = {
    # syntax and shape
    "rules-syntax": _write("rules/30-procedures.yaml", b"- id: x\n  when: [\n"),
    "rules-mapping": _write("rules/30-procedures.yaml", b"id: not-a-list\n"),
    "rules-empty": _write("rules/30-procedures.yaml", b""),
    "rules-binary": _write("rules/30-procedures.yaml", bytes(range(256))),
    "rules-latin1": _write("rules/30-procedures.yaml", "- id: caf\u00e9\n".encode("latin-1")),
    "rules-python-tag": _rule("!!python/object/apply:os.system ['echo pwned']"),
    "rules-alias-bomb": _write("rules/30-procedures.yaml", (LAUGHS + "\n").encode()),
    "rules-self-alias": _write("rules/30-procedures.yaml", b"- &r {id: x, when: [*r]}\n"),
    "rules-deep": _write("rules/30-procedures.yaml", b"- " + b"[" * 300 + b"]" * 300 + b"\n"),
    "rules-huge": _write("rules/30-procedures.yaml", b"# " + b"x" * (9 * 1024 * 1024) + b"\n"),
    "rules-tab": _write("rules/30-procedures.yaml", b"- id: x\n\ttitle: y\n"),
    "rules-utf16": _write("rules/30-procedures.yaml", "- id: x\n".encode("utf-16")),
    "rules-null-byte": _write("rules/30-procedures.yaml", b"- id: x\x00\n"),
    "kb-yaml-missing": _remove("kb.yaml"),
    "kb-yaml-bad-confidence": _replace("kb.yaml", "confidence: low", "confidence: sure"),
    "treatment-duplicate-key": _replace(
        "treatments.yaml", "    short: Sunscreen\n", "    short: Sunscreen\n    short: SPF\n"
    ),
    "template-unknown-key": _replace(
        "templates.yaml", "        nullable: true\n", "        nullable: true\n        optional: true\n"
    ),
    "kb-yaml-list": _write("kb.yaml", b"- name\n"),
    "kb-yaml-syntax": _write("kb.yaml", b"name: [\n"),
    "templates-missing": _remove("templates.yaml"),
    "templates-syntax": _write("templates.yaml", b"templates: {\n"),
    "treatments-missing": _remove("treatments.yaml"),
    "treatments-empty": _write("treatments.yaml", b"treatments: {}\n"),
    "plan-syntax": _write("plan.yaml", b"problems: [\n"),
    "questions-syntax": _write("questions.yaml", b"groups: [\n"),
    # schema and references in rules
    "rule-unknown-template": _rule("[{scarr: {type: rolling}}]"),
    "rule-unknown-field": _rule("[{scar: {colour: red}}]"),
    "rule-impossible-value": _rule("[{scar: {type: icepick}}]"),
    "rule-unknown-treatment": _rule(then="- recommend: laser_magic\n      explain: x"),
    "rule-unknown-action": _rule(then="- prescribe: retinoid"),
    "rule-unbound-text-var": _rule(then="- note: about {$nowhere}"),
    "rule-unbound-target": _rule(then="- avoid: $t\n      reason: r"),
    "rule-bad-operator": _rule("[{patient: {age: {between: [1, 2]}}}]"),
    "rule-huge-salience": _replace(
        "rules/10-profile.yaml",
        "- id: profile/deep-narrow\n",
        "- id: profile/deep-narrow\n  salience: " + "9" * 5000 + "\n",
    ),
    "rule-string-salience": _replace(
        "rules/10-profile.yaml", "- id: profile/deep-narrow\n", "- id: profile/deep-narrow\n  salience: high\n"
    ),
    "rule-duplicate-id": _replace("rules/50-home-care.yaml", "- id: everyone/moisturizer", "- id: everyone/sunscreen"),
    "rule-unknown-source": _replace("rules/10-profile.yaml", '"clinical-facts.md#1.2"]', '"nowhere.txt#1.2"]'),
    "rule-no-sources": _replace(
        "rules/10-profile.yaml",
        '  sources: ["000_9f831d32b1b93e3e.txt#overview", "clinical-facts.md#1.2"]\n',
        "",
    ),
    "rule-duplicate-key": _replace("rules/10-profile.yaml", "  salience: 60\n", "  salience: 60\n  salience: 61\n"),
    "rule-tier-typo": _replace("rules/30-procedures.yaml", "tier: first_line", "tier: frist_line"),
    "rule-inf-salience": _replace("rules/10-profile.yaml", "  salience: 60\n", "  salience: .inf\n"),
    "rule-nan-value": _rule("[{patient: {age: {gt: .nan}}}]"),
    # the catalogue
    "treatment-inf-downtime": _replace(
        "treatments.yaml", "downtime: {min: 1, max: 7}", "downtime: {min: 1, max: .inf}"
    ),
    "treatment-nan-downtime": _replace(
        "treatments.yaml", "downtime: {min: 1, max: 7}", "downtime: {min: .nan, max: 7}"
    ),
    "treatment-min-over-max": _replace("treatments.yaml", "downtime: {min: 1, max: 7}", "downtime: {min: 9, max: 7}"),
    "treatment-unknown-kind": _replace("treatments.yaml", "kind: procedure", "kind: potion"),
    "treatment-huge-number": _replace(
        "treatments.yaml", "downtime: {min: 1, max: 7}", "downtime: {min: 1, max: 1" + "0" * 400 + "}"
    ),
    "treatment-unknown-source": _replace(
        "treatments.yaml", '- "000_9f831d32b1b93e3e.txt#sunscreen"', '- "nowhere.txt"'
    ),
    # templates, plan, questions
    "template-unknown-type": _replace("templates.yaml", "type: integer", "type: decimal"),
    "template-min-items-string": _replace("templates.yaml", "min_items: 1", "min_items: one"),
    "plan-unknown-phase": _replace("treatments.yaml", "course: {phase: prepare", "course: {phase: prepair"),
    "plan-unknown-option": _replace("plan.yaml", "      - tca_cross\n", "      - tca_crosss\n"),
    "plan-bad-weeks": _replace("plan.yaml", "gradual_weeks: 2", "gradual_weeks: -2"),
    "questions-unknown-field": _replace("questions.yaml", "- field: budget", "- field: budgett"),
    # the knowledge base's own test cases
    "case-bad-patient": _replace(
        "tests/edge-cases.yaml", "depth: shallow, width_mm: 1.5}", "depth: shalow, width_mm: 1.5}"
    ),
    "case-unknown-expectation": _replace(
        "tests/edge-cases.yaml", "      not_recommend: [subcision, punch_excision]", "      not_recomend: [subcision]"
    ),
    "case-unknown-id": _replace(
        "tests/edge-cases.yaml", "recommend: [tca_cross, non_ablative", "recommend: [tca_crosss, non_ablative"
    ),
    "case-duplicate-id": _replace(
        "tests/edge-cases.yaml", "- id: E02-distensible-boxcar-is-tethered", "- id: E01-narrow-boxcar-tca-cross"
    ),
    "case-huge-count": _replace(
        "tests/edge-cases.yaml", "count: 6, depth: shallow, width_mm: 1.5}", "count: " + "9" * 5000 + "}"
    ),
    "case-patient-bomb": _write(
        "tests/zz-bomb.yaml",
        (
            "cases:\n  - id: Z1\n    patient:\n      "
            + LAUGHS.replace("\n", "\n      ")
            + "\n    expect: {recommend: [sunscreen]}\n"
        ).encode(),
    ),
}

# Damage that only shows when the rules run: the command is a consultation.
RUN_BREAKS: dict[str, Break] = {
    "join-eight-ways": _rule(
        "[" + ", ".join(f"{{scar: {{count: ${v}}}}}" for v in "abcdefgh") + "]",
    ),
}


def cases(root: Path) -> Iterator[Case]:
    for name, (file, edit) in BREAKS.items():
        case = Case(kind="kbs", name=name, argv=())
        kb = case.folder(root) / "kb"
        if not kb.exists():
            shutil.copytree(BUNDLED, kb)
            edit(kb)
        yield Case("kbs", name, ("kb", "validate", "--kb", str(kb)), exits=(2,), located=file)
    for name, (file, edit) in RUN_BREAKS.items():
        case = Case(kind="kbs", name=name, argv=())
        kb = case.folder(root) / "kb"
        if not kb.exists():
            shutil.copytree(BUNDLED, kb)
            edit(kb)
        patient = case.folder(root) / "many-scars.yaml"
        patient.write_text(
            "scars:\n" + "".join(f"  - {{type: boxcar, site: cheeks, count: {i + 1}}}\n" for i in range(12)),
            encoding="utf-8",
        )
        yield Case("kbs", name, ("consult", str(patient), "--kb", str(kb)), exits=(2,), located=file)
    for name, path in {"kb-is-a-file": EXAMPLE, "kb-missing": root / "kbs" / "no-such-kb"}.items():
        yield Case("kbs", name, ("kb", "validate", "--kb", str(path)), exits=(2,))
