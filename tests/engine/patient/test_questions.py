"""engine/patient/questions.py: the questionnaire is read and checked against the
templates; questions come in order, skipping those whose ``ask_if`` fails and
repeating a list template's group; answers become values (or BadAnswer) and, in
the end, a patient document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.knowledge.model import Test as Constraint
from cicatrix.engine.patient import questions
from cicatrix.engine.patient.questions import MORE, BadAnswer, Condition, choices, next_step, parse, show, steps

from ...helpers import replace


@pytest.fixture(scope="module")
def q(kb):
    return questions.load(kb)


def question(q, template: str, field: str):
    return next(x for x in q.group(template).questions if x.field == field)


# --- load() ---------------------------------------------------------------------------------


def test_the_bundled_questionnaire_loads(q):
    assert q.file == "kb/questions.yaml"
    scar, patient = q.groups
    assert (scar.template, scar.key, scar.many, scar.title) == ("scar", "scars", True, "Your scars")
    assert scar.repeat == "Add another group of scars (another type or area)?"
    assert [x.field for x in scar.questions] == ["type", "site", "count", "depth", "distensible"]
    assert (patient.template, patient.key, patient.many, patient.repeat) == ("patient", "patient", False, "")
    assert q.group("patient") is patient


def test_the_patient_questions_in_order(q):
    assert [x.field for x in q.group("patient").questions] == [
        "sex",
        "age",
        "pregnant",
        "breastfeeding",
        "trying_to_conceive",
        "fitzpatrick",
        "active_acne",
        "acne_severity",  # right after active_acne, which it depends on
        "isotretinoin_months_ago",
        "marks",
        "skin_sensitivity",
        "conditions",
        "active_infection",
        "keloid_history",
        "family_keloid_history",
        "anticoagulants",
        "sun_exposure",
        "recent_tan",
        "downtime_days",
        "budget",
    ]


def test_the_safety_questions_are_asked_of_everyone(q):
    for field in ("active_infection", "anticoagulants", "marks", "sun_exposure", "recent_tan"):
        assert question(q, "patient", field).ask_if == (), field


def test_the_new_fields_take_their_words_from_the_templates(q, kb):
    severity = question(q, "patient", "acne_severity")
    assert severity.spec is kb.templates["patient"].fields["acne_severity"]
    assert choices(severity.spec) == ["mild", "moderate", "nodular"]
    assert severity.spec.label("nodular") == "nodular or scarring"
    assert severity.default is None and severity.spec.nullable
    assert severity.ask_if == ((Condition("patient", "active_acne", (Constraint("eq", True),)),),)
    assert choices(question(q, "patient", "marks").spec) == ["red", "brown"]
    assert question(q, "patient", "sun_exposure").default == "normal"
    distensible = question(q, "scar", "distensible")
    assert distensible.default is None
    assert distensible.ask_if == (
        (Condition("scar", "type", (Constraint("any", ("rolling", "boxcar", "atrophic")),)),),
    )
    # the family question is asked exactly when the personal one is
    assert question(q, "patient", "family_keloid_history").ask_if == question(q, "patient", "keloid_history").ask_if


def test_the_help_says_what_safety_needs(q):
    stretch = question(q, "scar", "distensible").help
    assert "stretch the skin around a scar between two fingers" in stretch
    assert "If the dent flattens or fades, answer yes" in stretch and "if it stays, answer no" in stretch
    assert "Press Enter if unsure: filler is then only an alternative" in stretch
    assert "stretch test" in stretch
    keloid = question(q, "patient", "keloid_history").help
    assert "A keloid or hypertrophic scar you described above already counts" in keloid
    assert "Skin type V-VI alone is a caution on those sites, not an exclusion" in keloid
    assert "eczema (eczema active now where the scars are" in question(q, "patient", "conditions").help
    marks = question(q, "patient", "marks").help
    assert "post-inflammatory erythema" in marks and "post-inflammatory hyperpigmentation" in marks
    assert "colour problems, not dents" in marks
    severity = question(q, "patient", "acne_severity").help
    assert "mild: a few spots; moderate: many spots; nodular: deep, painful lumps" in severity
    assert "isotretinoin" in severity
    assert "high: outdoors most days" in question(q, "patient", "sun_exposure").help
    assert "Lasers and peels wait until a tan or sunburn has faded" in question(q, "patient", "recent_tan").help


def test_a_question_takes_its_field_and_its_words(q, kb):
    depth = question(q, "scar", "depth")
    assert depth.spec is kb.templates["scar"].fields["depth"]
    assert depth.prompt == "How deep are they?"
    assert depth.help.startswith("shallow: soft, barely visible in side light; moderate:")
    assert "\n" not in depth.help and "  " not in depth.help  # folded into one line
    assert depth.default is None  # the field's default
    assert question(q, "patient", "downtime_days").default == 7


def test_ask_if_one_mapping_or_any_of_several(q):
    assert question(q, "scar", "type").ask_if == ()
    assert question(q, "scar", "depth").ask_if == (
        (Condition("scar", "type", (Constraint("any", ("ice_pick", "boxcar", "rolling", "atrophic")),)),),
    )
    assert question(q, "patient", "breastfeeding").ask_if == (
        (
            Condition("patient", "sex", (Constraint("not", ("male",)),)),
            Condition("patient", "pregnant", (Constraint("eq", False),)),
        ),
    )
    alternatives = question(q, "patient", "keloid_history").ask_if
    assert [[(c.template, c.field) for c in alt] for alt in alternatives] == [
        [("scar", "site")],
        [("scar", "type")],
        [("patient", "fitzpatrick")],
    ]
    assert alternatives[2][0].tests == (Constraint("gte", 5),)


@pytest.fixture
def edited(kb, tmp_path):
    """Load the questionnaire of a copy of the bundled knowledge base whose questions.yaml is edited."""

    def load_with(*edits: tuple[str, str], remove: bool = False, **changes):
        root = tmp_path / str(len(list(tmp_path.iterdir()))) / "kb"
        shutil.copytree(kb.root, root)
        path = root / "questions.yaml"
        text = path.read_text()
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        path.write_text(text)
        if remove:
            path.unlink()
        return questions.load(replace(kb, root=str(root), **changes))  # the same templates, unless changed

    return load_with


@pytest.fixture
def broken(edited):
    """The problems of an edited questionnaire."""

    def problems(*edits: tuple[str, str], **kwargs) -> list[str]:
        with pytest.raises(CicatrixError) as caught:
            edited(*edits, **kwargs)
        return [p.render() for p in caught.value.problems]

    return problems


def test_a_missing_questionnaire(broken):
    assert broken(remove=True) == ["kb/questions.yaml: missing: the interactive questionnaire needs this file"]


def test_a_question_may_fold_its_prompt_and_give_its_own_default(edited):
    q = edited(
        ("prompt: What type of scar is this group?", "prompt: >\n          What   type\n          of scar?"),
        ("- field: count\n", "- field: count\n        default: 5\n"),
    )
    assert question(q, "scar", "type").prompt == "What type of scar?"
    assert question(q, "scar", "count").default == 5


def at(kb, text: str, offset: int = 0) -> str:
    """``file:line:column`` of the first character of ``text`` (plus ``offset``) in the bundled questionnaire."""
    source = (Path(kb.root) / "questions.yaml").read_text()
    index = source.index(text) + offset
    line = source.count("\n", 0, index) + 1
    return f"kb/questions.yaml:{line}:{index - source.rfind(chr(10), 0, index)}"


def test_the_schema_is_checked_first(broken, kb):
    assert broken(("prompt: Where are they?", "promt: Where are they?")) == [
        f"{at(kb, 'field: site')}: groups[0].questions[1]: missing required key 'prompt'",
        f"{at(kb, 'prompt: Where are they?')}: groups[0].questions[1].promt: unknown key 'promt'; expected one of:"
        " field, prompt, help, default, ask_if; did you mean 'prompt'?",
    ]


def test_an_unknown_template(broken, kb):
    assert broken(("- template: patient", "- template: patinet")) == [
        f"{at(kb, '- template: patient', offset=12)}: groups[1].template:"
        " 'patinet' is not a template read from the patient file; did you mean 'patient'?",
    ]


def test_a_template_that_is_not_read_from_the_patient_file(broken):
    (problem,) = broken(("- template: patient", "- template: finding"))
    assert problem.endswith("'finding' is not a template read from the patient file")


def test_an_unknown_field(broken, kb):
    assert broken(("- field: count", "- field: cuont")) == [
        f"{at(kb, '- field: count', offset=9)}: groups[0].questions[2].field: template 'scar' has no field 'cuont';"
        " did you mean 'count'?",
    ]


def test_ask_if_on_an_unknown_field(broken, kb):
    assert broken(("ask_if: {scar.type: [ice_pick", "ask_if: {scar.tpye: [ice_pick")) == [
        f"{at(kb, 'scar.type: [ice_pick')}: groups[0].questions[3].ask_if.scar.tpye: unknown field 'scar.tpye';"
        " did you mean 'scar.type'?",
    ]
    (problem,) = broken(("ask_if: {patient.active_acne: true}", "ask_if: {patiant.active_acne: true}"))
    assert "groups[1].questions[7].ask_if.patiant.active_acne: unknown field 'patiant.active_acne'" in problem


def test_ask_if_values_are_checked_like_a_rules(broken):
    (problem,) = broken(("{scar.type: [ice_pick, boxcar", "{scar.type: [icepick, boxcar"))
    assert "groups[0].questions[3].ask_if.scar.type[0]: 'icepick' can never match scar.type" in problem
    assert problem.endswith("did you mean 'ice_pick'?")


def test_ask_if_takes_no_variables(broken):
    (problem,) = broken(("ask_if: {patient.active_acne: true}", "ask_if: {patient.active_acne: $acne}"))
    assert problem.endswith(
        "groups[1].questions[7].ask_if.patient.active_acne: ask_if conditions take values, not variables"
    )


def test_an_alternative_of_ask_if_is_located_by_its_index(broken):
    (problem,) = broken(("- {scar.type: [hypertrophic, keloid]}", "- {scar.type: [hypertrophic, keloids]}"))
    assert "groups[1].questions[13].ask_if[1].scar.type[1]: 'keloids' can never match" in problem


def test_a_template_the_patient_file_needs_must_have_a_group(broken, kb):
    text = (Path(kb.root) / "questions.yaml").read_text()
    scar_group = text[text.index("  - template: scar") : text.index("  - template: patient")]
    assert broken((scar_group, "")) == [
        "kb/questions.yaml: groups: no group asks about template 'scar', which the patient file needs"
    ]


def test_a_template_with_nothing_required_needs_no_group(edited, kb):
    text = (Path(kb.root) / "questions.yaml").read_text()
    patient_group = text[text.index("  - template: patient") :]
    assert [g.template for g in edited((patient_group, "")).groups] == ["scar"]


def test_a_template_with_a_minimum_of_items_needs_a_group(edited, broken, kb):
    text = (Path(kb.root) / "questions.yaml").read_text()
    scar_group = text[text.index("  - template: scar") : text.index("  - template: patient")]
    scar = kb.templates["scar"]  # input: {key: scars, many: true, min_items: 1}
    optional = replace(scar, fields={name: replace(f, required=False) for name, f in scar.fields.items()})
    assert broken((scar_group, ""), templates={**kb.templates, "scar": optional}) == [
        "kb/questions.yaml: groups: no group asks about template 'scar', which the patient file needs"
    ]
    none_needed = replace(optional, input=replace(scar.input, min_items=0))
    q = edited((scar_group, ""), templates={**kb.templates, "scar": none_needed})
    assert [g.template for g in q.groups] == ["patient"]


def test_every_problem_in_one_pass(broken):
    found = broken(
        ("- field: count", "- field: cuont"),
        ("ask_if: {patient.active_acne: true}", "ask_if: {patient.active_acne: $acne}"),
        ("- template: patient", "- template: patinet"),
    )
    assert len(found) == 2 and "'cuont'" in found[0] and "'patinet'" in found[1]
    # (the questions of an unknown template are not read, so $acne is not reported)


# --- sequencing -----------------------------------------------------------------------------

MALE = {("patient", "sex"): "male", ("patient", "age"): 30}


def keys(q, answers) -> list[tuple]:
    return [key for key, _, _ in steps(q, answers)]


def test_the_first_question(q):
    key, asked, group = next_step(q, {})
    assert key == ("scar", 0, "type") and asked.field == "type" and group.template == "scar"


def test_a_list_template_asks_its_group_then_whether_to_add_another(q):
    answers = {("scar", 0, "type"): "rolling", ("scar", 0, "site"): "cheeks", ("scar", 0, "count"): 3}
    assert keys(q, answers)[:7] == [
        ("scar", 0, "type"),
        ("scar", 0, "site"),
        ("scar", 0, "count"),
        ("scar", 0, "depth"),  # rolling scars: depth is asked
        ("scar", 0, "distensible"),  # and the stretch test
        ("scar", 0, MORE),
        ("patient", "sex"),
    ]
    key, asked, group = next_step(q, answers)
    assert key == ("scar", 0, "depth")
    answers[("scar", 0, "depth")] = None
    key, asked, group = next_step(q, answers)
    assert key == ("scar", 0, "distensible")
    answers[("scar", 0, "distensible")] = None
    key, asked, group = next_step(q, answers)
    assert (key, asked, group.template) == (("scar", 0, MORE), None, "scar")  # None: the add-another question


def test_add_another_repeats_the_group(q):
    answers = {("scar", 0, "type"): "rolling", ("scar", 0, MORE): True}
    first = {("scar", 0, "site"): None, ("scar", 0, "count"): 1, ("scar", 0, "depth"): None}
    assert next_step(q, {**answers, **first, ("scar", 0, "distensible"): None})[0] == ("scar", 1, "type")
    listed = keys(q, answers)
    assert ("scar", 1, "type") in listed and ("scar", 1, MORE) in listed and ("scar", 2, "type") not in listed
    answers[("scar", 0, MORE)] = False
    assert ("scar", 1, "type") not in keys(q, answers)


def test_a_condition_on_the_groups_own_template_looks_at_the_current_item(q):
    answers = {("scar", 0, "type"): "rolling", ("scar", 0, MORE): True, ("scar", 1, "type"): "keloid"}
    listed = keys(q, answers)
    assert ("scar", 0, "depth") in listed
    assert ("scar", 1, "depth") not in listed  # keloids: depth is not asked for this group


def test_a_question_whose_condition_fails_is_skipped(q):
    base = {("scar", 0, "type"): "hypertrophic", ("scar", 0, "site"): "cheeks", ("scar", 0, MORE): False}
    assert ("scar", 0, "depth") not in keys(q, base)
    male = keys(q, {**base, **MALE})
    assert ("patient", "pregnant") not in male and ("patient", "breastfeeding") not in male
    female = keys(q, {**base, ("patient", "sex"): "female"})
    assert ("patient", "pregnant") in female
    assert ("patient", "breastfeeding") not in female  # pregnant is not answered yet
    assert ("patient", "breastfeeding") in keys(
        q, {**base, ("patient", "sex"): "female", ("patient", "pregnant"): False}
    )
    assert ("patient", "breastfeeding") not in keys(
        q, {**base, ("patient", "sex"): "female", ("patient", "pregnant"): True}
    )


def test_a_condition_that_needs_an_unknown_answer_is_false(q):
    base = {("scar", 0, "type"): "rolling", ("scar", 0, "site"): "cheeks", ("scar", 0, MORE): False}
    assert ("patient", "keloid_history") not in keys(q, {**base, ("patient", "fitzpatrick"): None})
    assert ("patient", "keloid_history") not in keys(q, {**base, ("patient", "fitzpatrick"): 4})
    assert ("patient", "keloid_history") in keys(q, {**base, ("patient", "fitzpatrick"): 5})
    # a condition on a question not answered yet is false too
    assert ("patient", "acne_severity") not in keys(q, base)


def test_acne_severity_only_after_active_acne_yes(q):
    base = {("scar", 0, "type"): "rolling", ("scar", 0, MORE): False}
    assert ("patient", "acne_severity") not in keys(q, {**base, ("patient", "active_acne"): False})
    listed = keys(q, {**base, ("patient", "active_acne"): True})
    assert listed.index(("patient", "acne_severity")) == listed.index(("patient", "active_acne")) + 1


def test_blood_thinners_and_infections_are_asked_at_any_age(q):
    base = {("scar", 0, "type"): "rolling", ("scar", 0, "site"): "cheeks", ("scar", 0, MORE): False}
    for age in (None, 18, 25, 39, 40, 70):
        listed = keys(q, {**base, ("patient", "age"): age, ("patient", "conditions"): []})
        assert ("patient", "anticoagulants") in listed, age
        assert ("patient", "active_infection") in listed, age


def test_the_stretch_test_is_asked_for_depressed_scars_that_can_stretch(q):
    def asked(scar_type):
        return ("scar", 0, "distensible") in keys(q, {("scar", 0, "type"): scar_type})

    assert [t for t in ("ice_pick", "boxcar", "rolling", "hypertrophic", "keloid", "atrophic") if asked(t)] == [
        "boxcar",
        "rolling",
        "atrophic",
    ]
    two = {("scar", 0, "type"): "rolling", ("scar", 0, MORE): True, ("scar", 1, "type"): "keloid"}
    listed = keys(q, two)
    assert ("scar", 0, "distensible") in listed and ("scar", 1, "distensible") not in listed
    assert listed.index(("scar", 0, "distensible")) == listed.index(("scar", 0, "depth")) + 1


def test_the_family_keloid_question_follows_the_personal_one(q):
    facial = {("scar", 0, "type"): "rolling", ("scar", 0, "site"): "cheeks", ("scar", 0, MORE): False}
    assert ("patient", "family_keloid_history") not in keys(q, facial)
    for changed in (
        {("scar", 0, "site"): "back"},
        {("scar", 0, "type"): "hypertrophic"},
        {("patient", "fitzpatrick"): 6},
    ):
        listed = keys(q, {**facial, **changed})
        assert listed.index(("patient", "family_keloid_history")) == listed.index(("patient", "keloid_history")) + 1


def test_any_of_several_alternatives(q):
    facial = {("scar", 0, "type"): "rolling", ("scar", 0, "site"): "cheeks", ("scar", 0, MORE): False}
    assert ("patient", "keloid_history") not in keys(q, facial)
    assert ("patient", "keloid_history") in keys(q, {**facial, ("patient", "fitzpatrick"): 5})
    # a condition on another template's list holds if any item meets it
    two = {**facial, ("scar", 0, MORE): True, ("scar", 1, "site"): "back", ("scar", 1, MORE): False}
    assert ("patient", "keloid_history") in keys(q, two)
    assert ("patient", "family_keloid_history") in keys(q, two)


def answer_all(q, values: dict) -> dict:
    """Answer each question as it comes, from ``values`` by key, else with the question's default."""
    answers: dict = {}
    while (step := next_step(q, answers)) is not None:
        key, asked, _ = step
        answers[key] = values.get(key, False if asked is None else asked.default)
    return answers


def test_next_step_ends_when_every_question_is_answered(q):
    answers = answer_all(q, {("scar", 0, "type"): "boxcar", **MALE})
    assert next_step(q, answers) is None
    assert set(answers) == set(keys(q, answers))


# --- to_patient --------------------------------------------------------------------------------


def test_to_patient_is_a_patient_document(q):
    answers = answer_all(
        q,
        {
            ("scar", 0, "type"): "boxcar",
            ("scar", 0, "site"): "cheeks",
            ("scar", 0, MORE): True,
            ("scar", 1, "type"): "keloid",
            **MALE,
        },
    )
    patient = questions.to_patient(q, answers)
    assert patient["scars"] == [
        {"type": "boxcar", "site": "cheeks", "count": 1, "depth": None, "distensible": None},
        {"type": "keloid", "site": None, "count": 1},  # depth and the stretch test are not asked for keloids
    ]
    assert patient["patient"]["sex"] == "male" and patient["patient"]["age"] == 30
    assert "pregnant" not in patient["patient"]
    assert "acne_severity" not in patient["patient"]  # no active acne
    assert patient["patient"]["anticoagulants"] is False  # asked at 30 too
    assert patient["patient"]["keloid_history"] is False  # asked: a keloid
    assert patient["patient"]["family_keloid_history"] is False
    assert patient["patient"]["downtime_days"] == 7


def test_to_patient_leaves_out_answers_to_questions_no_longer_asked(q):
    answers = answer_all(q, {("scar", 0, "type"): "boxcar", ("patient", "sex"): "female"})
    assert "pregnant" in questions.to_patient(q, answers)["patient"]
    answers[("patient", "sex")] = "male"  # changed after answering the pregnancy questions
    assert "pregnant" not in questions.to_patient(q, answers)["patient"]
    answers = answer_all(q, {("scar", 0, "type"): "boxcar", ("patient", "active_acne"): True})
    answers[("patient", "acne_severity")] = "nodular"
    assert questions.to_patient(q, answers)["patient"]["acne_severity"] == "nodular"
    answers[("patient", "active_acne")] = False  # changed after answering how severe
    assert "acne_severity" not in questions.to_patient(q, answers)["patient"]


def test_to_patient_of_a_few_answers(q):
    assert questions.to_patient(q, {}) == {"scars": [{}], "patient": {}}
    answers = {("scar", 0, "type"): "rolling", ("scar", 0, MORE): False, ("patient", "age"): 50}
    assert questions.to_patient(q, answers) == {"scars": [{"type": "rolling"}], "patient": {"age": 50}}


# --- parse() and show() --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        (("scar", "type"), "boxcar", "boxcar"),
        (("scar", "type"), " ROLLING ", "rolling"),
        (("scar", "type"), "ice pick", "ice_pick"),  # by its label
        (("scar", "type"), "2", "boxcar"),  # by its number in the list
        (("scar", "type"), "6", "atrophic"),
        (("scar", "count"), "12", 12),
        (("scar", "count"), "", 1),  # empty: the default
        (("patient", "age"), "30", 30),
        (("patient", "age"), "unknown", None),  # a nullable field can be left unknown
        (("patient", "age"), "skip", None),
        (("patient", "age"), "", None),
        (("patient", "sex"), "-", None),
        (("patient", "isotretinoin_months_ago"), "1.5", 1.5),
        (("patient", "isotretinoin_months_ago"), "2", 2),  # a whole number loses its .0
        (("patient", "isotretinoin_months_ago"), "never", None),
        (("patient", "pregnant"), "yes", True),
        (("patient", "pregnant"), "Y", True),
        (("patient", "pregnant"), "1", True),
        (("patient", "pregnant"), "true", True),
        (("patient", "pregnant"), "no", False),
        (("patient", "pregnant"), "n", False),
        (("patient", "pregnant"), "0", False),
        (("patient", "pregnant"), "", False),
        (("patient", "conditions"), "eczema, rosacea", ["eczema", "rosacea"]),
        (("patient", "conditions"), "eczema; 2, eczema", ["eczema", "rosacea"]),  # numbers too; no repeats
        (("patient", "conditions"), "cold sores (herpes simplex)", ["herpes_simplex"]),
        (("patient", "conditions"), "none", []),
        (("patient", "conditions"), "no", []),
        (("patient", "conditions"), "", []),
        (("patient", "budget"), "", "medium"),
        (("patient", "acne_severity"), "nodular or scarring", "nodular"),  # by its label
        (("patient", "acne_severity"), "2", "moderate"),
        (("patient", "acne_severity"), "", None),
        (("patient", "marks"), "red, brown", ["red", "brown"]),
        (("patient", "marks"), "flat brown marks", ["brown"]),
        (("patient", "marks"), "", []),
        (("patient", "sun_exposure"), "high", "high"),
        (("scar", "distensible"), "y", True),
        (("scar", "distensible"), "no", False),
        (("scar", "distensible"), "", None),  # Enter when unsure
        (("scar", "distensible"), "unknown", None),
    ],
)
def test_parse(q, field, text, value):
    got = parse(question(q, *field), text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (
            ("scar", "type"),
            "icepick",
            "'icepick' is not one of: ice_pick, boxcar, rolling, hypertrophic, keloid, atrophic;"
            " did you mean 'ice_pick'?",
        ),
        (("scar", "type"), "7", "'7' is not one of: ice_pick, boxcar, rolling, hypertrophic, keloid, atrophic"),
        (("scar", "type"), "0", "'0' is not one of:"),
        (("scar", "type"), "none", "'none' is not one of:"),  # not nullable
        (("patient", "budget"), "none", "'none' is not one of: low, medium, high"),
        (("patient", "conditions"), "eczma", "'eczma' is not one of: eczema, rosacea, broken_skin, herpes_simplex"),
        (("patient", "conditions"), "eczema, 9", "'9' is not one of:"),
        (("patient", "age"), "3.5", "expected an integer from 0 to 120"),
        (("patient", "age"), "130", "expected an integer from 0 to 120"),
        (("patient", "age"), "thirty", "expected an integer from 0 to 120"),
        (("patient", "isotretinoin_months_ago"), "-1", "expected a number from 0"),
        (("patient", "downtime_days"), "nan", "expected a number from 0"),
        (("patient", "downtime_days"), "none", "expected a number from 0"),  # not nullable
        (("patient", "pregnant"), "maybe", "answer yes or no (y/n)"),
        (("patient", "pregnant"), "none", "answer yes or no (y/n)"),
    ],
)
def test_a_bad_answer(q, field, text, message):
    with pytest.raises(BadAnswer) as caught:
        parse(question(q, *field), text)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


def test_choices(q):
    assert choices(question(q, "patient", "budget").spec) == ["low", "medium", "high"]
    assert choices(question(q, "patient", "age").spec) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "unknown"),
        ([], "none"),
        (["eczema", "rosacea"], "eczema, rosacea"),
        (True, "yes"),
        (False, "no"),
        (7, "7"),
        (1.5, "1.5"),
        ("medium", "medium"),
    ],
)
def test_show(q, value, shown):
    assert show(question(q, "patient", "budget"), value) == shown
