"""Trace files: what a written trace holds, and that writing and reading one loses nothing."""

from __future__ import annotations

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
