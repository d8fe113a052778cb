"""The house rules of the code base, as tests: the pipeline's import contract and a
domain-free engine.

The folders of ``engine/`` are the stages of the pipeline, in the order data flows
through them. A stage may import an earlier stage (or ``common``), never a later
one; nothing under ``engine/`` imports click, rich, a command, a renderer or the
store; the store (``store/``, persistence) imports no command or renderer; and no
import cycle exists anywhere in the package. A second test keeps the engine
free of the bundled knowledge base's vocabulary, so another domain's knowledge
base would load with no code change.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ENGINE = REPO / "engine"

# The stages in pipeline order. Stages of equal rank are siblings: neither may
# import the other.
STAGES = {
    "common": 0,
    "documents": 1,
    "knowledge": 2,
    "patient": 3,
    "compile": 4,
    "match": 5,
    "session": 6,
    "resolve": 7,
    "explain": 8,
    "authoring": 8,
}
FORBIDDEN_IN_ENGINE = ("click", "rich", "cicatrix.commands", "cicatrix.render", "cicatrix.cli", "cicatrix.store")
# The store is persistence beside the engine, as the renderers are presentation: it may
# use the engine, and nothing of the command line or of how plans are printed.
FORBIDDEN_IN_STORE = ("click", "rich", "cicatrix.commands", "cicatrix.render", "cicatrix.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("cicatrix", *parts))


def _package_modules() -> dict[str, Path]:
    found = {}
    for folder in ("engine", "commands", "render", "store"):
        for path in (REPO / folder).rglob("*.py"):
            found[_module_name(path)] = path
    found["cicatrix.cli"] = REPO / "cli.py"
    return found


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of everything the module imports, at any depth (lazy imports too)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


MODULES = _package_modules()
IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "engine" and parts[2] in STAGES else None


def test_every_engine_folder_is_a_known_stage():
    folders = {p.name for p in ENGINE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == set(STAGES), "add the new stage to STAGES (and the README's architecture map)"
    assert not [p.name for p in ENGINE.glob("*.py") if p.name != "__init__.py"], "engine/ holds stage folders only"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("cicatrix.engine")))
def test_engine_imports_no_interface_code(module):
    bad = sorted(i for i in IMPORTS[module] if any(i == f or i.startswith(f + ".") for f in FORBIDDEN_IN_ENGINE))
    assert not bad, f"{module} imports {bad}: commands and renderers live outside engine/"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("cicatrix.store")))
def test_the_store_imports_no_interface_code(module):
    bad = sorted(i for i in IMPORTS[module] if any(i == f or i.startswith(f + ".") for f in FORBIDDEN_IN_STORE))
    assert not bad, f"{module} imports {bad}: the store is persistence; commands decide what to print"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _stage(m)))
def test_a_stage_imports_only_earlier_stages(module):
    mine = _stage(module)
    later = sorted(
        i for i in IMPORTS[module] if (s := _stage(i)) and s != mine and STAGES.get(s, 99) >= STAGES[mine]
    )  # fmt: skip
    assert not later, f"{module} (stage {mine}) imports {later}, a later or sibling stage"


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in IMPORTS.items():
        targets = set()
        for name in imported:
            while name and name not in MODULES:  # `from pkg import module` or `pkg.module.name`
                name = name.rsplit(".", 1)[0] if "." in name else ""
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    # A package's __init__ importing its own modules is not a cycle worth the name;
    # everything else is.
    graph = {m: {t for t in ts if not (m.endswith("__init__") or t.startswith(m + "."))} for m, ts in _edges().items()}
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_the_contract_checker_finds_a_planted_violation(tmp_path):
    """The checks above are only worth their green if they can go red."""
    planted = {
        "cicatrix.engine.knowledge.x": {"cicatrix.engine.resolve.result", "click"},
        "cicatrix.engine.resolve.result": {"cicatrix.engine.knowledge.x"},
    }
    assert _stage("cicatrix.engine.knowledge.x") == "knowledge"
    assert STAGES["resolve"] > STAGES["knowledge"]
    assert _cycle({k: set(v) & set(planted) for k, v in planted.items()}) is not None


# --- no domain words in the engine ----------------------------------------------------

# Words that name the bundled domain even where the knowledge base does not list them.
DOMAIN_WORDS = {
    *("scar", "scars", "acne", "retinoid", "retinoids", "keloid", "keloids", "dermatologist", "dermatology"),
    *("skin", "pregnancy", "pregnant", "isotretinoin", "laser", "peel", "microneedling", "prp", "tca"),
}
# Ordinary English or Python words that also happen to be values of the bundled
# knowledge base (a body site "back", a severity "deep", a budget "low"): the
# engine uses them in their ordinary sense (go back, deep copy, the engine's own
# low/medium/high confidence scale), so they cannot mark domain knowledge.
ORDINARY = {"back", "other", "deep", "normal", "low", "medium", "high", "none", "red", "brown", "realistic"}


def _vocabulary() -> set[str]:
    kb = REPO / "kb"
    words = set(DOMAIN_WORDS)
    templates = yaml.safe_load((kb / "templates.yaml").read_text(encoding="utf-8"))["templates"]
    for spec in templates.values():
        for field in spec["fields"].values():
            words.update(v for v in field.get("allowed", []) if isinstance(v, str))
    treatments = yaml.safe_load((kb / "treatments.yaml").read_text(encoding="utf-8"))["treatments"]
    words.update(treatments)
    for entry in treatments.values():
        words.update(entry.get("tags", []))
    return {w.lower() for w in words} - ORDINARY


def test_engine_speaks_no_domain_words():
    vocabulary = _vocabulary()
    assert {"tca_cross", "ice_pick", "scar", "cheeks", "eczema"} <= vocabulary  # the list is the real one
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for word in re.findall(r"[A-Za-z][A-Za-z0-9_]*", line):
                if word.lower() in vocabulary:
                    found.append(f"{path.relative_to(REPO)}:{number}: {word!r} in {line.strip()[:80]!r}")
    assert not found, "domain words under engine/ (move the text to kb/ or the command layer):\n" + "\n".join(found)
