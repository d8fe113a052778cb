"""The command line as a whole: version, help and argument errors."""

from __future__ import annotations

from .conftest import EXAMPLES


def test_version_and_help(run_cli):
    run = run_cli("--version")
    assert run.code == 0 and run.out.startswith("cicatrix ")
    for args in (["--help"], ["consult", "--help"]):
        run = run_cli(*args)
        assert run.code == 0 and "Usage:" in run.out
    assert "dermatologist decides" in run_cli("--help").out


def test_bad_arguments_exit_2(run_cli):
    run = run_cli("consult", str(EXAMPLES / "pregnant.yaml"), "--format", "xml")
    assert run.code == 2
    assert "'xml' is not one of 'text', 'json'" in run.err
    assert run_cli("consult").code == 2
    assert run_cli("no-such-command").code == 2
