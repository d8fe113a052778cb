"""``cicatrix history`` over stores written by ``consult --store``: the plan shown is
byte for byte the one consult printed (JSON, text, markdown), the trace written back
is the one ``--trace`` wrote and ``trace how`` reads it, the list and its filters,
JSON lines exported, ``CICATRIX_STORE``, and every bad input a located message with
exit status 2."""

from __future__ import annotations

import json
import sqlite3

import pytest

from cicatrix.store import schema

from ..conftest import EXAMPLES, MANIFEST, ONE_RULE, TEMPLATES, TREATMENTS

MIXED = str(EXAMPLES / "mixed-facial-scars.yaml")
PREGNANT = str(EXAMPLES / "pregnant.yaml")


def failed_cleanly(run, *located: str) -> None:
    assert run.code == 2, run.err
    for message in located:
        assert message in run.err, run.err
    assert "Traceback" not in run.err and "internal error" not in run.err


@pytest.fixture
def recorded(tmp_path, run_cli):
    """A store with the mixed (record 1) and pregnant (record 2) examples, and what consult wrote for each."""
    store = tmp_path / "s.db"
    wrote = {}
    for n, example in enumerate((MIXED, PREGNANT), 1):
        plan, trace = tmp_path / f"plan-{n}.json", tmp_path / f"trace-{n}.json"
        run = run_cli(
            "consult", example, "--format", "json", "-o", str(plan), "--trace", str(trace), "--store", str(store)
        )
        assert run.code == 0, run.err
        wrote[n] = (plan.read_text(), trace.read_text())
    return store, wrote


def test_show_gives_back_the_plan_and_the_trace_consult_wrote(recorded, run_cli, tmp_path):
    store, wrote = recorded
    for n in (1, 2):
        run = run_cli("history", "show", str(n), "--store", str(store), "--format", "json")
        assert run.code == 0 and run.out == wrote[n][0]
    trace = tmp_path / "back.json"
    run = run_cli("history", "show", "1", "--store", str(store), "--format", "json", "-o", str(tmp_path / "p.json"),
                  "--trace", str(trace))  # fmt: skip
    assert run.code == 0 and trace.read_text() == wrote[1][1] and (tmp_path / "p.json").read_text() == wrote[1][0]
    how = run_cli("trace", "how", str(trace), "tca_cross")
    assert how.code == 0 and how.out == run_cli("trace", "how", str(tmp_path / "trace-1.json"), "tca_cross").out
    assert "TCA CROSS" in how.out


@pytest.mark.parametrize("options", [(), ("--all", "--width", "72"), ("--format", "markdown", "--explain")])
def test_show_as_text_or_markdown_is_what_consult_prints(recorded, run_cli, options):
    store, _ = recorded
    shown = run_cli("history", "show", "1", "--store", str(store), *options)
    assert shown.code == 0, shown.err
    assert shown.out == run_cli("consult", MIXED, *options).out


def test_text_needs_the_knowledge_base_that_made_the_plan(tmp_path, run_cli):
    kb = tmp_path / "kb"
    (kb / "rules").mkdir(parents=True)
    for name, text in (("kb.yaml", MANIFEST), ("templates.yaml", TEMPLATES), ("treatments.yaml", TREATMENTS)):
        (kb / name).write_text(text)
    (kb / "rules" / "rules.yaml").write_text(ONE_RULE)
    patient = tmp_path / "p.yaml"
    patient.write_text("scars: [{type: ice_pick}]\n")
    store = str(tmp_path / "s.db")
    made = run_cli("consult", str(patient), "--kb", str(kb), "--store", store)
    assert made.code == 0
    run = run_cli("history", "show", "1", "--store", store)
    failed_cleanly(run, f"{store}: record 1 was made with knowledge base test-kb 1 (digest ", "give it with --kb DIR")
    assert run.out == ""
    assert run_cli("history", "show", "1", "--store", store, "--kb", str(kb)).out == made.out
    assert run_cli("history", "show", "1", "--store", store, "--format", "json").code == 0


def test_history_lists_newest_first_with_filters(recorded, run_cli):
    store, wrote = recorded
    run = run_cli("history", "--store", str(store))
    assert run.code == 0 and run.out == run_cli("history", "list", "--store", str(store)).out
    head, second, *rest = run.out.splitlines()
    assert head.split()[:3] == ["ID", "RECORDED", "(UTC)"] and "CHOICES" in head
    assert second.lstrip().startswith("2 ") and "pregnant.yaml" in second
    assert any(line.lstrip().startswith("1 ") and "tca_cross" in line for line in rest)
    assert all(len(line) <= 88 for line in run.out.splitlines())
    digest = json.loads(wrote[1][0])["kb"]["digest"]
    listed = json.loads(run_cli("history", "--store", str(store), "--format", "json", "--kb-digest", digest[7:15]).out)
    assert listed["total"] == 2 and [r["id"] for r in listed["records"]] == [2, 1]
    assert listed["records"][1]["choices"] == ["tca_cross", "subcision", "rf_microneedling"]
    assert listed["records"][1]["kb"]["digest"] == digest and listed["records"][1]["recorded"].endswith("Z")
    one = run_cli("history", "--store", str(store), "--limit", "1", "--since", "1h")
    assert one.out.count("\n") == 3 and "1 of 2 records shown, newest first; --limit 0 shows them all." in one.out
    for option, value in (("--since", "2999-01-01"), ("--kb-digest", "sha256:0000"), ("--since", "2999-01-01T00:00Z")):
        run = run_cli("history", "--store", str(store), option, value)
        assert run.code == 0 and run.out == f"No records in {store} match.\n"


def test_an_empty_store_has_no_records_yet(tmp_path, run_cli):
    from cicatrix.store import open_store

    open_store(tmp_path / "s.db").close()
    run = run_cli("history", "--store", str(tmp_path / "s.db"))
    assert run.code == 0 and run.out == f"No records in {tmp_path / 's.db'} yet.\n"


def test_export_writes_json_lines_oldest_first(recorded, run_cli, tmp_path):
    store, wrote = recorded
    run = run_cli("history", "export", "--store", str(store))
    assert run.code == 0 and run.err == "2 record(s) exported to standard output\n"
    lines = [json.loads(line) for line in run.out.splitlines()]
    assert [r["id"] for r in lines] == [1, 2]
    first = lines[0]
    assert list(first) == ["id", "recorded", "source", "line", "cicatrix", "kb", "patient", "plan", "trace"]
    assert (first["source"], first["line"]) == (MIXED, None)
    assert first["plan"] == json.loads(wrote[1][0]) and first["trace"] == json.loads(wrote[1][1])
    assert first["patient"] == first["plan"]["patient"] and first["kb"] == first["plan"]["kb"]
    out = tmp_path / "out" / "export.jsonl"
    out.parent.mkdir()
    run = run_cli("history", "export", "--store", str(store), "--no-trace", "--limit", "1", "-o", str(out))
    assert run.code == 0 and run.err == f"1 record(s) exported to {out}\n"
    (only,) = (json.loads(line) for line in out.read_text().splitlines())
    assert only["id"] == 2 and "trace" not in only
    assert [p.name for p in out.parent.iterdir()] == ["export.jsonl"]  # written atomically: no temporary file left
    run = run_cli("history", "export", "--store", str(store), "-o", str(tmp_path / "missing" / "x.jsonl"))
    failed_cleanly(run, "x.jsonl: the folder")


def test_the_store_can_come_from_cicatrix_store_and_the_option_wins(tmp_path, run_cli, monkeypatch):
    env, option = tmp_path / "env.db", tmp_path / "option.db"
    monkeypatch.setenv("CICATRIX_STORE", str(env))
    assert run_cli("consult", PREGNANT, "--format", "json").code == 0
    assert run_cli("consult", PREGNANT, "--format", "json", "--store", str(option)).code == 0
    assert run_cli("consult", PREGNANT, "--format", "json").code == 0
    assert json.loads(run_cli("history", "--format", "json").out)["total"] == 2
    assert json.loads(run_cli("history", "--format", "json", "--store", str(option)).out)["total"] == 1
    assert run_cli("history", "show", "2", "--format", "json").code == 0
    monkeypatch.delenv("CICATRIX_STORE")
    failed_cleanly(run_cli("history"), "no store given: use --store FILE or set CICATRIX_STORE")
    failed_cleanly(run_cli("history", "export"), "no store given")


def test_bad_input_is_a_located_message_and_exit_2(recorded, run_cli, tmp_path):
    store, _ = recorded
    s = str(store)
    failed_cleanly(
        run_cli("history", "show", "3", "--store", s), f"{s}: no record 3 in this store (its records are 1 to 2)"
    )
    failed_cleanly(run_cli("history", "show", "x", "--store", s), "'x' is not a valid integer")
    for when in ("soon", "999999999w", "2025-13-01"):
        failed_cleanly(run_cli("history", "--store", s, "--since", when), f"--since: '{when}' is not a date, a time")
    failed_cleanly(
        run_cli("history", "--store", s, "--kb-digest", "xyz"), "--kb-digest: 'xyz' is not a knowledge-base digest"
    )
    failed_cleanly(
        run_cli("history", "--store", str(tmp_path)), f"{tmp_path}: cannot use it as a store: it is a folder"
    )
    missing = tmp_path / "missing.db"
    failed_cleanly(run_cli("history", "--store", str(missing)), f"{missing}: no such store")
    assert not missing.exists()  # reading never creates a store
    text = tmp_path / "notes.txt"
    text.write_text("not a store\n")
    failed_cleanly(
        run_cli("history", "show", "1", "--store", str(text)), "not a cicatrix store: the file is not an SQLite"
    )
    assert text.read_text() == "not a store\n"
    conn = sqlite3.connect(store)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT + 1}")
    conn.commit()
    conn.close()
    failed_cleanly(run_cli("history", "--store", s), f"{s}: written by a newer cicatrix (store schema version")


def test_help_explains_with_examples(run_cli):
    text = " ".join(run_cli("history", "--help").out.split())
    for words in ("CICATRIX_STORE", "newest first", "cicatrix history show 12 --store visits.db", "export"):
        assert words in text
    for command in ("list", "show", "export"):
        run = run_cli("history", command, "--help")
        assert run.code == 0 and "Examples:" in run.out and "--store" in run.out
