"""The examples that come with the package: declared in pyproject.toml, found at run
time the way the installed package finds them, listed, copied out, and consulted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cicatrix.commands import examples

from ..conftest import EXAMPLES, REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def test_pyproject_installs_the_examples():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"]["cicatrix"] == "."
    assert "cicatrix.examples" in config["packages"]
    patterns = config["package-data"]["cicatrix.examples"]
    declared = {p.name for pattern in patterns for p in EXAMPLES.glob(pattern)}
    assert declared == {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")}


def test_runtime_lookup_finds_every_example_next_to_the_package():
    # installed, the package is cicatrix/ with commands/, kb/ and examples/ side by side
    from cicatrix.engine.knowledge.files import BUNDLED_KB

    looked_up = examples.EXAMPLES
    assert looked_up == BUNDLED_KB.parent / "examples"
    assert looked_up == Path(examples.__file__).resolve().parent.parent / "examples"
    assert looked_up.resolve() == EXAMPLES.resolve()
    found = examples.available()
    assert "mixed-facial-scars" in found and "sensitive-low-downtime" in found
    assert {p.name for p in found.values()} == {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")}


def test_list_names_each_example_with_its_leading_comment(run_cli):
    run = run_cli("examples")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert len(lines) == len(examples.available())
    mixed = next(line for line in lines if line.startswith("mixed-facial-scars.yaml "))
    assert mixed.split(None, 1)[1] == (
        "Mixed facial scars: deep ice pick scars on the cheeks among rolling and boxcar scars."
    )
    assert "yaml-language-server" not in run.out
    back = next(line for line in lines if line.startswith("back-scars.yaml "))
    assert "upper\nback" not in back and back.endswith("acne now controlled.")  # a two-line comment, one line
    assert next(line for line in lines if line.startswith("sensitive-low-downtime.json ")).endswith("scars.")
    assert "cicatrix consult --example NAME" in run.err


def test_copy_writes_the_example_into_a_folder(run_cli, tmp_path):
    run = run_cli("examples", "--copy", "pregnant", str(tmp_path))
    assert run.code == 0, run.err
    assert (tmp_path / "pregnant.yaml").read_bytes() == (EXAMPLES / "pregnant.yaml").read_bytes()
    assert str(tmp_path / "pregnant.yaml") in run.err


def test_copy_defaults_to_the_current_folder_and_accepts_the_extension(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_cli("examples", "--copy", "sensitive-low-downtime.json")
    assert run.code == 0, run.err
    assert json.loads((tmp_path / "sensitive-low-downtime.json").read_text())["scars"]


def test_copy_refuses_to_overwrite(run_cli, tmp_path):
    target = tmp_path / "pregnant.yaml"
    target.write_text("mine")
    run = run_cli("examples", "--copy", "pregnant", str(tmp_path))
    assert run.code == 2
    assert str(target) in run.err and "already exists" in run.err
    assert target.read_text() == "mine"


def test_copy_into_a_missing_folder_is_bad_input(run_cli, tmp_path):
    run = run_cli("examples", "--copy", "pregnant", str(tmp_path / "nowhere"))
    assert run.code == 2 and "no such folder" in run.err


def test_copy_of_an_unknown_example_suggests_a_name(run_cli, tmp_path):
    run = run_cli("examples", "--copy", "pregnnt", str(tmp_path))
    assert run.code == 2
    assert "did you mean 'pregnant'?" in run.err and "mixed-facial-scars" in run.err
    assert not list(tmp_path.iterdir())


def test_dir_without_copy_is_a_usage_error(run_cli, tmp_path):
    run = run_cli("examples", str(tmp_path))
    assert run.code == 2 and "--copy" in run.err


def test_top_level_help_starts_with_a_bundled_example(run_cli):
    run = run_cli("--help")
    assert "cicatrix consult --example mixed-facial-scars" in run.out
    assert "examples/mixed-facial-scars.yaml" not in run.out
    assert "examples " in run.out  # the command is listed
