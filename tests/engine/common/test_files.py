"""The one atomic writer: a target is replaced whole or not at all, and no temporary
file is ever left behind, whatever goes wrong and wherever it goes wrong. What an
output path means: a link is written through, a device or a FIFO directly, ``-``
is standard output; modes follow the umask or stay as they were; and every failure
to write is bad input naming the file."""

from __future__ import annotations

import ast
import contextlib
import errno
import os
import pickle
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from cicatrix.engine.common import files
from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.common.files import atomic_output, write_atomically
from cicatrix.engine.knowledge import cache

from ...conftest import REPO

KEY = b"k" * 32  # a cache key, for the cache's own writer


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


def test_a_folder_is_not_replaced_and_no_temporary_file_is_left(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a folder cannot be replaced by a file
    (target / "inside").write_text("kept")
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "text")
    assert caught.value.render() == f"{target}: cannot write: it is a folder"
    assert names(tmp_path) == ["taken"] and (target / "inside").read_text() == "kept"


def test_a_failed_rename_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "plan.txt"
    target.write_text("old")

    def busy(src, dst):
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(files.os, "replace", busy)
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "new")
    assert caught.value.render() == f"{target}: cannot write: it is busy"
    assert names(tmp_path) == ["plan.txt"] and target.read_text() == "old"


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


# --- what an output path means --------------------------------------------------------


ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _permissions_ignored() -> bool:
    """Whether this process writes into a read-only folder anyway (root, with CAP_DAC_OVERRIDE)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o500)
        try:
            os.close(os.open(os.path.join(folder, "probe"), os.O_CREAT | os.O_WRONLY, 0o600))
        except PermissionError:
            return False
        else:
            return True
        finally:
            os.chmod(folder, 0o700)


PERMISSIONS_IGNORED = _permissions_ignored()


def char_device(path: Path, major: int, minor: int) -> Path:
    """A character device node at ``path`` (1,3 is the null device, 1,7 the full one), or skip."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root (CAP_MKNOD)")
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"device nodes cannot be opened in {path.parent} ({exc.strerror}): a nodev mount?")
    return path


@pytest.fixture
def umask():
    """Set the umask for a test; the old one is put back after."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs mounted inside tmp_path (root only), unmounted after; else skip."""
    if not ROOT or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    point = tmp_path / "small"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(point)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=False)


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real" / "plan.txt"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(target)
    chain = tmp_path / "chain"
    chain.symlink_to("link")  # relative, and to another link
    write_atomically(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target) and target.read_text() == "new"
    write_atomically(chain, "newer")
    assert chain.is_symlink() and os.readlink(chain) == "link" and link.is_symlink()
    assert target.read_text() == "newer"
    assert names(tmp_path) == ["chain", "link", "real"] and names(target.parent) == ["plan.txt"]


def test_a_dangling_link_creates_its_target(tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "link"
    link.symlink_to(Path("out") / "plan.txt")
    write_atomically(link, "new")
    assert link.is_symlink() and (tmp_path / "out" / "plan.txt").read_text() == "new"
    assert names(tmp_path / "out") == ["plan.txt"]


def test_a_link_into_a_missing_folder_names_the_link_and_its_target(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere" / "plan.txt")
    with pytest.raises(CicatrixError) as caught:
        write_atomically(link, "new")
    target = tmp_path / "nowhere" / "plan.txt"
    folder = str(tmp_path / "nowhere")
    assert caught.value.render() == f"{link} (a link to {target}): the folder {folder!r} does not exist"
    assert names(tmp_path) == ["link"] and link.is_symlink()


def test_a_loop_of_links_is_bad_input(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(CicatrixError) as caught:
        write_atomically(tmp_path / "a", "x")
    assert caught.value.render() == f"{tmp_path / 'a'}: cannot write: too many symbolic links (a loop?)"
    assert names(tmp_path) == ["a", "b"]


def test_a_fifo_is_written_directly_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    text = "through the pipe\n" * 10_000  # more than a pipe holds at once
    write_atomically(fifo, text)
    reader.join(10)
    assert got == [text.encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and names(tmp_path) == ["fifo"]


def test_a_fifo_whose_reader_goes_away_is_bad_input(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: os.close(os.open(fifo, os.O_RDONLY)), daemon=True)
    reader.start()
    with pytest.raises(CicatrixError) as caught:
        write_atomically(fifo, "x" * 1_000_000)  # more than a pipe holds: the reader is gone before the end
    reader.join(10)
    assert caught.value.render() == f"{fifo}: cannot write: nothing reads from it any more (broken pipe)"
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and names(tmp_path) == ["fifo"]


def test_a_device_is_written_directly_and_stays_a_device(tmp_path):
    null = char_device(tmp_path / "null", 1, 3)
    write_atomically(null, "gone\n")
    with atomic_output(null, "wb") as handle:
        handle.write(b"x" * 100_000)
    with pytest.raises(RuntimeError), atomic_output(null) as handle:  # an error half-way removes nothing
        handle.write("half")
        raise RuntimeError("bug")
    assert stat.S_ISCHR(null.lstat().st_mode) and null.lstat().st_rdev == os.makedev(1, 3)
    assert names(tmp_path) == ["null"]


def test_a_full_device_is_a_located_error_and_stays_a_device(tmp_path):
    full = char_device(tmp_path / "full", 1, 7)
    with pytest.raises(CicatrixError) as caught:
        write_atomically(full, "x")
    assert caught.value.render() == f"{full}: cannot write: no space left on the disk"
    assert stat.S_ISCHR(full.lstat().st_mode) and names(tmp_path) == ["full"]


def test_a_socket_is_bad_input(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(CicatrixError) as caught:
            write_atomically(path, "x")
    assert caught.value.render() == f"{path}: cannot write: it is a socket, not a file"
    assert stat.S_ISSOCK(path.lstat().st_mode)


def test_dash_is_standard_output_and_creates_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_atomically("-", "plan\n")
    write_atomically(Path("-"), b"bytes\n")
    with atomic_output("-") as handle:
        handle.write("more\n")
    assert capsys.readouterr().out == "plan\nbytes\nmore\n"
    assert names(tmp_path) == []
    write_atomically("./-", "a file")  # the way to name a file "-"
    assert (tmp_path / "-").read_text() == "a file" and capsys.readouterr().out == ""


def test_a_path_to_an_open_descriptor_writes_that_descriptor(tmp_path, capsys):
    """``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``, and links to them: no file is replaced."""
    read_end, write_end = os.pipe()
    link = tmp_path / "to-the-pipe"
    link.symlink_to(f"/dev/fd/{write_end}")
    try:
        write_atomically(link, "through a link, ")
        write_atomically(f"/proc/self/fd/{write_end}", b"and directly")
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            assert pipe.read() == b"through a link, and directly"
    finally:
        with contextlib.suppress(OSError):
            os.close(write_end)
    (tmp_path / "to-stdout").symlink_to("/proc/self/fd/1")
    write_atomically(tmp_path / "to-stdout", "standard output, as -\n")
    assert capsys.readouterr().out == "standard output, as -\n"
    with pytest.raises(CicatrixError) as caught:
        write_atomically(f"/dev/fd/{write_end}", "x")  # closed now
    assert caught.value.render() == f"/dev/fd/{write_end}: cannot write: it is closed"
    assert names(tmp_path) == ["to-stdout", "to-the-pipe"] and link.is_symlink()


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask, mask):
    umask(mask)
    target = tmp_path / "new.txt"
    write_atomically(target, "x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664, 0o755])
def test_an_existing_file_keeps_its_mode(tmp_path, umask, mode):
    umask(0o022)
    target = tmp_path / "plan.txt"
    target.write_text("old")
    target.chmod(mode)
    write_atomically(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == mode and target.read_text() == "new"


@pytest.mark.skipif(not ROOT, reason="only root may give a file to another user")
def test_root_keeps_an_existing_files_owner(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("old")
    os.chown(target, 65534, 65534)
    target.chmod(0o640)
    write_atomically(target, "new")
    found = target.stat()
    assert (found.st_uid, found.st_gid, stat.S_IMODE(found.st_mode)) == (65534, 65534, 0o640)
    assert target.read_text() == "new"


def test_the_umask_is_read_without_proc_too(monkeypatch, umask):
    umask(0o027)
    assert files._umask() == 0o027

    def no_proc(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(files, "open", no_proc, raising=False)
    assert files._umask() == 0o027
    assert os.umask(0o027) == 0o027  # and it was put back


@pytest.mark.skipif(PERMISSIONS_IGNORED, reason="running as root, which writes into a read-only folder")
def test_a_read_only_folder_is_bad_input(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "plan.txt"
    target.write_text("old")
    folder.chmod(0o500)
    try:
        for path in (target, folder / "new.txt"):
            with pytest.raises(CicatrixError) as caught:
                write_atomically(path, "new")
            assert caught.value.render() == f"{path}: cannot write: permission denied"
        assert names(folder) == ["plan.txt"] and target.read_text() == "old"
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(PERMISSIONS_IGNORED, reason="running as root, which writes a read-only file")
def test_a_read_only_file_is_not_replaced(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "new")
    assert caught.value.render() == f"{target}: cannot write: the file is read-only (permission denied)"
    assert target.read_text() == "old" and names(tmp_path) == ["plan.txt"]


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "the file system is read-only"),
        (errno.ENOSPC, "no space left on the disk"),
        (errno.EDQUOT, "the disk quota is used up"),
        (errno.EINVAL, "invalid argument"),  # no words of its own: the system's, in lower case
    ],
)
def test_a_temporary_file_that_cannot_be_created_is_bad_input(tmp_path, monkeypatch, code, words):
    target = tmp_path / "plan.txt"
    target.write_text("old")

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # files imports it where it writes
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "new")
    assert caught.value.render() == f"{target}: cannot write: {words}"
    assert target.read_text() == "old" and names(tmp_path) == ["plan.txt"]


def test_an_empty_path_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CicatrixError) as caught:
        write_atomically("", "x")
    assert caught.value.render() == "cannot write to an empty path: give a file name, or - for standard output"
    assert names(tmp_path) == []


def test_a_path_through_a_file_is_bad_input(tmp_path):
    (tmp_path / "file").write_text("kept")
    for target in (tmp_path / "file" / "plan.txt", tmp_path / "file" / "deeper" / "plan.txt"):
        with pytest.raises(CicatrixError) as caught:
            write_atomically(target, "x")
        assert caught.value.render() == f"{target}: cannot write: a part of the path is not a folder"
    assert names(tmp_path) == ["file"] and (tmp_path / "file").read_text() == "kept"


@pytest.mark.parametrize("size", [10, 100_000], ids=["at-the-last-flush", "part-way"])
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new"])
def test_a_full_disk_is_bad_input_and_leaves_the_target_as_it_was(tmp_path, monkeypatch, size, existing):
    target = tmp_path / "plan.txt"
    if existing:
        target.write_text("old")
    real_write = os.write
    room = [size // 2]  # what fits: half, in short writes, then the disk is full

    def filling(fd, data):
        if fd <= 2:  # the test's own output
            return real_write(fd, data)
        if room[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        done = real_write(fd, bytes(data[: min(room[0], 1000)]))
        room[0] -= done
        return done

    monkeypatch.setattr(files.os, "write", filling)
    with pytest.raises(CicatrixError) as caught:
        write_atomically(target, "x" * size)
    monkeypatch.undo()
    assert caught.value.render() == f"{target}: cannot write: no space left on the disk"
    assert names(tmp_path) == (["plan.txt"] if existing else [])
    if existing:
        assert target.read_text() == "old"


def test_a_real_full_disk_leaves_nothing_half_written(small_disk):
    target = small_disk / "plan.txt"
    target.write_text("old")
    for path in (target, small_disk / "new.txt"):
        with pytest.raises(CicatrixError) as caught:
            write_atomically(path, "x" * 200_000)
        assert caught.value.render() == f"{path}: cannot write: no space left on the disk"
    assert names(small_disk) == ["plan.txt"] and target.read_text() == "old"


def test_ensure_folder_creates_folders_and_names_what_stops_it(tmp_path):
    files.ensure_folder(tmp_path / "a" / "b")
    files.ensure_folder(tmp_path / "a" / "b")  # already there: fine
    assert (tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("kept")
    with pytest.raises(CicatrixError) as caught:
        files.ensure_folder(tmp_path / "file")
    assert caught.value.render() == f"{tmp_path / 'file'}: cannot write: it is not a folder"
    with pytest.raises(CicatrixError) as caught:
        files.ensure_folder(tmp_path / "file" / "sub")
    assert caught.value.render() == f"{tmp_path / 'file' / 'sub'}: cannot write: a part of the path is not a folder"
    with pytest.raises(CicatrixError):
        files.ensure_folder("")


# --- standard output ----------------------------------------------------------------


@pytest.fixture
def process_stdout(monkeypatch):
    """Make a stream the process's own standard output, as it is outside pytest."""

    def use(stream):
        monkeypatch.setattr(sys, "stdout", stream)
        monkeypatch.setattr(sys, "__stdout__", stream)

    return use


def test_guarded_stdout_writes_through_and_puts_stdout_back(tmp_path, process_stdout):
    with open(tmp_path / "out", "w", encoding="utf-8") as out:
        process_stdout(out)
        with files.guarded_stdout():
            assert sys.stdout is not out
            print("hello é")
            sys.stdout.write("unflushed")
        assert sys.stdout is out
    assert (tmp_path / "out").read_text(encoding="utf-8") == "hello é\nunflushed"


def test_guarded_stdout_leaves_a_replaced_stdout_alone(capsys):
    before = sys.stdout
    with files.guarded_stdout():
        assert sys.stdout is before
        print("captured")
    assert capsys.readouterr().out == "captured\n"


@pytest.mark.parametrize("flush", [True, False], ids=["flushed", "at-the-end"])
def test_a_full_stdout_is_bad_input(tmp_path, process_stdout, flush):
    full = char_device(tmp_path / "full", 1, 7)
    with open(full, "w") as out:
        process_stdout(out)
        with pytest.raises(CicatrixError) as caught, files.guarded_stdout():
            print("plan")
            if flush:
                sys.stdout.flush()
        assert sys.stdout is out
    assert caught.value.render() == "standard output: cannot write: no space left on the disk"


def test_a_closed_stdout_is_bad_input(process_stdout):
    process_stdout(None)
    with files.guarded_stdout():  # nothing written: nothing wrong
        pass
    with pytest.raises(CicatrixError) as caught, files.guarded_stdout():
        print("plan")
    assert caught.value.render() == "standard output: cannot write: it is closed"
    assert sys.stdout is None
    with pytest.raises(CicatrixError):
        write_atomically("-", "plan")


def test_a_reader_that_went_away_is_stdout_gone(process_stdout):
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as out:
        process_stdout(out)
        with pytest.raises(files.StdoutGone), files.guarded_stdout():
            print("plan")


# --- its users ------------------------------------------------------------------------


def test_the_cache_store_is_best_effort_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    kb_like = {"any": "picklable object"}
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    cache._store(blocked / "kb-x.pickle", KEY, kb_like)  # cannot create the folder: no error
    assert blocked.read_text() == "not a folder"

    folder = tmp_path / "cache"
    good = folder / "kb-x.pickle"
    folder.mkdir()
    cache._store(good, KEY, kb_like)
    assert good.read_bytes().endswith(pickle.dumps(kb_like, protocol=pickle.HIGHEST_PROTOCOL))
    assert names(folder) == ["kb-x.pickle"]
    stored = good.read_bytes()

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full_disk)
    cache._store(good, KEY, {"other": 1})  # swallowed
    cache._store(folder / "kb-y.pickle", KEY, {"other": 1})
    assert good.read_bytes() == stored and names(folder) == ["kb-x.pickle"]


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
