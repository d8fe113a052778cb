"""The impact report (``kb impact``) as plain text, from its JSON shape.

The text is drawn from the same dictionary ``--format json`` prints, so the two
can never disagree. The order is the order a reviewer reads in: the verdict in
numbers, each option that moved and where, alerts, problems whose choice
changed, patients only one knowledge base can plan, what else differs, the
reasons for the first examples, and last the --fail-on verdict (the last lines
of a CI log).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from ..engine.explain.tree import Node
from .tree import render as render_tree

ABSENT = "absent"


def render(report: dict[str, Any], width: int = 88) -> str:
    out: list[str] = []
    _head(out, report, width)
    _treatments(out, report, width)
    _alerts(out, report, width)
    _choices(out, report, width)
    _problems(out, report, width)
    _invalid(out, report, width)
    _other(out, report, width)
    _reasons(out, report, width)
    _fail_on(out, report, width)
    return "\n".join(out) + "\n"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def _wrap(text: str, indent: str, hang: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False) or [
        indent.rstrip()
    ]


def _kb(side: dict[str, Any]) -> str:
    where = side["path"] if side["path"] is not None else "the bundled knowledge base"
    digest = side["digest"].partition(":")[2] or side["digest"]
    return f"{where}: {side['name']} {side['version']}, digest {digest[:12]}"


def _examples(examples: Iterable[dict[str, Any]], count: int) -> list[str]:
    """The examples' names as the pieces of a list ("a,", "b,", "and 2 more"), never to be split."""
    names = [f"{e['problem']} of {e['patient']}" if e.get("problem") else e["patient"] for e in examples]
    more = count - len(names)
    if more > 0 and names:
        names.append(f"and {more} more")
    return [f"{n}," for n in names[:-1]] + names[-1:]


def _listed(items: list[str], first: str, rest: str, width: int) -> list[str]:
    """Pieces filled into lines, broken between pieces only (a name is never cut in two, unless
    it alone is wider than the line)."""
    lines: list[str] = []
    line = first
    for item in items:
        room = line in (first, rest)
        if room or len(line) + 1 + len(item) <= width:
            line += item if room else " " + item
            continue
        lines.append(line)
        line = rest + item
    lines.append(line)
    out: list[str] = []
    for i, text in enumerate(lines):  # a piece too wide for any line is wrapped after all
        indent = first if i == 0 else rest
        out += _wrap(text[len(indent) :], indent, rest, width) if len(text) > width else [text]
    return out


def _column(labels: Iterable[str], width: int) -> int:
    """One column for a section's labels: the longest, within a third of the width."""
    return min(max((len(label) for label in labels), default=0), width // 3)


def _row(out: list[str], label: str, count: int, examples: list[dict[str, Any]], width: int, column: int) -> None:
    """``label  count  examples...``, the examples wrapped under themselves; a long label has a line of its own."""
    if len(label) > column:
        out.extend(_wrap(label, "    ", "      ", width))
        label = ""
    head = f"    {label:<{column}} {count:>4}  "
    listed = _examples(examples, count)
    if not listed:
        out.append(head.rstrip())
        return
    out.extend(_listed(listed, head, " " * len(head), width))


def _head(out: list[str], r: dict[str, Any], width: int) -> None:
    out.append(f"Impact of the change on {_plural(r['patients'], 'patient')}")
    out.extend(_wrap(_kb(r["from"]), "  from  ", "        ", width))
    out.extend(_wrap(_kb(r["to"]), "  to    ", "        ", width))
    out.append("")
    planned = r["patients"] - r["invalid"]["both"]["patients"]
    line = f"{r['changed']} of {_plural(planned, 'plan')} changed"
    one_side = r["invalid"]["from"]["patients"] + r["invalid"]["to"]["patients"]
    if one_side:
        line += f" ({one_side} of them planned under one knowledge base only)"
    line += f"; {r['unchanged']} unchanged"
    otherwise = r["differ_otherwise"]["plans"]
    if otherwise:
        line += f" ({otherwise} of them {'differs' if otherwise == 1 else 'differ'} in other ways: see below)"
    out.extend(_wrap(line + ".", "", "", width))
    invalid = r["invalid"]
    counts = [(invalid[s]["patients"], w) for s, w in (("from", "--from"), ("to", "--to"), ("both", "either"))]
    if any(n for n, _ in counts):
        parts = [f"{n} only under {w}" if w != "either" else f"{n} under either" for n, w in counts if n]
        out.extend(_wrap(f"Could not be planned: {', '.join(parts)}.", "", "", width))


def _treatments(out: list[str], r: dict[str, Any], width: int) -> None:
    out.append("")
    if not r["treatments"]:
        out.extend(_wrap("TREATMENTS: none moved between a plan's categories", "", "  ", width))
        return
    out.extend(_wrap("TREATMENTS: the plans in which each moved (absent: the plan does not name it)", "", "  ", width))
    column = _column((_move(m) for t in r["treatments"] for m in t["moves"]), width)
    for t in r["treatments"]:
        counts = [f"{k} in {t[k]}" if k == "moved" else f"{k} {'to' if k == 'added' else 'from'} {t[k]}"
                  for k in ("added", "removed", "moved") if t[k]]  # fmt: skip
        title = f" ({t['title']})" if t.get("title") and t["title"] != t["id"] else ""
        out.extend(_wrap(f"{t['id']}{title}: {', '.join(counts)}", "  ", "      ", width))
        for m in t["moves"]:
            _row(out, _move(m), m["plans"], m["examples"], width, column)


def _move(move: dict[str, Any]) -> str:
    return f"{move['from'] or ABSENT} -> {move['to'] or ABSENT}"


def _alerts(out: list[str], r: dict[str, Any], width: int) -> None:
    out.append("")
    if not r["alerts"]:
        out.extend(_wrap("ALERTS: none gained, lost or changed", "", "  ", width))
        return
    out.extend(_wrap("ALERTS: the plans in which each was gained, lost or changed severity", "", "  ", width))
    column = _column((_move(m) for a in r["alerts"] for m in a["moves"]), width)
    for a in r["alerts"]:
        counts = [f"{w} in {a[k]}" for k, w in (("added", "gained"), ("removed", "lost"), ("moved", "changed"))
                  if a[k]]  # fmt: skip
        out.append(f"  {a['id']}: {', '.join(counts)}")
        for m in a["moves"]:
            _row(out, _move(m), m["plans"], m["examples"], width, column)


def _choices(out: list[str], r: dict[str, Any], width: int) -> None:
    out.append("")
    if not r["choices"]:
        out.extend(_wrap("CHOICES: no problem's choice changed", "", "  ", width))
        return
    out.extend(_wrap("CHOICES: the problems whose choice changed (none: nothing fits)", "", "  ", width))
    labels = [f"{c['from'] or 'none'} -> {c['to'] or 'none'}" for c in r["choices"]]
    column = _column(labels, width)
    for label, c in zip(labels, r["choices"], strict=True):
        _row(out, label, c["problems"], c["examples"], width, column)


def _problems(out: list[str], r: dict[str, Any], width: int) -> None:
    if not any(t["problems"] for t in r["problems"].values()):
        return
    out.append("")
    out.extend(_wrap("PROBLEMS: the problems that changed otherwise", "", "  ", width))
    words = {
        "alternatives": "alternatives changed",
        "ruled_out": "ruled out changed",
        "new": "new (grouped differently)",
        "gone": "gone (under --from only)",
    }
    column = _column((words.get(a, a) for a in r["problems"]), width)
    for aspect, tally in r["problems"].items():
        if tally["problems"]:
            _row(out, words.get(aspect, aspect), tally["problems"], tally["examples"], width, column)


def _invalid(out: list[str], r: dict[str, Any], width: int) -> None:
    sides = [(s, r["invalid"][s]) for s in ("to", "from", "both") if r["invalid"][s]["patients"]]
    if not sides:
        return
    out.append("")
    out.extend(_wrap("NOT PLANNED: patients a knowledge base rejects", "", "  ", width))
    words = {"from": "only under --from", "to": "only under --to", "both": "under either"}
    column = _column((words[side] for side, _ in sides), width)
    for side, tally in sides:
        _row(out, words[side], tally["patients"], tally["examples"], width, column)
        for example in tally["examples"][:1]:
            found = example["problems"]
            sides = [("both:", found["from"])] if found["from"] == found["to"] else [
                ("--from:", found["from"]), ("--to:", found["to"])]  # fmt: skip
            for label, problems in sides:
                for problem in problems[:3]:
                    out.extend(_wrap(problem, f"      {label:<8}", " " * 16, width))


def _other(out: list[str], r: dict[str, Any], width: int) -> None:
    if not r["other_differences"]:
        return
    out.append("")
    out.extend(
        _wrap(
            "OTHER DIFFERENCES: JSON parts that differ in any plan (wording, ranks, the course...)",
            "",
            "  ",
            width,
        )
    )
    listed = ", ".join(f"{d['part']} in {d['plans']}" for d in r["other_differences"])
    out.extend(_wrap(listed, "  ", "  ", width))
    otherwise = r["differ_otherwise"]
    if otherwise["plans"]:
        text = f"{_plural(otherwise['plans'], 'plan')} that did not change otherwise: "
        out.extend(_listed(text.split() + _examples(otherwise["examples"], otherwise["plans"]), "  ", "    ", width))


def _reasons(out: list[str], r: dict[str, Any], width: int) -> None:
    found: list[tuple[str, dict[str, Any]]] = []
    for section in ("treatments", "alerts"):
        for t in r[section]:
            for m in t["moves"]:
                head = f"{t['id']}: {m['from'] or ABSENT} -> {m['to'] or ABSENT}"
                found += [(f"{head}, in {e['patient']}", e["reason"]) for e in m["examples"] if e.get("reason")]
    for c in r["choices"]:
        head = f"choice {c['from'] or 'none'} -> {c['to'] or 'none'}"
        found += [
            (f"{head}, in {e['problem']} of {e['patient']}", e["reason"]) for e in c["examples"] if e.get("reason")
        ]
    if not found:
        return
    out.append("")
    out.extend(_wrap("WHY: as `cicatrix trace how` (or `why-not`) answers under --to", "", "  ", width))
    for title, tree in found:
        out.append("")
        out.extend(_wrap(title, "  ", "    ", width))
        text = render_tree(_node(tree), width=width - 4)
        out.extend(f"    {line}" for line in text.rstrip("\n").split("\n"))


def _node(tree: dict[str, Any]) -> Node:
    return Node(tree["text"], [_node(c) for c in tree["children"]])


def _fail_on(out: list[str], r: dict[str, Any], width: int) -> None:
    if not r["fail_on"]:
        return
    out.append("")
    out.append("FAIL-ON")
    for f in r["fail_on"]:
        if f["met"]:
            listed = _examples(({"patient": p} for p in f["examples"]), f["plans"])
            text = f"{f['condition']}: met in {_plural(f['plans'], 'plan')}:"
            out.extend(_listed([*text.split(), *listed], "  ", "      ", width))
        else:
            out.extend(_wrap(f"{f['condition']}: not met", "  ", "      ", width))
    met = sum(1 for f in r["fail_on"] if f["met"])
    out.append(f"{met} of {_plural(len(r['fail_on']), 'condition')} met: exit status {r['status']}")
