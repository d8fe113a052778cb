"""``cicatrix kb treatment``: one catalogue entry in full."""

from __future__ import annotations

from pathlib import Path

import click

from .. import completion
from ..options import kb_option


@click.command("treatment")
@click.argument("treatment_id", metavar="ID", required=False, shell_complete=completion.treatments)
@kb_option
def treatment(treatment_id: str | None, kb_dir: Path | None) -> int:
    """Everything the catalogue says about treatment ID (all ids when omitted)."""
    from ...engine.common.errors import CicatrixError, Problem, did_you_mean
    from ...engine.common.numbers import plain
    from ...engine.knowledge.loader import load

    kb = load(kb_dir)
    if treatment_id is None:
        for t in kb.treatments.values():
            click.echo(f"{t.id:<32} {t.kind:<13} {t.title}")
        return 0
    if treatment_id not in kb.treatments:
        raise CicatrixError(
            [
                Problem(
                    "",
                    None,
                    None,
                    "ID",
                    f"unknown treatment id {treatment_id!r}" + did_you_mean(treatment_id, kb.treatments),
                )
            ]
        )
    t = kb.treatments[treatment_id]
    lo, hi = (plain(d) for d in (t.downtime_min, t.downtime_max))
    rows = [
        ("kind", t.kind),
        ("summary", t.summary),
        ("best for", "; ".join(t.best_for)),
        ("poor fit", " ".join(t.poor_fit)),
        ("how it works", t.how_it_works),
        ("sessions", " ".join(x for x in (t.sessions, t.interval) if x)),
        ("downtime", f"{lo}-{hi} days"),
        ("results", t.results),
        ("effectiveness", t.effectiveness),
        ("risks", " ".join(t.risks)),
        ("cautions", " ".join(t.cautions)),
        ("cost", t.cost),
        ("evidence", t.evidence),
        ("tags", ", ".join(t.tags)),
        ("sources", ", ".join(f"{s} ({t.source_confidence[s]})" if s in t.source_confidence else s for s in t.sources)),
        ("defined at", str(t.where)),
    ]
    click.echo(f"{t.id}: {t.title}")
    lists = {"best for": t.best_for, "poor fit": t.poor_fit, "risks": t.risks, "cautions": t.cautions}
    for label, value in rows:
        if label in lists:
            for i, item in enumerate(lists[label]):
                click.echo(f"  {label if i == 0 else '':<14}- {item}")
        elif value:
            click.echo(f"  {label:<14}{value}")
    return 0


COMMANDS = [treatment]
