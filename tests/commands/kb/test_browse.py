"""kb list and kb show: finding rules and reading one."""

from __future__ import annotations


def test_list_and_show(run_cli):
    run = run_cli("kb", "list", "--treatment", "tca_cross")
    assert run.code == 0 and "ice-pick/tca-cross" in run.out and "rolling/subcision" not in run.out
    assert run_cli("kb", "list", "--treatment", "tca_cros").code == 2
    run = run_cli("kb", "list", "--where", "scar.type=keloid")
    assert "profile/raised-keloid" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-cross")
    assert run.code == 0
    assert "defined at  kb/rules/30-procedures.yaml:" in run.out
    assert "fed by      profile/deep-narrow" in run.out
    run = run_cli("kb", "show", "ice-pick/tca-crss")
    assert run.code == 2 and "did you mean 'ice-pick/tca-cross'" in run.err
