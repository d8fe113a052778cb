"""``cicatrix kb graph``: the rule dependency graph as Graphviz DOT, Mermaid or SVG.

The whole graph of a real knowledge base is too large to read, so a focus on a
treatment or a rule, with a depth in hops, cuts out the part a person is asking
about.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import completion
from ..options import kb_option

DEFAULT_DEPTH = 2  # around a treatment: the rules that conclude it and what those rules read


@click.command("graph")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dot", "mermaid", "svg"]),
    default="dot",
    show_default=True,
    help="svg needs Graphviz's dot on the PATH.",
)
@click.option(
    "--treatment",
    metavar="ID",
    shell_complete=completion.treatments,
    help="Focus on this treatment (and the combinations it is part of): every rule that recommends, "
    "avoids, cautions or leaves it out, directly or by a tag, and their neighbours.",
)
@click.option("--rule", "rule_id", metavar="RULE", shell_complete=completion.rules, help="Focus on this rule.")
@click.option(
    "--depth",
    metavar="N",
    type=click.IntRange(min=1),
    help=f"With a focus: how many hops from it, upstream and downstream [default: {DEFAULT_DEPTH}].",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE (atomically; - is standard output) instead of standard output.",
)
@kb_option
def graph(
    fmt: str, treatment: str | None, rule_id: str | None, depth: int | None, output: str | None, kb_dir: Path | None
) -> int:
    """Rules -> derived facts -> rules, and rules -> the treatments they recommend, avoid, caution or leave out.

    A rule that acts on every treatment with a tag is drawn with an edge to each
    treatment carrying it. Treatments lead on to the rules that react to their
    being recommended or avoided.

    \b
    Examples:
      cicatrix kb graph --treatment retinoid --format mermaid
      cicatrix kb graph --rule ice-pick/tca-cross --depth 1
      cicatrix kb graph --treatment tca_cross --format svg -o tca.svg   (needs Graphviz)
      cicatrix kb graph | dot -Tsvg > rules.svg
    """
    from ...engine.authoring.rulegraph import build, rule_key, treatment_key
    from ...engine.common.errors import CicatrixError, Problem, did_you_mean
    from ...engine.common.files import write_atomically
    from ...engine.knowledge.loader import load
    from ...render.graph import draw, mermaid_warning

    kb = load(kb_dir)
    problems = []
    if treatment is not None and treatment not in kb.treatments:
        message = f"unknown treatment id {treatment!r}" + did_you_mean(treatment, kb.treatments)
        problems.append(Problem("", None, None, "--treatment", message))
    if rule_id is not None and rule_id not in {r.id for r in kb.rules}:
        message = f"unknown rule id {rule_id!r}" + did_you_mean(rule_id, [r.id for r in kb.rules])
        problems.append(Problem("", None, None, "--rule", message))
    if depth is not None and treatment is None and rule_id is None:
        problems.append(Problem("", None, None, "--depth", "needs a focus: give --treatment ID or --rule RULE"))
    if problems:
        raise CicatrixError(problems)
    picture = build(kb)
    focus = []
    if treatment is not None:
        focus.append(treatment_key(treatment))
    if rule_id is not None:
        focus.append(rule_key(rule_id))
    if focus:
        picture = picture.around(focus, depth or DEFAULT_DEPTH)
    text = draw(picture, fmt, name=kb.name)
    warning = mermaid_warning(picture, "--treatment ID or --rule RULE") if fmt == "mermaid" else None
    if warning:
        click.echo(f"cicatrix: warning: {warning}", err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
    return 0


COMMANDS = [graph]
