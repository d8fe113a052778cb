"""Trace files: what a written trace holds, and that writing and reading one loses nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from cicatrix.engine.explain.replay import replay
from cicatrix.engine.explain.tracefile import read, render
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan

from ...helpers import patients


def test_trace_format_header(traces):
    trace, plan = traces["mixed-facial-scars.yaml"]
    assert trace.kb == plan["kb"]
    assert trace.result == plan
    assert [f.seq for f in trace.firings] == list(range(1, len(trace.firings) + 1))
    inputs = [f.id for f in trace.facts.values() if f.origin == "input"]
    assert inputs == ["patient", "scar-1", "scar-2", "scar-3"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=patients)
def test_a_trace_reads_back_as_written(kb, session, tmp_path_factory, data):
    result = plan(session, from_data(data, kb, source="generated.yaml"))
    plan_json = to_dict(result)
    path = tmp_path_factory.mktemp("trace") / "t.json"
    path.write_text(render(kb, result, plan_json, "generated.yaml"), encoding="utf-8")
    trace = read(path)
    consultation = result.consultation
    assert trace.firings == consultation.firings
    assert list(trace.facts.values()) == list(consultation.facts)
    assert trace.consultation() == consultation
    assert trace.result == plan_json
    assert trace.patient_file == "generated.yaml"
    assert trace.kb == {"name": kb.name, "version": kb.version, "digest": kb.digest}
    assert set(trace.rules) == {r.id for r in kb.rules}
    assert replay(trace, kb) == []


def test_version_2_keeps_duplicates_scopes_and_risks(kb, session, tmp_path):
    """What roots a problem's options (same_as), scoped exclusions (scope) and risk cautions
    (risk) survive writing and reading, action by action."""
    from .conftest import SCOPED

    result = plan(session, from_data(SCOPED["keloid-two-sites"], kb, source="p.yaml"))
    path = tmp_path / "t.json"
    path.write_text(render(kb, result, to_dict(result), "p.yaml"), encoding="utf-8")
    written = [a for f in json.loads(path.read_text())["firings"] for a in f["actions"]]
    recorded = [a for f in result.consultation.firings for a in f.actions]
    for key in ("same_as", "scope", "risk"):
        assert any(getattr(a, key) for a in recorded), f"the example records no {key}"
        assert [a.get(key) or None for a in written] == [getattr(a, key) or None for a in recorded], key
    trace = read(path)
    assert [a for f in trace.firings for a in f.actions] == recorded
    assert trace.version == 2 and trace.targets == ("scar", "type")
    assert trace.name("ablative_fractional_laser") == "Fractional CO2 laser"
    assert trace.title("tca_cross+ablative_fractional_laser") == "TCA CROSS + Fractional CO2 / Er:YAG laser"


def _damaged(tmp_path, run_cli, change):
    """A fresh trace of the mixed example, changed by ``change`` (its JSON data, in place)."""
    from ...conftest import EXAMPLES

    path = tmp_path / "t.json"
    run = run_cli("consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--trace", str(path), "-o", str(tmp_path / "p"))
    assert run.code == 0
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _first_same_as(data):
    return next(a for f in data["firings"] for a in f["actions"] if "same_as" in a)


def test_a_same_as_naming_an_unknown_fact_is_a_clear_error(tmp_path, run_cli):
    path = _damaged(tmp_path, run_cli, lambda d: _first_same_as(d).update(same_as="finding-99"))
    seq = next(f["seq"] for f in json.loads(path.read_text())["firings"] for a in f["actions"] if "same_as" in a)
    run = run_cli("trace", "show", str(path))
    assert run.code == 2 and "Traceback" not in run.err
    assert f"damaged trace: firing {seq} names unknown fact 'finding-99'" in run.err
    assert str(path) in run.err


def test_a_damaged_plan_is_a_clear_error(tmp_path, run_cli):
    path = _damaged(tmp_path, run_cli, lambda d: d["result"]["plan"]["problems"][1].pop("why"))
    run = run_cli("trace", "how", str(path), "problem-1")
    assert run.code == 2 and "Traceback" not in run.err
    assert "damaged trace at result/plan/problems/1: 'why' is a required property" in run.err


def test_a_problem_naming_an_item_the_trace_lacks_is_a_clear_error(tmp_path, run_cli):
    path = _damaged(tmp_path, run_cli, lambda d: d["result"]["plan"]["problems"][0].update(scars=[9]))
    run = run_cli("trace", "how", str(path), "problem-1")
    assert run.code == 2 and "Traceback" not in run.err
    assert "damaged trace: problem-1 names input item 'scar-9', which the trace lacks" in run.err
