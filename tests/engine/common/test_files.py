"""The one atomic writer: a target is replaced whole or not at all, and no temporary
file is ever left behind, whatever goes wrong and wherever it goes wrong."""

from __future__ import annotations

import ast
import errno
import pickle

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.common.files import atomic_output, write_atomically
from cicatrix.engine.knowledge import cache

from ...conftest import REPO


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_text_and_bytes_and_replaces_a_whole_file(tmp_path):
    target = tmp_path / "plan.txt"
    write_atomically(target, "first é\n")
    assert target.read_bytes() == "first é\n".encode()
    write_atomically(target, b"\x00second")
    assert target.read_bytes() == b"\x00second"
    write_atomically(str(target), "third")  # a str path works too
    assert target.read_text() == "third"
    assert names(tmp_path) == ["plan.txt"]


def test_readers_see_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("old")
    with atomic_output(target) as handle:
        handle.write("new, part one")
        handle.flush()
        assert target.read_text() == "old"
        handle.write(", part two")
    assert target.read_text() == "new, part one, part two"
    assert names(tmp_path) == ["plan.txt"]


@pytest.mark.parametrize("error", [RuntimeError("bug"), KeyboardInterrupt(), OSError(errno.ENOSPC, "disk full")])
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new"])
def test_a_failure_half_way_keeps_the_target_and_leaves_no_temporary_file(tmp_path, error, existing):
    target = tmp_path / "plan.txt"
    if existing:
        target.write_text("old")
    with pytest.raises(type(error)), atomic_output(target) as handle:
        handle.write("half of the new")
        handle.flush()
        raise error
    assert names(tmp_path) == (["plan.txt"] if existing else [])
    if existing:
        assert target.read_text() == "old"


def test_text_that_cannot_be_encoded_fails_before_touching_the_target(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "fine so far " * 1000 + "\udcff")
    assert target.read_text() == "old" and names(tmp_path) == ["plan.txt"]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a folder cannot be replaced by a file
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomically(target, "text")
    assert names(tmp_path) == ["taken"] and (target / "inside").read_text() == "kept"


def test_a_missing_folder_is_bad_input_and_creates_nothing(tmp_path):
    target = tmp_path / "nowhere" / "plan.txt"
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "text")
    assert caught.value.render() == f"{target}: the folder {str(tmp_path / 'nowhere')!r} does not exist"
    assert names(tmp_path) == []


def test_a_bare_file_name_writes_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_atomically("plan.txt", "here")
    assert (tmp_path / "plan.txt").read_text() == "here" and names(tmp_path) == ["plan.txt"]


def test_only_new_files_are_written(tmp_path):
    with pytest.raises(ValueError), atomic_output(tmp_path / "f", "a"):
        pass
    assert names(tmp_path) == []


# --- its users ------------------------------------------------------------------------


def test_the_cache_store_is_best_effort_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    kb_like = {"any": "picklable object"}
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cache._store(blocked / "kb-x.pickle", kb_like)  # cannot create the folder: no error
    assert blocked.read_text() == "not a folder"

    folder = tmp_path / "cache"
    good = folder / "kb-x.pickle"
    cache._store(good, kb_like)
    assert pickle.loads(good.read_bytes()) == kb_like and names(folder) == ["kb-x.pickle"]

    def full_disk(obj, handle, protocol):
        handle.write(b"partial pickle")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.pickle, "dump", full_disk)
    cache._store(good, {"other": 1})  # swallowed
    cache._store(folder / "kb-y.pickle", {"other": 1})
    assert pickle.loads(good.read_bytes()) == kb_like and names(folder) == ["kb-x.pickle"]


def test_no_other_module_writes_files_its_own_way():
    """One writer: a later change to how files are written is a change to one module."""
    writer = REPO / "engine" / "common" / "files.py"
    own_way = {"os.replace", "os.rename", "tempfile.mkstemp", "tempfile.NamedTemporaryFile", "shutil.move"}
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node.func)}"
        for folder in ("engine", "commands", "render")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path != writer
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and ast.unparse(node.func) in own_way
    ]
    assert offenders == []
