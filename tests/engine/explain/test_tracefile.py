"""Trace files: what a written trace holds, and that writing and reading one loses nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.explain import traceschema
from cicatrix.engine.explain.replay import replay
from cicatrix.engine.explain.tracefile import READABLE, read, render
from cicatrix.engine.patient.reader import from_data
from cicatrix.engine.resolve.contract import to_dict
from cicatrix.engine.resolve.resolver import plan

from ...corpus.traces import DAMAGE, RAW, as_version_1, damaged
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
    assert f"firing #{seq} found fact 'finding-99' already known, which the trace does not have" in run.err
    assert f"{path}:" in run.err and ".same_as: " in run.err


def test_a_damaged_plan_is_a_clear_error(tmp_path, run_cli):
    path = _damaged(tmp_path, run_cli, lambda d: d["result"]["plan"]["problems"][1].pop("why"))
    run = run_cli("trace", "how", str(path), "problem-1")
    assert run.code == 2 and "Traceback" not in run.err
    assert "damaged trace at result.plan.problems[1]: missing required key 'why'" in run.err


def test_a_problem_naming_an_item_the_trace_lacks_is_a_clear_error(tmp_path, run_cli):
    path = _damaged(tmp_path, run_cli, lambda d: d["result"]["plan"]["problems"][0].update(scars=[9]))
    run = run_cli("trace", "how", str(path), "problem-1")
    assert run.code == 2 and "Traceback" not in run.err
    assert (
        "damaged trace at result.plan.problems[0].scars[0]: problem-1 names input item 'scar-9', which the trace lacks"
        in run.err
    )


# --- damaged traces: every one a located refusal (issue 13) -------------------------------
#
# The damage is the corpus's (tests/corpus/traces.py), applied in-process here so each
# refusal's words and place can be checked; the corpus runs the same files through the
# command line.

# What each damage must be reported as: the place (JSON path) and the reason.
EXPECTED = {
    "format-wrong": 'not a cicatrix trace (expected "format": "cicatrix-trace")',
    "format-missing": "not a cicatrix trace",
    "version-unknown": "trace format version 99 is not supported; this cicatrix reads versions 1, 2",
    "version-text": "trace format version '2' is not supported",
    "version-true": "trace format version True is not supported",
    "version-missing": 'the trace names no format version ("version")',
    "kb-missing-digest": "damaged trace at kb: missing required key 'digest'",
    "kb-list": "damaged trace at kb: expected a mapping, got a list",
    "facts-mapping": "damaged trace at facts: expected a list, got a mapping",
    "firings-missing": "damaged trace at the top level: missing required key 'firings'",
    "rules-list": "damaged trace at rules: expected a mapping, got a list",
    "templates-text": "damaged trace at templates: expected a mapping, got text 'scar'",
    "catalogue-missing": "damaged trace at the top level: missing required key 'catalogue'",
    "catalogue-numbers": "damaged trace at catalogue.tca_cross: expected text, got a number 7",
    "names-list": "damaged trace at names: expected a mapping, got a list",
    "targets-unknown-template": "damaged trace at targets.template: template 'wart' is not among the trace's templates",
    "targets-unknown-field": "damaged trace at targets.field: scar has no field 'colour'",
    "result-missing": "damaged trace at the top level: missing required key 'result'",
    "fact-values-list": "damaged trace at facts[1].values: expected a mapping, got a list ['ice_pick', 'cheeks']",
    "fact-missing-id": "damaged trace at facts[1]: missing required key 'id'",
    "fact-id-number": "damaged trace at facts[1].id: expected text, got a number 7",
    "fact-origin-unknown": "facts[1].origin: 'dream' is not allowed; expected one of: input, catalogue, rule",
    "fact-value-mapping": "damaged trace at facts[1].values.count: expected a plain value or a list of values",
    "fact-value-wrong-type": "facts[1].values.count: expected a whole number (scar count), got 'eight'",
    "fact-unknown-field": "damaged trace at facts[1].values.colour: scar has no field 'colour'",
    "fact-unknown-template": "damaged trace at facts[1].template: template 'wart' is not among the trace's templates",
    "fact-duplicate-id": "damaged trace at facts[2].id: fact id 'scar-1' is used twice (first at [1])",
    "derived-fact-without-firing": "damaged trace at facts[45]: missing required key 'firing'",
    "derived-fact-firing-missing": "facts[45].firing: firing #9999, which asserted fact 'avoid-1', is not in the trace",
    "derived-fact-firing-text": "damaged trace at facts[45].firing: expected a whole number, got text '2'",
    "derived-fact-wrong-rule": "facts[45].rule: fact 'avoid-1' names rule 'profile/deep-narrow', but firing #2",
    "recommend-fact-without-treatment": "damaged trace at facts[57].values: missing required key 'treatment'",
    "firing-matches-missing-fact": "firings[5].matched[2]: firing #6 matched fact 'finding-99', which the trace does",
    "firing-matches-later-fact": "firings[0].matched[0]: firing #1 matched fact 'finding-3', which firing #12 asserted",
    "firing-matched-text": "damaged trace at firings[5].matched: expected a list, got text 'finding-1'",
    "firing-seq-text": "damaged trace at firings[2].seq: expected a whole number, got text '3'",
    "firing-seq-duplicate": "damaged trace at firings[4].seq: sequence number 4 is used twice",
    "firing-seq-disordered": "firings[4].seq: sequence number 4 comes after 5: firings must be in order",
    "firing-seq-zero": "damaged trace at firings[0].seq: expected at least 1, got 0",
    "firing-seq-float": "damaged trace at firings[0].seq: expected a whole number, got a number 1.5",
    "firing-unknown-rule": "firings[0].rule: firing #1 names rule 'no/such-rule', which is not among the trace's rules",
    "firing-salience-text": "damaged trace at firings[0].salience: expected a whole number, got text 'high'",
    "firing-bindings-list": "damaged trace at firings[0].bindings: expected a mapping, got a list ['site', 'cheeks']",
    "firing-binding-mapping": "damaged trace at firings[0].bindings.site: expected a plain value or a list of values",
    "firing-without-actions": "damaged trace at firings[0]: missing required key 'actions'",
    "firing-asserts-missing-fact": "firings[1].asserted[1]: firing #2 asserted fact 'finding-99', which the trace does",
    "firing-matched-count": "firings[5].matched: firing #6 matched 2 facts, but rule 'downtime/may-exceed-tolerance'",
    "action-kind-unknown": "damaged trace at firings[24].actions[0].kind: 'prescribe' is not allowed",
    "action-without-kind": "damaged trace at firings[24].actions[0]: missing required key 'kind'",
    "action-recommend-without-treatment": "damaged trace at firings[24].actions[0]: missing required key 'treatment'",
    "action-tier-unknown": "damaged trace at firings[24].actions[0].tier: 'best' is not allowed",
    "action-combine-without-components": "damaged trace at firings[23].actions[0]: missing required key 'components'",
    "action-same-as-missing-fact": "firings[14].actions[0].same_as: firing #15 found fact 'finding-99' already known,",
    "action-fact-missing": "damaged trace at facts[45].firing: firing #2 does not assert fact 'avoid-1'",
    "action-label-missing": "firings[0].actions[0].labels: the text's {$needs} has no words in 'labels'",
    "action-scope-list": "damaged trace at firings[0].actions[0].scope: expected a mapping, got a list ['site']",
    "action-labels-numbers": "damaged trace at firings[0].actions[0].labels.site: expected text, got a number 3",
    "action-unknown-treatment": "firings[5].actions[0].treatment: treatment 'leeches' is not in the trace's catalogue",
    "action-severity-unknown": "damaged trace at firings[24].actions[0].severity: 'dire' is not allowed",
    "actions-mapping": "damaged trace at firings[0].actions: expected a list, got a mapping",
    "rule-without-when": "damaged trace at rules.downtime/beyond-tolerance: missing required key 'when'",
    "rule-title-number": "damaged trace at rules.downtime/beyond-tolerance.title: expected text, got a number 12",
    "rule-test-op-unknown": "rules.profile/deep-narrow.when[0].constraints[0].tests[0].op: 'roughly' is not allowed",
    "rule-test-compares-text": "constraints[2].tests[0].value: expected a number, got text 'five'",
    "rule-test-without-operand": "constraints[2].tests[0]: expected one of the keys: var, value",
    "rule-any-not-a-list": "constraints[0].tests[0].value: expected a list, got text 'cheeks'",
    "rule-concludes-text": "damaged trace at rules.downtime/beyond-tolerance.concludes: expected a list, got text",
    "rule-any-with-a-variable": "constraints[0].tests[0].var: a test with op 'any' takes a value, not a variable",
    "rule-too-many-patterns": "damaged trace at rules.downtime/beyond-tolerance.when: expected at most 64 items",
    "derivation-too-deep": "firing #165 rests on a chain of more than 64 derived facts",
    "template-without-fields": "damaged trace at templates.scar: missing required key 'fields'",
    "template-labels-numbers": "templates.scar.fields.type.labels.ice_pick: expected text, got a number 1",
    "result-patient-missing": "damaged trace at result: missing required key 'patient'",
    "recommendation-without-id": "damaged trace at result.recommendations[0]: missing required key 'id'",
    "recommendation-rank-text": "damaged trace at result.recommendations[0].rank: expected a whole number, got text",
    "recommendation-duplicate": "result.recommendations[29].id: recommendation 'tca_cross' is used twice (first at",
    "recommendation-unknown-treatment": "result.recommendations[0].id: 'leeches' is not a treatment of the trace's",
    "combination-without-components": "damaged trace at result.recommendations[3]: missing required key 'components'",
    "avoid-mapping": "damaged trace at result.avoid: expected a list, got a mapping",
    "avoid-without-id": "damaged trace at result.avoid[0]: missing required key 'id'",
    "avoid-unknown-rule": "result.avoid[0].rules[0]: rule 'no/such-rule' is not among the trace's rules",
    "alert-without-id": "damaged trace at result.alerts[0]: missing required key 'id'",
    "left-out-without-reason": "damaged trace at result.left_out[0]: missing required key 'reason'",
    "plan-missing": "damaged trace at result: missing required key 'plan'",
    "problems-mapping": "damaged trace at result.plan.problems: expected a list, got a mapping",
    "problem-without-id": "damaged trace at result.plan.problems[0]: missing required key 'id'",
    "problem-without-why": "damaged trace at result.plan.problems[1]: missing required key 'why'",
    "problem-duplicate-id": "result.plan.problems[1].id: problem 'problem-1' is used twice (first at [0])",
    "problem-item-missing": "result.plan.problems[0].scars[0]: problem-1 names input item 'scar-9', which the trace",
    "problem-item-text": "result.plan.problems[0].scars[0]: expected the 1-based position of an input item, got 'one'",
    "problem-item-zero": "result.plan.problems[0].scars[0]: expected the 1-based position of an input item, got 0",
    "problem-choice-unknown": "result.plan.problems[0].choice: option 'leeches' is not among the result's",
    "problem-alternatives-text": "damaged trace at result.plan.problems[0].alternatives: expected a list, got text",
    "problem-adjuncts-list": "damaged trace at result.plan.problems[0].adjuncts: expected a mapping, got a list",
    "problem-ruled-out-kind": "result.plan.problems[0].ruled_out[0].kind: 'banned' is not allowed",
    "course-names-missing-problem": "result.plan.course[2].items[0].problem: the course names problem 'problem-9'",
    "deep-nesting": "nested deeper than 64 levels",
}

RAW_EXPECTED = {
    "empty": "not a JSON trace: the file is empty",
    "blank": "not a JSON trace: the file is empty",
    "not-json": "not a JSON trace: Expecting value",
    "a-list": "not a cicatrix trace",
    "null": "not a cicatrix trace",
    "truncated-20": "(the file looks truncated: it does not end with '}')",
    "truncated-250": "(the file looks truncated: it does not end with '}')",
    "truncated-500": "(the file looks truncated: it does not end with '}')",
    "truncated-750": "(the file looks truncated: it does not end with '}')",
    "truncated-999": "(the file looks truncated: it does not end with '}')",
    "binary-junk": "not UTF-8 text (byte 128: 0x80)",
    "junk-after": "not a JSON trace: Extra data",
    "junk-inside": "not UTF-8 text (byte 5000: 0xff)",
    "utf16": "not UTF-8 text (byte 0: 0xff)",
    "nan": "expected a finite number, got NaN",
    "huge-number": "a number longer than 64 characters",
    "huge-exponent": "a number longer than 64 characters, or too large to be finite",
    "deep-brackets": "nested deeper than 64 levels",
    "too-big": "larger than the 8 MB limit for one file",
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The bytes of a fresh trace of the mixed example, written through the command line."""
    from cicatrix.cli import main

    from ...conftest import EXAMPLES

    folder = tmp_path_factory.mktemp("good")
    with pytest.raises(SystemExit) as info:
        main(["consult", str(EXAMPLES / "mixed-facial-scars.yaml"), "--trace", str(folder / "t.json"),
              "-o", str(folder / "plan.txt")])  # fmt: skip
    assert info.value.code == 0
    return (folder / "t.json").read_bytes()


def _refusal(path) -> CicatrixError:
    with pytest.raises(CicatrixError) as info:
        read(path)
    error = info.value
    assert error.exit_code == 2
    assert error.problems and all(p.file == str(path) for p in error.problems)
    assert "Traceback" not in error.render() and "internal error" not in error.render()
    return error


def test_every_damage_has_an_expected_refusal():
    assert set(EXPECTED) == set(DAMAGE) and set(RAW_EXPECTED) == set(RAW)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_a_damaged_trace_is_a_located_refusal(good, tmp_path, name):
    path = tmp_path / "t.json"
    path.write_bytes(damaged(json.loads(good), name))
    error = _refusal(path)
    first = error.problems[0]
    assert first.line is not None and first.column is not None, error.render()
    assert EXPECTED[name] in error.render()
    assert error.render().startswith(f"{path}:{first.line}:{first.column}: ")


@pytest.mark.parametrize("name", sorted(RAW))
def test_damaged_bytes_are_a_located_refusal(good, tmp_path, name):
    path = tmp_path / "t.json"
    path.write_bytes(RAW[name](good))
    error = _refusal(path)
    assert RAW_EXPECTED[name] in error.render()
    if name != "too-big":  # a file past the size bound is refused before it is read
        assert error.problems[0].line is not None, error.render()


def test_a_located_place_is_where_the_damage_is(good, tmp_path):
    """The line and column are those of the damaged value in the file, as an editor shows them."""
    path = tmp_path / "t.json"
    path.write_bytes(damaged(json.loads(good), "firing-seq-text"))
    problem = _refusal(path).problems[0]
    line = path.read_text().splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith('"3"')
    compact = tmp_path / "compact.json"  # the same on one line
    data = json.loads(good)
    DAMAGE["firing-seq-text"](data)
    compact.write_text(json.dumps(data))
    problem = _refusal(compact).problems[0]
    assert problem.line == 1 and compact.read_text()[problem.column - 1 :].startswith('"3"')


def test_many_problems_are_reported_up_to_a_bound(good, tmp_path):
    data = json.loads(good)
    for firing in data["firings"]:
        firing["salience"] = "high"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data, indent=1))
    error = _refusal(path)
    assert len(error.problems) == traceschema.MAX_SHOWN + 1
    assert error.problems[-1].message == "and more problems, not shown"


def test_missing_and_folder_traces_are_refused(tmp_path):
    assert "no such file" in _refusal(tmp_path / "none.json").render()
    (tmp_path / "dir.json").mkdir()
    assert "is a folder" in _refusal(tmp_path / "dir.json").render()


def test_valid_version_1_and_2_traces_still_load(good, tmp_path):
    from cicatrix.engine.explain.plan import has_plan

    path = tmp_path / "t.json"
    path.write_bytes(good)
    assert read(path).version == 2 and has_plan(read(path))
    old = json.loads(good)
    as_version_1(old)
    path.write_text(json.dumps(old))
    trace = read(path)
    assert trace.version == 1 and not has_plan(trace) and trace.targets is None
    assert len(trace.firings) == len(old["firings"])
    del old["catalogue"]  # version 1 may lack the catalogue, which version 2 requires
    path.write_text(json.dumps(old))
    assert read(path).catalogue == {}


def test_a_good_trace_loads_fast(good, tmp_path):
    import time

    path = tmp_path / "t.json"
    path.write_bytes(good)
    read(path)  # imports done
    start = time.process_time()  # the time this process spent, however busy the machine
    read(path)
    assert time.process_time() - start < 0.5  # about 0.05 s on a laptop


# --- the fast shape check and jsonschema agree ---------------------------------------------


def test_the_schema_uses_only_keywords_the_fast_check_knows():
    def keywords(s):
        yield from s
        for key in ("properties",):
            for sub in s.get(key, {}).values():
                yield from keywords(sub)
        for key in ("additionalProperties", "items", "if", "then"):
            if isinstance(s.get(key), dict):
                yield from keywords(s[key])
        for key in ("allOf", "anyOf"):
            for sub in s.get(key, []):
                yield from keywords(sub)

    for version in READABLE:
        assert set(keywords(traceschema.schema(version))) <= traceschema.KEYWORDS


def test_good_traces_conform_to_the_schema(good):
    from jsonschema import Draft202012Validator

    data = json.loads(good)
    assert Draft202012Validator(traceschema.schema(2)).is_valid(data)
    assert traceschema.conforms(2)(data)
    as_version_1(data)
    assert Draft202012Validator(traceschema.schema(1)).is_valid(data)
    assert traceschema.conforms(1)(data)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_each_part_the_fast_check_refuses_jsonschema_refuses(good, name):
    from jsonschema import Draft202012Validator

    data = json.loads(good)
    DAMAGE[name](data)
    version = data.get("version")
    if type(version) is not int or version not in READABLE or traceschema.conforms(version)(data):
        return
    parts = traceschema.failing(version, data)
    assert parts
    for at, schema in parts:
        value = data
        for key in at:
            value = value[key]
        assert not Draft202012Validator(schema).is_valid(value), at


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2)
    | st.sampled_from(["", "x", "eq", "lt", "recommend"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "kind", "op", "value", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _parts(good):
    """A real instance of each part of a trace, with its schema (as the trace schema nests them)."""
    data = json.loads(good)
    s = traceschema.schema(2)["properties"]
    rule = next(r for r in data["rules"].values() if r["when"] and r["concludes"])
    firing = next(f for f in data["firings"] if f["bindings"] and f["actions"])
    result = s["result"]["properties"]
    return [
        (s["facts"]["items"], data["facts"][1]),
        (s["facts"]["items"], next(f for f in data["facts"] if f["template"] == "recommend")),
        (s["firings"]["items"], firing),
        (s["rules"]["additionalProperties"], rule),
        (s["templates"]["additionalProperties"], data["templates"]["scar"]),
        (result["recommendations"]["items"], next(r for r in data["result"]["recommendations"] if "components" in r)),
        (result["avoid"]["items"], data["result"]["avoid"][0]),
        (result["plan"]["properties"]["problems"]["items"], data["result"]["plan"]["problems"][0]),
        (result["plan"]["properties"]["course"], data["result"]["plan"]["course"]),
    ]


def _places(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _places(v, (*path, i))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_fast_check_and_jsonschema_give_the_same_verdict(good, data):
    """Any part of a real trace, with any one value replaced or removed: the same yes or no."""
    import copy

    from jsonschema import Draft202012Validator

    schema, instance = data.draw(st.sampled_from(_parts(good)))
    instance = copy.deepcopy(instance)
    where = data.draw(st.sampled_from(list(_places(instance))))
    if where:
        parent = instance
        for key in where[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[where[-1]]
        else:
            parent[where[-1]] = data.draw(_JSON)
    else:
        instance = data.draw(_JSON)
    expected = Draft202012Validator(schema).is_valid(instance)
    assert traceschema._compiled(schema)(instance) == expected
