"""Rule shapes for a fair comparison with CLIPS, each written in both rule languages.

The project's own synthetic knowledge base (:mod:`synthetic`) mixes every condition
form in every rule, so a slow spot in the matcher is averaged away. The shapes here
isolate one form each, so a ratio to CLIPS says which kind of rule is slow:

- ``literals``: one pattern, string, integer and boolean literals;
- ``joins``: 3 to 5 patterns joined on shared variables;
- ``negation``: ``unless`` (CLIPS ``not``), correlated with a bound variable and not;
- ``ranges``: numeric ranges (``gte``/``lte``/``lt``/``gt``), some under a string
  literal, some alone on a value whose domain grows with the rule count;
- ``chains``: chains of five rules, each asserting the derived fact the next matches.

Every rule is described once, in a neutral form (:class:`Rule`), and rendered twice:
as a ``kb/`` folder that :func:`cicatrix.engine.knowledge.loader.load` reads
(:func:`write_kb`) and as CLIPS deftemplates and defrules (:func:`clips_program`).
The patients are generated once and fed to both engines as the same facts
(:func:`clips_facts` writes them for CLIPS, with every slot given, so no default
can differ between the engines). Every firing does the same in both: it asserts a
fact, a recommendation (cicatrix's ``recommend`` action declares one) or the derived
fact of a chain; an identical fact is kept once by both engines.

As in :mod:`synthetic`, the number of distinct literal values grows with the rule
count, so a patient matches about the same number of rules at every size: what
grows is only the knowledge base the matcher must not get lost in, and the growth
of the per-consultation time from 100 to 5,000 rules measures exactly that.

Negations test input facts only, never derived ones, and no rule retracts a fact:
the set of firings is then the same whatever order conflict resolution picks,
which is what lets the two engines' firings be compared as multisets.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TREATMENTS = 20
CHAIN = 5  # rules per chain in the `chains` shape

Scalar = str | int | bool


# --- the neutral form ----------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """A variable: the same name in two patterns joins them."""

    name: str


@dataclass(frozen=True)
class Cmp:
    """A numeric comparison of a field with a number: ``op`` is lt, lte, gt or gte."""

    op: str
    value: int


Constraint = Scalar | Var | tuple[Cmp, ...]  # a literal, a variable, or comparisons all true


@dataclass(frozen=True)
class Pattern:
    template: str
    fields: Mapping[str, Constraint]


@dataclass(frozen=True)
class Rule:
    """One rule: positive patterns, negated patterns, and one action (a recommendation or an assertion)."""

    id: str
    salience: int
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...] = ()
    recommend: str | None = None
    asserts: Pattern | None = None  # fields hold literals or variables bound in `when`


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | boolean
    allowed: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Template:
    """A fact template; ``key`` names its place in the patient file (None: derived by rules)."""

    name: str
    fields: tuple[Field, ...]
    key: str | None = None
    many: bool = False


@dataclass(frozen=True)
class Shape:
    name: str
    title: str
    templates: Callable[[int], tuple[Template, ...]]
    rules: Callable[[int], list[Rule]]
    patients: Callable[[int, int, int], list[dict[str, Any]]]  # (rules, count, seed) -> patients


# --- helpers shared by the shapes ------------------------------------------------------


def _s(name: str, allowed: Iterable[str] | None = None) -> Field:
    return Field(name, "string", tuple(allowed) if allowed is not None else None)


def _i(name: str, lo: int, hi: int) -> Field:
    return Field(name, "integer", minimum=lo, maximum=hi)


def _b(name: str) -> Field:
    return Field(name, "boolean")


def _names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{j}" for j in range(count)]


def _distinct(rng: random.Random, make: Callable[[], dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` distinct facts (CLIPS keeps one of two identical facts; cicatrix keeps input facts apart)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for _ in range(count * 20):
        if len(out) == count:
            break
        fact = make()
        key = tuple(sorted(fact.items()))
        if key not in seen:
            seen.add(key)
            out.append(fact)
    return out


def _recommend(i: int) -> str:
    return f"x{i % TREATMENTS}"


GRADES = ("low", "mid", "high")
ZONES = 4


# --- (a) literals ----------------------------------------------------------------------


def _lit_kinds(n: int) -> int:
    return max(2, n // 8)  # 8 rules per kind


def _lit_templates(n: int) -> tuple[Template, ...]:
    obs = (_s("kind", _names("k", _lit_kinds(n))), _s("grade", GRADES), _i("count", 0, 3), _b("flag"))
    return (Template("obs", obs, key="obs", many=True),)


def _lit_rules(n: int) -> list[Rule]:
    k = _lit_kinds(n)
    out = []
    for i in range(n):
        kind = f"k{(i // 8) % k}"
        tests: dict[str, Constraint] = {"kind": kind}
        family = i % 4
        if family == 0:
            tests["grade"] = GRADES[(i // 4) % 3]
        elif family == 1:
            tests["count"] = (i // 4) % 4
        elif family == 2:
            tests["flag"] = (i // 4) % 2 == 0
        else:
            tests.update(grade=GRADES[(i // 4) % 3], count=(i // 8) % 4, flag=(i // 4) % 2 == 1)
        out.append(Rule(f"r{i}", i % 10, (Pattern("obs", tests),), recommend=_recommend(i)))
    return out


def _lit_patients(n: int, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k = _lit_kinds(n)

    def obs() -> dict[str, Any]:
        return {
            "kind": f"k{rng.randrange(k)}",
            "grade": rng.choice(GRADES),
            "count": rng.randrange(4),
            "flag": rng.random() < 0.5,
        }

    return [{"obs": _distinct(rng, obs, 4)} for _ in range(count)]


# --- (b) joins -------------------------------------------------------------------------


def _join_kinds(n: int) -> int:
    return max(2, n // 6)  # 6 rules per kind


def _join_templates(n: int) -> tuple[Template, ...]:
    zones, regions, climates = _names("z", ZONES), _names("r", 4), _names("c", 3)
    return (
        Template("item", (_s("kind", _names("k", _join_kinds(n))), _s("zone", zones)), key="items", many=True),
        Template("site", (_s("zone", zones), _s("region", regions)), key="sites", many=True),
        Template("region", (_s("name", regions), _s("climate", climates)), key="regions", many=True),
        Template("person", (_s("climate", climates), _i("level", 1, 6)), key="person"),
    )


def _join_rules(n: int) -> list[Rule]:
    k = _join_kinds(n)
    out = []
    for i in range(n):
        a = (i // 6) % k
        width = 3 + i % 3  # 3, 4 or 5 patterns
        patterns = [
            Pattern("item", {"kind": f"k{a}", "zone": Var("z")}),
            Pattern("site", {"zone": Var("z"), "region": Var("r")}),
        ]
        if width == 3:
            patterns.append(Pattern("region", {"name": Var("r"), "climate": f"c{(i // 3) % 3}"}))
        else:
            patterns.append(Pattern("region", {"name": Var("r"), "climate": Var("c")}))
            patterns.append(Pattern("person", {"climate": Var("c")}))
        if width == 5:
            patterns.append(Pattern("item", {"kind": f"k{(a + 1) % k}", "zone": Var("z")}))
        out.append(Rule(f"r{i}", i % 10, tuple(patterns), recommend=_recommend(i)))
    return out


def _join_patients(n: int, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k = _join_kinds(n)
    out = []
    for _ in range(count):
        items = _distinct(rng, lambda: {"kind": f"k{rng.randrange(k)}", "zone": f"z{rng.randrange(ZONES)}"}, 3)
        sites = [{"zone": f"z{j}", "region": f"r{rng.randrange(4)}"} for j in range(ZONES)]
        regions = [{"name": f"r{j}", "climate": f"c{rng.randrange(3)}"} for j in range(4)]
        person = {"climate": f"c{rng.randrange(3)}", "level": rng.randint(1, 6)}
        out.append({"items": items, "sites": sites, "regions": regions, "person": person})
    return out


# --- (c) negation ----------------------------------------------------------------------


def _neg_kinds(n: int) -> int:
    return max(2, n // 4)  # 4 rules per kind


def _neg_templates(n: int) -> tuple[Template, ...]:
    zones = _names("z", ZONES)
    return (
        Template("item", (_s("kind", _names("k", _neg_kinds(n))), _s("zone", zones)), key="items", many=True),
        Template("mark", (_s("zone", zones), _s("kind", _names("m", 4))), key="marks", many=True),
        Template("person", (_b("pregnant"), _b("smoker")), key="person"),
    )


def _neg_rules(n: int) -> list[Rule]:
    k = _neg_kinds(n)
    out = []
    for i in range(n):
        kind = f"k{(i // 4) % k}"
        mark = f"m{(i // 4) % 4}"
        item = Pattern("item", {"kind": kind, "zone": Var("z")})
        family = i % 4
        if family == 0:  # correlated: no mark on the item's zone
            unless: tuple[Pattern, ...] = (Pattern("mark", {"zone": Var("z")}),)
        elif family == 1:  # correlated, with a literal
            unless = (Pattern("mark", {"zone": Var("z"), "kind": mark}),)
        elif family == 2:  # uncorrelated
            item = Pattern("item", {"kind": kind})
            unless = (Pattern("person", {"pregnant": True}),)
        else:  # two negations, one of each
            unless = (Pattern("person", {"smoker": True}), Pattern("mark", {"kind": mark}))
        out.append(Rule(f"r{i}", i % 10, (item,), unless, recommend=_recommend(i)))
    return out


def _neg_patients(n: int, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k = _neg_kinds(n)
    out = []
    for _ in range(count):
        items = _distinct(rng, lambda: {"kind": f"k{rng.randrange(k)}", "zone": f"z{rng.randrange(ZONES)}"}, 3)
        marks = _distinct(
            rng, lambda: {"zone": f"z{rng.randrange(ZONES)}", "kind": f"m{rng.randrange(4)}"}, rng.randint(0, 3)
        )
        person = {"pregnant": rng.random() < 0.2, "smoker": rng.random() < 0.3}
        out.append({"items": items, "marks": marks, "person": person})
    return out


# --- (d) numeric ranges ----------------------------------------------------------------


def _range_kinds(n: int) -> int:
    return max(2, n // 6)  # 6 rules per kind


def _range_top(n: int) -> int:
    return 10 * max(n, 10)  # readings spread over 10 units per rule, so each matches ~1 rule at any size


def _range_templates(n: int) -> tuple[Template, ...]:
    return (
        Template("item", (_s("kind", _names("k", _range_kinds(n))), _i("size", 0, 99)), key="items", many=True),
        Template("person", (_i("age", 15, 80), _i("level", 1, 6)), key="person"),
        Template("reading", (_i("value", 0, _range_top(n)),), key="readings", many=True),
    )


def _range_rules(n: int) -> list[Rule]:
    k = _range_kinds(n)
    out = []
    for i in range(n):
        kind = f"k{(i // 6) % k}"
        family = i % 3
        if family == 0:  # a literal and a closed range
            lo = (i * 7) % 70
            size = (Cmp("gte", lo), Cmp("lte", lo + 30))
            when: tuple[Pattern, ...] = (Pattern("item", {"kind": kind, "size": size}),)
        elif family == 1:  # a literal and an open range, and a range on a second pattern
            age = (Cmp("gte", 18 + i % 30), Cmp("lte", 60 + i % 20))
            when = (
                Pattern("item", {"kind": kind, "size": (Cmp("lt", 50 + i % 50),)}),
                Pattern("person", {"age": age, "level": (Cmp("gt", i % 4),)}),
            )
        else:  # a range alone, a different one for every rule
            when = (Pattern("reading", {"value": (Cmp("gte", i * 10), Cmp("lt", i * 10 + 30))}),)
        out.append(Rule(f"r{i}", i % 10, when, recommend=_recommend(i)))
    return out


def _range_patients(n: int, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k, top = _range_kinds(n), _range_top(n)
    out = []
    for _ in range(count):
        items = _distinct(rng, lambda: {"kind": f"k{rng.randrange(k)}", "size": rng.randrange(100)}, 3)
        readings = _distinct(rng, lambda: {"value": rng.randrange(top)}, 3)
        person = {"age": rng.randint(15, 80), "level": rng.randint(1, 6)}
        out.append({"items": items, "person": person, "readings": readings})
    return out


# --- (e) chains of derived facts -------------------------------------------------------


def _chain_kinds(n: int) -> int:
    return max(2, n // CHAIN // 2)  # 2 chains per kind


def _chain_templates(n: int) -> tuple[Template, ...]:
    zones = _names("z", ZONES)
    return (
        Template("item", (_s("kind", _names("k", _chain_kinds(n))), _s("zone", zones)), key="items", many=True),
        Template("stage", (_s("tag"), _s("zone"))),
    )


def _chain_rules(n: int) -> list[Rule]:
    k = _chain_kinds(n)
    out = []
    for i in range(n):
        group, step = divmod(i, CHAIN)
        tag = f"g{group}s{step}"
        if step == 0:
            when: tuple[Pattern, ...] = (Pattern("item", {"kind": f"k{group % k}", "zone": Var("z")}),)
        elif step < CHAIN - 1:
            when = (Pattern("stage", {"tag": tag, "zone": Var("z")}),)
        else:  # the last link joins back to the input
            when = (Pattern("stage", {"tag": tag, "zone": Var("z")}), Pattern("item", {"zone": Var("z")}))
        if step < CHAIN - 1:
            nxt = Pattern("stage", {"tag": f"g{group}s{step + 1}", "zone": Var("z")})
            out.append(Rule(f"r{i}", i % 10, when, asserts=nxt))
        else:
            out.append(Rule(f"r{i}", i % 10, when, recommend=_recommend(i)))
    return out


def _chain_patients(n: int, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    k = _chain_kinds(n)
    return [
        {"items": _distinct(rng, lambda: {"kind": f"k{rng.randrange(k)}", "zone": f"z{rng.randrange(ZONES)}"}, 3)}
        for _ in range(count)
    ]


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("literals", "one pattern, string/int/bool literals", _lit_templates, _lit_rules, _lit_patients),
        Shape("joins", "3-5 patterns joined on variables", _join_templates, _join_rules, _join_patients),
        Shape("negation", "unless / not, correlated and not", _neg_templates, _neg_rules, _neg_patients),
        Shape("ranges", "numeric ranges gte/lte/lt/gt", _range_templates, _range_rules, _range_patients),
        Shape("chains", f"chains of {CHAIN} derived facts", _chain_templates, _chain_rules, _chain_patients),
    )
}  # fmt: skip


# --- cicatrix's rule language ------------------------------------------------------------


def _yaml_constraint(c: Constraint) -> Any:
    if isinstance(c, Var):
        return f"${c.name}"
    if isinstance(c, tuple):
        return {cmp.op: cmp.value for cmp in c}
    return c


def _yaml_pattern(p: Pattern) -> dict[str, Any]:
    return {p.template: {name: _yaml_constraint(c) for name, c in p.fields.items()}}


def yaml_rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "title": f"{rule.id} of a benchmark shape",
        "salience": rule.salience,
        "when": [_yaml_pattern(p) for p in rule.when],
    }
    if rule.unless:
        out["unless"] = [_yaml_pattern(p) for p in rule.unless]
    if rule.recommend is not None:
        out["then"] = [{"recommend": rule.recommend, "explain": "benchmark"}]
    else:
        assert rule.asserts is not None
        out["then"] = [{"assert": _yaml_pattern(rule.asserts)}]
    out["sources"] = ["bench"]
    return out


def _yaml_field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": f.type, "required": True}
    if f.allowed is not None:
        out["allowed"] = list(f.allowed)
    if f.minimum is not None:
        out["minimum"] = f.minimum
    if f.maximum is not None:
        out["maximum"] = f.maximum
    return out


def write_kb(shape: Shape, root: Path, n: int) -> Path:
    """Write the shape at ``n`` rules as a knowledge-base folder; return the folder."""
    (root / "rules").mkdir(parents=True, exist_ok=True)
    kb = {
        "name": f"shape-{shape.name}-{n}",
        "version": "1",
        "disclaimer": "Benchmark only.",
        "sources": {"bench": {"title": "benchmark shapes", "confidence": "low"}},
    }
    (root / "kb.yaml").write_text(yaml.safe_dump(kb))
    templates: dict[str, Any] = {}
    for t in shape.templates(n):
        spec: dict[str, Any] = {}
        if t.key is not None:
            spec["input"] = {"key": t.key, "many": t.many}
        spec["fields"] = {f.name: _yaml_field(f) for f in t.fields}
        templates[t.name] = spec
    (root / "templates.yaml").write_text(yaml.safe_dump({"templates": templates}, sort_keys=False))
    treatments = {
        f"x{j}": {"title": f"X{j}", "kind": "procedure", "summary": "benchmark", "downtime": {"min": 0, "max": 1},
                  "sources": ["bench"]}
        for j in range(TREATMENTS)
    }  # fmt: skip
    (root / "treatments.yaml").write_text(yaml.safe_dump({"treatments": treatments}, sort_keys=False))
    rules = [yaml_rule(r) for r in shape.rules(n)]
    (root / "rules" / f"{shape.name}.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    return root


# --- CLIPS --------------------------------------------------------------------------------

RECORD_FUNCTION = "bench-fired"


def clips_literal(value: Scalar) -> str:
    """A literal as CLIPS reads it: strings are symbols, booleans TRUE/FALSE."""
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    return str(value)


def _clips_pattern(p: Pattern, fresh: Callable[[], str]) -> str:
    slots = []
    for name, c in p.fields.items():
        if isinstance(c, Var):
            slots.append(f"({name} ?{c.name})")
        elif isinstance(c, tuple):
            v = fresh()
            ops = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
            tests = "".join(f"&:({ops[cmp.op]} {v} {cmp.value})" for cmp in c)
            slots.append(f"({name} {v}{tests})")
        else:
            slots.append(f"({name} {clips_literal(c)})")
    return f"({p.template} {' '.join(slots)})"


def clips_rule(rule: Rule, record: bool = False) -> str:
    """The rule as a defrule. ``record`` binds each positive pattern's fact and reports
    the firing to :data:`RECORD_FUNCTION` (checking only; the timed program never does)."""
    counter = iter(range(1_000_000))

    def fresh() -> str:
        return f"?N{next(counter)}"

    lhs = []
    for j, p in enumerate(rule.when):
        text = _clips_pattern(p, fresh)
        lhs.append(f"?F{j} <- {text}" if record else text)
    lhs.extend(f"(not {_clips_pattern(p, fresh)})" for p in rule.unless)
    if rule.recommend is not None:
        rhs = [f"(assert (recommend (treatment {rule.recommend})))"]
    else:
        assert rule.asserts is not None
        rhs = [f"(assert {_clips_pattern(rule.asserts, fresh)})"]
    if record:
        facts = " ".join(f"?F{j}" for j in range(len(rule.when)))
        rhs.append(f"({RECORD_FUNCTION} {rule.id} {facts})")
    return f"(defrule {rule.id} (declare (salience {rule.salience})) {' '.join(lhs)} => {' '.join(rhs)})"


def clips_program(shape: Shape, n: int, record: bool = False) -> list[str]:
    """Deftemplates and defrules, one construct per string (for ``Environment.build``)."""
    constructs = [
        f"(deftemplate {t.name} {' '.join(f'(slot {f.name})' for f in t.fields)})" for t in shape.templates(n)
    ]
    constructs.append("(deftemplate recommend (slot treatment))")
    constructs.extend(clips_rule(r, record) for r in shape.rules(n))
    return constructs


def patient_facts(shape: Shape, n: int, patient: Mapping[str, Any]) -> list[tuple[str, dict[str, Scalar]]]:
    """The patient's input facts as (template, slots), in the templates' order (cicatrix's order too)."""
    out = []
    for t in shape.templates(n):
        if t.key is None:
            continue
        raw = patient.get(t.key, [] if t.many else {})
        for values in raw if t.many else [raw]:
            out.append((t.name, {f.name: values[f.name] for f in t.fields}))
    return out


def clips_facts(shape: Shape, n: int, patient: Mapping[str, Any]) -> list[str]:
    """The patient's input facts as strings for ``Environment.assert_string``."""
    return [
        f"({name} {' '.join(f'({slot} {clips_literal(v)})' for slot, v in slots.items())})"
        for name, slots in patient_facts(shape, n, patient)
    ]


# --- comparing firings ---------------------------------------------------------------------

Activation = tuple[str, tuple[tuple[Any, ...], ...]]  # (rule id, the facts its positive patterns matched)


def canonical_fact(template: str, values: Mapping[str, Any], slots: Sequence[str]) -> tuple[Any, ...]:
    """A fact by content, the same from either engine: CLIPS symbols become str, TRUE/FALSE bool."""
    out: list[Any] = [template]
    for slot in slots:
        v = values.get(slot)
        if isinstance(v, str):
            v = {"TRUE": True, "FALSE": False, "nil": None}.get(str(v), str(v))
        out.append(v)
    return tuple(out)


def slots_by_template(shape: Shape, n: int) -> dict[str, tuple[str, ...]]:
    out = {t.name: tuple(f.name for f in t.fields) for t in shape.templates(n)}
    out["recommend"] = ("treatment",)
    return out


def cicatrix_activations(consultation: Any, slots: Mapping[str, Sequence[str]]) -> Counter[Activation]:
    """The multiset of (rule, matched facts) of one cicatrix consultation."""
    facts = {f.id: canonical_fact(f.template, f.values, slots[f.template]) for f in consultation.facts}
    return Counter((f.rule, tuple(facts[m] for m in f.matched)) for f in consultation.firings)


def diff_activations(shape: str, n: int, patient: int, ours: Counter[Activation], clips: Counter[Activation]) -> str:
    """A readable account of how two multisets of activations differ ('' when they do not)."""
    if ours == clips:
        return ""
    lines = [f"{shape} at {n} rules, patient {patient}: the engines fired different rules"]
    for label, extra in (("cicatrix only", ours - clips), ("CLIPS only", clips - ours)):
        for (rule, facts), times in sorted(extra.items(), key=repr)[:10]:
            lines.append(f"  {label}: {rule} x{times} on {list(facts)}")
    return "\n".join(lines)


__all__ = [
    "CHAIN",
    "RECORD_FUNCTION",
    "SHAPES",
    "Activation",
    "Cmp",
    "Field",
    "Pattern",
    "Rule",
    "Shape",
    "Template",
    "Var",
    "canonical_fact",
    "cicatrix_activations",
    "clips_facts",
    "clips_literal",
    "clips_program",
    "clips_rule",
    "diff_activations",
    "patient_facts",
    "slots_by_template",
    "write_kb",
    "yaml_rule",
]
