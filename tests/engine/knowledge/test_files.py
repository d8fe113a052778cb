"""The files a knowledge base is made of, and its digest."""

from __future__ import annotations

from cicatrix.engine.knowledge.files import digest, knowledge_files
from cicatrix.engine.knowledge.loader import load

from ...conftest import ONE_RULE

GOOD_RULE = "\n" + ONE_RULE


def test_digest_changes_with_content(make_kb):
    a = load(make_kb(GOOD_RULE, name="a"))
    b = load(make_kb(GOOD_RULE.replace("fine", "fine!"), name="b"))
    c = load(make_kb(GOOD_RULE, name="c"))
    assert a.digest != b.digest
    assert a.digest == c.digest


def test_the_files_of_a_knowledge_base_in_digest_order(make_kb):
    root = make_kb(GOOD_RULE)
    (root / "rules" / "a-first.yaml").write_text("[]\n")
    (root / "rules" / "notes.txt").write_text("not a rule file")
    names = [p.relative_to(root).as_posix() for p in knowledge_files(root)]
    assert names == ["kb.yaml", "templates.yaml", "treatments.yaml", "rules/a-first.yaml", "rules/rules.yaml"]


def test_the_digest_covers_every_knowledge_file_and_nothing_else(make_kb):
    root = make_kb(GOOD_RULE)
    first = digest(root)
    assert first == load(root).digest
    (root / "tests").mkdir()
    (root / "tests" / "cases.yaml").write_text("cases: []\n")
    (root / "rules" / "README.md").write_text("notes")
    assert digest(root) == first  # test cases and notes are not knowledge
    for name in ("kb.yaml", "templates.yaml", "treatments.yaml", "rules/rules.yaml"):
        path = root / name
        before = path.read_bytes()
        path.write_bytes(before + b"\n")
        assert digest(root) != first, name
        path.write_bytes(before)
        assert digest(root) == first


def test_the_digest_depends_on_file_names(make_kb):
    root = make_kb(GOOD_RULE)
    first = digest(root)
    (root / "rules" / "rules.yaml").rename(root / "rules" / "other.yaml")
    assert digest(root) != first
