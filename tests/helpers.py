"""Small helpers the tests share: consulting a throw-away knowledge base, the
bundled examples, a generator of patients for the bundled knowledge base, and the
small knowledge bases the authoring and explanation tests break or question."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from cicatrix.engine.explain.tracefile import Trace, read
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.resolver import plan
from cicatrix.engine.session.session import Session

from .conftest import EXAMPLES, MANIFEST, ONE_RULE, TEMPLATES, TREATMENTS

ALL_EXAMPLES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json"))


def consult(kb_dir: Path, data: dict[str, Any], matcher: str | None = None):
    """Load a knowledge base, consult one patient, return (result, firings)."""
    kb = load(kb_dir)
    session = Session(kb, matcher=matcher)
    patient = from_data(data, kb)
    result = plan(session, patient)
    return result, result.consultation.firings


def fired(firings) -> list[str]:
    return [f.rule for f in firings]


# --- patients for the bundled knowledge base ---------------------------------------

SCAR_TYPES = ["ice_pick", "boxcar", "rolling", "hypertrophic", "keloid", "atrophic"]
SITES = [
    "forehead",
    "temples",
    "cheeks",
    "nose",
    "chin",
    "jaw",
    "neck",
    "back",
    "chest",
    "shoulders",
]

scars = st.fixed_dictionaries(
    {"type": st.sampled_from(SCAR_TYPES)},
    optional={
        "site": st.sampled_from(SITES),
        "count": st.integers(1, 40),
        "depth": st.sampled_from(["shallow", "moderate", "deep"]),
        "width_mm": st.floats(0.2, 10, allow_nan=False),
        "distensible": st.one_of(st.none(), st.booleans()),
        "floor": st.sampled_from([None, "normal", "scarred"]),
    },
)
patients = st.fixed_dictionaries(
    {
        "patient": st.fixed_dictionaries(
            {},
            optional={
                "age": st.one_of(st.none(), st.integers(12, 90)),
                "fitzpatrick": st.one_of(st.none(), st.integers(1, 6)),
                "pregnant": st.booleans(),
                "breastfeeding": st.booleans(),
                "active_acne": st.booleans(),
                "acne_severity": st.sampled_from([None, "mild", "moderate", "nodular"]),
                "isotretinoin_months_ago": st.one_of(st.none(), st.integers(0, 36)),
                "keloid_history": st.booleans(),
                "skin_sensitivity": st.sampled_from(["normal", "sensitive", "very_sensitive"]),
                "conditions": st.lists(
                    st.sampled_from(["eczema", "rosacea", "broken_skin", "herpes_simplex"]),
                    unique=True,
                ),
                "downtime_days": st.integers(0, 21),
                "budget": st.sampled_from(["low", "medium", "high"]),
                "trying_to_conceive": st.booleans(),
                "retinoid_cleared": st.booleans(),
                "recurrent_breakouts": st.booleans(),
                "family_keloid_history": st.booleans(),
                "active_infection": st.booleans(),
                "anticoagulants": st.booleans(),
                "sun_exposure": st.sampled_from(["low", "normal", "high"]),
                "recent_tan": st.booleans(),
                "marks": st.lists(st.sampled_from(["red", "brown"]), unique=True),
                "expectations": st.sampled_from(["realistic", "complete_removal"]),
            },
        ),
        "scars": st.lists(scars, min_size=1, max_size=4),
    }
)


# --- a small knowledge base the authoring commands check ---------------------------

GOOD_RULES = (
    ONE_RULE
    + """\
- id: derive
  title: derive a finding
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: use-finding
  title: use the finding
  when: [{finding: {kind: deep}}]
  then: [{recommend: beta, explain: deep}]
  sources: [src.txt]
"""
)


def write_kb(tmp_path: Path, rules: str, templates: str | None = None, treatments: str | None = None) -> Path:
    """The test knowledge base with these files (rules verbatim, no dedent)."""
    root = tmp_path / "kb"
    (root / "rules").mkdir(parents=True)
    (root / "kb.yaml").write_text(MANIFEST)
    (root / "templates.yaml").write_text(templates or TEMPLATES)
    (root / "treatments.yaml").write_text(treatments or TREATMENTS)
    (root / "rules" / "rules.yaml").write_text(rules)
    return root


LOCATED = re.compile(r"^(?:error: |warning: )?(kb/[\w/.-]+\.yaml):(\d+):(\d+): \S")
SUMMARY = re.compile(r"^(?:cicatrix: \d+ problems|\d+ error\(s\), \d+ warning\(s\))$")


def located_files(output: str, root: Path) -> list[str]:
    """The files an authoring command's messages name, checking every message is
    ``file:line:column: text`` with a file of the knowledge base in ``root`` and a
    line that file has."""
    files = []
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "no output"
    for line in lines:
        if SUMMARY.match(line):
            continue
        found = LOCATED.match(line)
        assert found, f"message without a file:line:column location: {line!r}"
        path = root.parent / found[1]
        assert path.is_file(), f"{line!r} names a file that does not exist"
        assert 1 <= int(found[2]) <= path.read_text().count("\n") + 1, f"{line!r}: no such line"
        files.append(found[1])
    return files


# --- a small knowledge base the explanations question ------------------------------

EXPLAIN_RULES = """
- id: derive-deep
  title: derive deep
  salience: 10
  when: [{scar: {depth: deep, site: $s}}]
  then: [{assert: {finding: {kind: deep, site: $s}}}]
  sources: [src.txt]
- id: alpha-for-ice-pick
  title: alpha for deep ice pick
  when: [{scar: {type: ice_pick, depth: deep}}]
  then: [{recommend: alpha, explain: deep ice pick}]
  sources: [src.txt]
- id: alpha-from-finding
  title: alpha from a deep finding
  when: [{finding: {kind: deep}}]
  then: [{recommend: alpha, explain: finding}]
  sources: [src.txt]
- id: beta-unless-pregnant
  title: beta unless pregnant
  when: [{scar: {type: boxcar}}]
  unless: [{patient: {pregnant: true}}]
  then: [{recommend: beta, explain: boxcar}]
  sources: [src.txt]
- id: gamma-for-boxcar
  title: gamma for boxcar
  when: [{scar: {type: boxcar}}]
  then: [{recommend: gamma, explain: cream}]
  sources: [src.txt]
- id: no-gamma-in-pregnancy
  title: no gamma in pregnancy
  when: [{patient: {pregnant: true}}]
  then: [{avoid: gamma, reason: not in pregnancy}]
  sources: [src.txt]
"""


def trace_of(make_kb, tmp_path: Path, run_cli, patient: str) -> Trace:
    """Consult ``patient`` (YAML) against EXPLAIN_RULES through the command line; read the trace."""
    root = make_kb(EXPLAIN_RULES)
    path = tmp_path / "p.yaml"
    path.write_text(patient)
    out = tmp_path / "t.json"
    run = run_cli("consult", str(path), "--kb", str(root), "--trace", str(out), "--format", "json")
    assert run.code == 0, run.err
    return read(out)


def texts(node) -> list[str]:
    """Every line of an explanation tree, depth first."""
    out = [node.text]
    for child in node.children:
        out += texts(child)
    return out


def check_broken_kb(tmp_path, run_cli, what, rules, templates, treatments, command, expected) -> None:
    """A broken knowledge base: the command exits 2, says each expected part, no traceback."""
    root = write_kb(tmp_path, rules, templates, treatments)
    run = run_cli("kb", *command.split(), "--kb", str(root))
    output = run.out + run.err
    assert run.code == 2, output
    for part in expected:
        assert part in output, f"{what}: {part!r} not in\n{output}"
    assert "Traceback" not in output


def rule(rid: str, when: str, then: str = "- note: fired", extra: str = "") -> str:
    """One rule of a small test knowledge base, as YAML (``extra`` adds e.g. a salience)."""
    return f"""
- id: {rid}
  title: {rid}
  {extra}
  when: {when}
  then:
    {then}
  sources: [src.txt]
"""


# An alert of each severity (the warning raised once per scar site), for the alert tests.
ALERT_RULES = (
    rule(
        "warn",
        "[{scar: {site: $s}}]",
        "- alert: check-site\n      severity: warning\n      text: look at the {$s} first.",
    )
    + rule(
        "urgent", "[{patient: {pregnant: true}}]", "- alert: stop-now\n      severity: urgent\n      text: stop now."
    )
    + ONE_RULE
)
TWO_SITES = {
    "patient": {"pregnant": True},
    "scars": [
        {"type": "ice_pick", "site": "cheeks", "depth": "deep"},
        {"type": "ice_pick", "site": "forehead", "depth": "deep"},
    ],
}


def replace(obj: Any, **changes: Any) -> Any:
    """A changed copy of a plan object: the parts are NamedTuples, the whole a frozen dataclass."""
    return obj._replace(**changes) if hasattr(obj, "_replace") else dataclasses.replace(obj, **changes)
