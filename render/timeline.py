"""``trace show``: the firings of a consultation as a readable timeline.

A table through rich when the output is a terminal (columns that fit the
window), plain aligned text otherwise, so that pipes, files and tests see stable
output.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ..engine.explain.tracefile import Trace
from ..engine.session.records import Firing


def select(trace: Trace, rule_pattern: str | None, fact: str | None) -> list[Firing]:
    out = []
    for firing in trace.firings:
        if rule_pattern and not fnmatchcase(firing.rule, rule_pattern) and rule_pattern not in firing.rule:
            continue
        if fact and fact not in firing.matched and fact not in firing.asserted:
            continue
        out.append(firing)
    return out


def _did(firing: Firing) -> str:
    parts = []
    for a in firing.actions:
        if a.kind == "assert":
            parts.append(f"assert {a.fact}" if a.fact else "assert (already known)")
        elif a.kind in ("recommend", "avoid", "caution"):
            parts.append(f"{a.kind} {a.treatment}")
        elif a.kind == "combine":
            parts.append("combine " + "+".join(a.components))
        else:
            parts.append("note")
    return "; ".join(parts)


def rows(trace: Trace, firings: list[Firing]) -> list[tuple[str, ...]]:
    out = []
    for f in firings:
        bindings = ", ".join(f"${k}={_short(v)}" for k, v in f.bindings.items())
        out.append(
            (
                str(f.seq),
                f.rule,
                str(f.salience),
                ", ".join(f.matched) or "-",
                bindings or "-",
                _did(f),
            )
        )
    return out


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


HEADERS = ("#", "rule", "sal", "matched", "bindings", "did")


def render_plain(trace: Trace, firings: list[Firing]) -> str:
    table = [HEADERS, *rows(trace, firings)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS) - 1)]
    lines = []
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    kb = f"{trace.kb['name']} {trace.kb['version']}"
    head = f"{len(firings)} of {len(trace.firings)} firings  ({kb}, {trace.patient_file})"
    return head + "\n" + "\n".join(line.rstrip() for line in lines) + "\n"


def render_rich(trace: Trace, firings: list[Firing]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(firings)} of {len(trace.firings)} firings - {trace.patient_file}")
    for h in HEADERS:
        table.add_column(h, overflow="fold", justify="right" if h in ("#", "sal") else "left")
    for r in rows(trace, firings):
        table.add_row(*r)
    Console().print(table)
