"""kb init: a copy of the bundled knowledge base of one's own, renamed, with its schemas."""

from __future__ import annotations

import json


def test_init_writes_a_renamed_copy_that_validates_and_consults(run_cli, tmp_path):
    target = tmp_path / "clinic-kb"
    run = run_cli("kb", "init", str(target))
    assert run.code == 0 and "knowledge base 'clinic-kb'" in run.out
    assert "name: clinic-kb" in (target / "kb.yaml").read_text(encoding="utf-8")
    # every schema header points at a schema that exists, relative to the file
    for path in target.rglob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        schema = (path.parent / first.split("=", 1)[1]).resolve()
        assert schema.is_file() and json.loads(schema.read_text(encoding="utf-8"))["$schema"], path
    run = run_cli("kb", "validate", "--kb", str(target))
    assert run.code == 0 and run.out.startswith(f"ok: {target}") and "warning" not in run.err
    plan = json.loads(run_cli("consult", "--example", "pregnant", "--kb", str(target), "--format", "json").out)
    assert plan["kb"]["name"] == "clinic-kb"


def test_init_refuses_a_folder_that_holds_something(run_cli, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine", encoding="utf-8")
    run = run_cli("kb", "init", str(tmp_path / "taken"))
    assert run.code == 2 and "already exists and is not an empty folder" in run.err
    assert (tmp_path / "taken" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert run_cli("kb", "init", str(tmp_path / "x"), "--name", "bad name").code == 2


def test_validate_warns_when_a_copy_keeps_the_bundled_name(run_cli, tmp_path):
    import shutil

    from ...conftest import REPO

    copy = tmp_path / "copy"
    shutil.copytree(REPO / "kb", copy)
    run = run_cli("kb", "validate", "--kb", str(copy))
    assert run.code == 0 and "keeps the bundled name 'cicatrix-acne-scars'" in run.err
    assert "warning" not in run_cli("kb", "validate").err  # the bundled one itself is fine


def test_the_readme_minimal_catalogue_entry_validates(run_cli, tmp_path):
    from ...conftest import REPO

    target = tmp_path / "kb"
    assert run_cli("kb", "init", str(target)).code == 0
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    entry = readme[readme.index("  vitamin_c:") :].split("```", 1)[0].rstrip()
    catalogue = target / "treatments.yaml"
    text = catalogue.read_text(encoding="utf-8")
    catalogue.write_text(text.replace("\n  lemon_juice:", f"\n{entry}\n\n  lemon_juice:", 1), encoding="utf-8")
    before = len(__import__("yaml").safe_load(text)["treatments"])
    run = run_cli("kb", "validate", "--kb", str(target))
    assert run.code == 0 and f"{before + 1} treatments" in run.out
