"""Loading a knowledge base: the bundled one loads; a broken one is reported with file:line and a suggestion."""

from __future__ import annotations

import pytest

from cicatrix.engine.common.errors import CicatrixError
from cicatrix.engine.knowledge.loader import load

from ...conftest import ONE_RULE, TEMPLATES, TREATMENTS

GOOD_RULE = "\n" + ONE_RULE


def test_bundled_kb_loads(kb):
    assert kb.name == "cicatrix-acne-scars"
    assert kb.digest.startswith("sha256:") and len(kb.digest) == 71
    ids = [r.id for r in kb.rules]
    assert len(ids) == len(set(ids))
    for rule in kb.rules:
        assert rule.sources, rule.id


def test_every_rule_cites_a_declared_source(kb):
    for rule in kb.rules:
        for ref in rule.sources:
            assert ref.split("#")[0] in kb.sources


def problems_of(root) -> str:
    with pytest.raises(CicatrixError) as info:
        load(root)
    return info.value.render()


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            GOOD_RULE.replace("ice_pick", "icepick"),
            ["rules.yaml:4:", "'icepick' can never match", "did you mean 'ice_pick'"],
        ),
        (
            GOOD_RULE.replace("scar:", "scra:"),
            ["rules.yaml:4:", "unknown template 'scra'", "did you mean 'scar'"],
        ),
        (
            GOOD_RULE.replace("type:", "tpye:"),
            ["rules.yaml:4:", "has no field 'tpye'", "did you mean 'type'"],
        ),
        (
            GOOD_RULE.replace("alpha", "alpah"),
            ["rules.yaml:6:", "unknown treatment id 'alpah'", "did you mean 'alpha'"],
        ),
        (
            GOOD_RULE.replace("explain", "explian"),
            ["rules.yaml:", "unknown key 'explian'", "did you mean 'explain'"],
        ),
        (
            GOOD_RULE.replace("src.txt", "scr.txt"),
            ["rules.yaml:8:", "unknown source 'scr.txt'", "did you mean 'src.txt'"],
        ),
        (GOOD_RULE + GOOD_RULE, ["rules.yaml:10:", "duplicate rule id 'ok'", "first defined at"]),
        (GOOD_RULE.replace("recommend: alpha", "recommend: never"), ["catalogued as unsafe"]),
        (GOOD_RULE.replace("fine", "fine on the {$site}"), ["{$site} is not bound"]),
        (GOOD_RULE.replace("recommend: alpha", "recommend: $t"), ["$t is not bound"]),
        (
            GOOD_RULE.replace("when: [{scar: {type: ice_pick}}]", "when: [{patient: {level: {gt: high}}}]"),
            ["rules.yaml:4:", "expected a number or a variable"],
        ),
        (
            GOOD_RULE.replace("{type: ice_pick}", "{type: {contains: ice_pick}}"),
            ["'contains' applies to list fields"],
        ),
        (GOOD_RULE.replace("  title: ok\n", ""), ["rules.yaml:2:", "missing required key 'title'"]),
        (
            GOOD_RULE.replace("    - recommend: alpha\n      explain: fine\n", "    - recomend: alpha\n"),
            ["rules.yaml:6:", "expected one of the keys: recommend, avoid"],
        ),
        ("- id: [unclosed\n", ["rules.yaml:2:", "not valid YAML"]),
        (
            GOOD_RULE.replace("when: [{scar: {type: ice_pick}}]", "when: [{patient: {level: 9}}]"),
            ["9 can never match patient.level", "from 1 to 6"],
        ),
        (
            GOOD_RULE.replace(
                "    - recommend: alpha\n      explain: fine\n",
                "    - assert: {patient: {level: 2}}\n",
            ),
            ["rules may only assert derived facts"],
        ),
    ],
)
def test_broken_rule_files(make_kb, rules, expected):
    text = problems_of(make_kb(rules))
    for part in expected:
        assert part in text, text
    assert "Traceback" not in text


def test_all_problems_in_one_pass(make_kb):
    rules = GOOD_RULE.replace("ice_pick", "icepick").replace("alpha", "alpah")
    text = problems_of(make_kb(rules))
    assert "'icepick'" in text and "'alpah'" in text


def test_broken_templates_and_catalogue(make_kb):
    text = problems_of(
        make_kb(
            GOOD_RULE,
            templates=TEMPLATES.replace("default: 3}", "default: 9}"),
            treatments=TREATMENTS.replace("{min: 1, max: 3}", "{min: 4, max: 3}").replace(
                "not_same_night_as: [delta]", "not_same_night_as: [detla]"
            ),
        )
    )
    assert "templates.yaml:6:" in text and "default 9 is not an integer from 1 to 6" in text
    assert "treatments.yaml:" in text and "'min' is greater than 'max'" in text
    assert "unknown treatment id 'detla'; did you mean 'delta'" in text


def test_a_bound_treatment_id_reads_as_its_name_in_a_text(kb):
    # whichever built-in fact binds it (treatment, recommend, avoid), mid-sentence
    for template, field in (("treatment", "id"), ("recommend", "treatment"), ("avoid", "treatment")):
        spec = kb.templates[template].fields[field]
        assert spec.label("retinoid") == "retinoid"  # 'Retinoid' lowercased
        assert spec.label("aha") == "AHA exfoliant"  # an acronym stays


def test_catalogue_names_are_loaded_and_the_short_name_comes_first(kb):
    assert kb.treatments["retinoid"].mentions == ("Retinoid", "tretinoin", "adapalene", "tazarotene")
    assert kb.treatments["tca_cross"].mentions == ("TCA CROSS",)  # no short name: the title


SECTIONED = """\
name: test-kb
version: "1"
disclaimer: Decision support only; a dermatologist decides.
sources:
  src.txt: {title: A source, confidence: medium}
  sheet.md:
    title: A digest
    confidence: medium
    sections:
      T01: [P1, src.txt]
publications:
  P1: {title: "Author A. A paper. J 2002", confidence: medium-high, kind: "Trial, n=40"}
"""


def _cites(ref: str) -> str:
    return ONE_RULE.replace("sources: [src.txt]", f"sources: [{ref}]")


def test_a_digest_lists_its_sections_and_the_works_each_names(make_kb):
    kb = load(make_kb(_cites("sheet.md#T01"), manifest=SECTIONED))
    assert kb.sources["sheet.md"].sections == {"T01": ("P1", "src.txt")}
    assert kb.publications["P1"].title == "Author A. A paper. J 2002"
    assert (kb.publications["P1"].confidence, kb.publications["P1"].kind) == ("medium-high", "Trial, n=40")


def test_a_section_the_digest_does_not_list_is_refused_with_a_did_you_mean(make_kb):
    with pytest.raises(CicatrixError) as info:
        load(make_kb(_cites("sheet.md#T0l"), manifest=SECTIONED))
    message = str(info.value)
    assert "rules.yaml:" in message
    assert "section 'T0l' of 'sheet.md' is not listed under sources.sheet.md.sections" in message
    assert "did you mean 'T01'?" in message


def test_a_section_naming_an_unknown_work_is_refused_where_it_is_named(make_kb):
    manifest = SECTIONED.replace("T01: [P1, src.txt]", "T01: [P2, src.txt]")
    with pytest.raises(CicatrixError) as info:
        load(make_kb(_cites("sheet.md#T01"), manifest=manifest))
    message = str(info.value)
    assert "kb.yaml:10:13: sources.sheet.md.sections.T01[0]: unknown publication 'P2'" in message


def test_publication_grades_are_checked_by_the_schema(make_kb):
    manifest = SECTIONED.replace("confidence: medium-high", "confidence: very high")
    with pytest.raises(CicatrixError) as info:
        load(make_kb(_cites("sheet.md#T01"), manifest=manifest))
    assert "publications.P1.confidence" in str(info.value) or "'very high'" in str(info.value)


def test_a_field_name_with_a_double_underscore_is_refused_where_it_is_written(make_kb):
    # The engine reads "__" in a pattern's field as a path into a nested value and
    # refuses to declare a fact with such a key: it must never get that far.
    text = problems_of(make_kb(GOOD_RULE, templates=TEMPLATES.replace("      level:", "      lev__el:")))
    assert "templates.yaml:6:7:" in text and "'lev__el' is not a lower-case field name" in text
