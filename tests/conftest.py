"""Shared fixtures: the bundled knowledge base (loaded once), small throw-away
knowledge bases for testing the engine without the real one, and a way to run
the command line in-process and see its exit status and both output streams."""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from cicatrix.cli import main
from cicatrix.engine.compile.compiler import compile_kb
from cicatrix.engine.knowledge.loader import load
from cicatrix.engine.session.session import Session

# Tests must not write into the user's real cache of compiled knowledge bases.
os.environ.setdefault("CICATRIX_CACHE", tempfile.mkdtemp(prefix="cicatrix-test-cache-"))

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def kb():
    return load()


@pytest.fixture(scope="session")
def session(kb):
    return Session(compile_kb(kb))


@pytest.fixture(scope="session")
def traces(tmp_path_factory):
    """A trace and the JSON plan of every example, written through the command line."""
    from cicatrix.engine.explain.tracefile import read

    from .helpers import ALL_EXAMPLES

    folder = tmp_path_factory.mktemp("traces")
    out = {}
    for path in ALL_EXAMPLES:
        target = folder / (path.stem + ".json")
        with pytest.raises(SystemExit) as info:
            main(["consult", str(path), "--format", "json", "--trace", str(target), "-o", str(folder / "plan.json")])
        assert info.value.code == 0
        out[path.name] = (read(target), json.loads((folder / "plan.json").read_text()))
    return out


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    def run(*args: str) -> Run:
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


# One valid rule over the test templates; tests break it in one way each.
ONE_RULE = """\
- id: ok
  title: ok
  when: [{scar: {type: ice_pick}}]
  then:
    - recommend: alpha
      explain: fine
  sources: [src.txt]
"""

MANIFEST = """\
name: test-kb
version: "1"
disclaimer: Decision support only; a dermatologist decides.
sources:
  src.txt: {title: A source, confidence: medium}
"""

TEMPLATES = """\
templates:
  patient:
    input: {key: patient}
    fields:
      age: {type: integer, minimum: 0, maximum: 120, nullable: true, default: null}
      level: {type: integer, minimum: 1, maximum: 6, default: 3}
      pregnant: {type: boolean, default: false}
      tolerance: {type: number, minimum: 0, default: 7}
      conditions: {type: list, allowed: [eczema, rosacea], default: []}
  scar:
    input: {key: scars, many: true, min_items: 1}
    fields:
      type: {type: string, allowed: [ice_pick, boxcar, rolling], required: true,
             labels: {ice_pick: ice pick}}
      site: {type: string, allowed: [cheeks, forehead], nullable: true, default: null}
      depth: {type: string, allowed: [shallow, deep], default: shallow}
  finding:
    fields:
      kind: {type: string, allowed: [deep, shallow], required: true}
      site: {type: string, allowed: [cheeks, forehead], nullable: true, default: null}
"""

TREATMENTS = """\
treatments:
  alpha:
    title: Alpha
    kind: procedure
    summary: First test procedure.
    downtime: {min: 1, max: 3}
    tags: [elective]
    sources: [src.txt]
  beta:
    title: Beta
    kind: procedure
    summary: Second test procedure.
    downtime: {min: 5, max: 7}
    tags: [elective]
    sources: [src.txt]
  gamma:
    title: Gamma
    kind: home_care
    summary: A cream.
    downtime: {min: 0, max: 0}
    routine: {evening: true, nights_per_week: 3, not_same_night_as: [delta]}
    sources: [src.txt]
  delta:
    title: Delta
    kind: home_care
    summary: An acid.
    downtime: {min: 0, max: 0}
    routine: {evening: true, nights_per_week: 2}
    sources: [src.txt]
  never:
    title: Never
    kind: unsafe
    summary: Never put this on skin.
    downtime: {min: 0, max: 0}
    sources: [src.txt]
"""


@pytest.fixture
def make_kb(tmp_path):
    """Write a small knowledge base whose rules are the given YAML; return its folder."""

    def make(
        rules: str,
        *,
        templates: str = TEMPLATES,
        treatments: str = TREATMENTS,
        manifest: str = MANIFEST,
        name: str = "kb",
    ) -> Path:
        root = tmp_path / name
        (root / "rules").mkdir(parents=True)
        (root / "kb.yaml").write_text(manifest)
        (root / "templates.yaml").write_text(templates)
        (root / "treatments.yaml").write_text(treatments)
        (root / "rules" / "rules.yaml").write_text(textwrap.dedent(rules))
        return root

    return make
