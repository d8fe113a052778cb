"""kb treatment: one catalogue entry in full, every id when none is given, and a
suggestion for a mistyped id."""

from __future__ import annotations

from ...conftest import ONE_RULE, TREATMENTS

ENTRY = """\
  omega:
    title: Omega
    kind: procedure
    summary: A fully described test procedure.
    best_for: [deep scars, narrow scars]
    poor_fit: [wide scars]
    how_it_works: It works.
    sessions: 3 sessions
    interval: a month apart
    downtime: {min: 2.5, max: 7}
    results: Smoother in months.
    effectiveness: Good.
    risks: [redness]
    cautions: [sun, picking]
    cost: medium
    evidence: high
    tags: [elective, deep]
    sources: [src.txt]
"""


def test_a_known_id_prints_its_entry(run_cli):
    run = run_cli("kb", "treatment", "tca_cross")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "tca_cross: TCA CROSS"
    assert "  kind          procedure" in lines
    assert "  downtime      1-7 days" in lines
    assert "  cost          low" in lines and "  evidence      medium" in lines
    sources = next(line for line in lines if line.startswith("  sources"))
    assert "000_9f831d32b1b93e3e.txt#tca-cross" in sources and "clinical-facts.md#T01 (medium)" in sources
    assert any(line.startswith("  defined at    kb/treatments.yaml:") for line in lines)
    assert run.err == ""


def test_every_field_of_an_entry(make_kb, run_cli):
    root = make_kb(ONE_RULE, treatments=TREATMENTS + ENTRY)
    run = run_cli("kb", "treatment", "omega", "--kb", str(root))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[:-1] == [
        "omega: Omega",
        "  kind          procedure",
        "  summary       A fully described test procedure.",
        "  best for      - deep scars",
        "                - narrow scars",
        "  poor fit      - wide scars",
        "  how it works  It works.",
        "  sessions      3 sessions a month apart",
        "  downtime      2.5-7 days",  # whole days without a decimal point
        "  results       Smoother in months.",
        "  effectiveness Good.",
        "  risks         - redness",
        "  cautions      - sun",
        "                - picking",
        "  cost          medium",
        "  evidence      high",
        "  tags          elective, deep",
        "  sources       src.txt",
    ]
    assert lines[-1].startswith("  defined at    kb/treatments.yaml:")


def test_empty_fields_are_left_out(make_kb, run_cli):
    run = run_cli("kb", "treatment", "gamma", "--kb", str(make_kb(ONE_RULE)))
    assert run.code == 0
    labels = [line.split()[0] for line in run.out.splitlines()[1:]]
    assert labels == ["kind", "summary", "downtime", "cost", "evidence", "sources", "defined"]
    # cost and evidence have catalogue defaults
    assert "  cost          none" in run.out.splitlines()
    assert "  evidence      medium" in run.out.splitlines()
    assert "  downtime      0-0 days" in run.out.splitlines()


def test_without_an_id_every_treatment_is_listed(make_kb, run_cli):
    run = run_cli("kb", "treatment", "--kb", str(make_kb(ONE_RULE)))
    assert run.code == 0
    assert [line.split()[:2] for line in run.out.splitlines()] == [
        ["alpha", "procedure"],
        ["beta", "procedure"],
        ["gamma", "home_care"],
        ["delta", "home_care"],
        ["never", "unsafe"],
    ]
    assert run.out.splitlines()[0].endswith(" Alpha")


def test_an_unknown_id_exits_2_with_a_suggestion(run_cli):
    run = run_cli("kb", "treatment", "tca_crss")
    assert run.code == 2
    assert run.out == ""
    assert "unknown treatment id 'tca_crss'; did you mean 'tca_cross'?" in run.err
    assert "Traceback" not in run.err
    run = run_cli("kb", "treatment", "zzzzzz")
    assert run.code == 2 and "unknown treatment id 'zzzzzz'" in run.err and "did you mean" not in run.err


def test_help(run_cli):
    run = run_cli("kb", "treatment", "--help")
    assert run.code == 0
    assert "Usage:" in run.out and "kb treatment [OPTIONS] ID" in run.out
    assert "Everything the catalogue says about treatment ID" in run.out
    assert "--kb" in run.out
