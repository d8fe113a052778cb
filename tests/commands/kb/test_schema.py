"""kb schema: the JSON Schemas editors use, printed and committed alike."""

from __future__ import annotations

import json

from cicatrix.engine.knowledge import schemas

from ...conftest import REPO


def test_schema_command_and_committed_schemas_agree(run_cli):
    run = run_cli("kb", "schema", "rules")
    assert run.code == 0
    assert json.loads(run.out) == schemas.RULES
    for kind in ("kb", "templates", "treatments", "rules", "tests", "questions", "patient"):
        committed = json.loads((REPO / "docs" / "schemas" / f"{kind}.json").read_text())
        printed = json.loads(run_cli("kb", "schema", kind).out)
        assert committed == printed, f"docs/schemas/{kind}.json is stale: run `cicatrix kb schema --write docs/schemas`"


def test_bundled_files_point_editors_at_their_schema():
    for path in sorted((REPO / "kb").rglob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: {target}"
