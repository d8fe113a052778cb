"""The numbered reference list: publications in place of a digest, numbered in reading order."""

from __future__ import annotations

from cicatrix.engine.patient.reader import read
from cicatrix.engine.resolve.references import works
from cicatrix.engine.resolve.resolver import plan

from ...conftest import EXAMPLES


def consult_example(session, kb, name: str):
    return plan(session, read(EXAMPLES / name, kb))


SHEET = "clinical-facts.md"


def test_a_sheet_section_is_cited_as_the_publications_it_names(kb):
    assert works(kb, f"{SHEET}#T01")[:2] == ("S9", "S8")  # Khunger, then Lee 2002
    assert works(kb, f"{SHEET}#C10") == ("S7", "S6")  # the two 2017 isotretinoin consensus papers
    assert "ASDS" in kb.publications["S6"].title and "2017" in kb.publications["S6"].title
    assert kb.publications["S8"].title.startswith("Lee JB")


def test_a_document_without_sections_is_cited_as_itself(kb):
    article = next(name for name, doc in kb.sources.items() if name.endswith(".txt"))
    assert works(kb, f"{article}#anything") == (article,)
    assert works(kb, article) == (article,)


def test_every_anchor_the_rules_cite_on_the_sheet_maps_to_works_a_reader_can_find(kb):
    cited = {ref for rule in kb.rules for ref in rule.sources if ref.startswith(f"{SHEET}#")}
    assert cited
    for ref in cited:
        for wid in works(kb, ref):
            assert wid != SHEET, ref
            assert wid in kb.publications or wid in kb.sources, (ref, wid)


def test_references_are_numbered_from_one_in_reading_order_and_each_cited(kb, session):
    result = consult_example(session, kb, "mixed-facial-scars.yaml")
    refs = result.references
    assert [r.n for r in refs] == list(range(1, len(refs) + 1))
    assert len({r.id for r in refs}) == len(refs)
    # the first problem's citations come first after any alerts, so its numbers start at 1
    first = result.plan.problems[0]
    assert result.numbers(first.citations)[0] == 1 and not result.alerts
    # the sheet itself is never a reference: its sections' publications stand in for it
    assert SHEET not in {r.id for r in refs}
    lee = next(r for r in refs if r.id == "S8")
    assert lee.confidence == "medium" and f"{SHEET}#T01" in lee.cited_as
    # every citation anywhere in the plan has a number
    everything = [c for r in result.recommendations for c in r.citations]
    everything += [c for p in result.plan.problems for c in p.citations]
    everything += [c for a in result.avoid for c in a.citations]
    assert all(result.numbers([c]) for c in everything)


def test_numbers_are_deterministic(kb, session):
    a = consult_example(session, kb, "mixed-facial-scars.yaml").references
    b = consult_example(session, kb, "mixed-facial-scars.yaml").references
    assert a == b
