"""``cicatrix trace``: replay and question a saved consultation (show, how, why-not, graph, replay)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import completion
from .options import kb_option, text_width
from .options import show as page

TRACE = click.argument("trace_file", metavar="TRACE", type=click.Path(path_type=Path, dir_okay=False))


@click.group("trace")
def group() -> None:
    """Inspect a trace written by `cicatrix consult FILE --trace TRACE`.

    \b
    Examples:
      cicatrix consult examples/mixed-facial-scars.yaml --trace t.json
      cicatrix trace show t.json --rule 'ice-pick/*'
      cicatrix trace how t.json tca_cross
      cicatrix trace how t.json problem-1
      cicatrix trace why-not t.json ablative_fractional_laser
      cicatrix trace graph t.json tca_cross
    """


@group.command("show")
@TRACE
@click.option(
    "--rule",
    "rule_pattern",
    help="Only firings of rules matching this pattern (glob or substring).",
)
@click.option("--fact", help="Only firings that matched or asserted this fact id.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(trace_file: Path, rule_pattern: str | None, fact: str | None, fmt: str) -> int:
    """Every firing in order: rule, salience, matched facts, bindings, what it did."""
    from ..engine.common.errors import CicatrixError, did_you_mean
    from ..engine.explain.tracefile import read
    from ..render import timeline

    trace = read(trace_file)
    if fact and fact not in trace.facts:
        raise CicatrixError.about(
            str(trace_file),
            f"no fact {fact!r} in this trace" + did_you_mean(fact, trace.facts),
        )
    firings = timeline.select(trace, rule_pattern, fact)
    if fmt == "json":
        import json

        rows = [
            {"seq": f.seq, "rule": f.rule, "salience": f.salience, "matched": list(f.matched),
             "bindings": f.bindings, "asserted": list(f.asserted),
             "actions": [{"kind": a.kind, "treatment": a.treatment, "text": a.text} for a in f.actions]}
            for f in firings
        ]  # fmt: skip
        click.echo(json.dumps({"firings": rows}, indent=2, ensure_ascii=False))
    elif sys.stdout.isatty():
        timeline.render_rich(trace, firings)
    else:
        click.echo(timeline.render_plain(trace, firings), nl=False)
    return 0


WIDTH = click.option(
    "--width", type=click.IntRange(40, 200), help="Wrap at this width (default: the terminal's, at most 100; else 88)."
)


@group.command("how")
@TRACE
@click.argument("conclusion", metavar="ID")
@WIDTH
def how(trace_file: Path, conclusion: str, width: int | None) -> int:
    """How ID was concluded: rules and facts, down to the patient's input.

    ID is a recommendation (e.g. tca_cross or tca_cross+microneedling), an avoided
    treatment, an alert, a fact id (e.g. finding-1) or a problem of the plan
    (e.g. problem-1: its choice and why, its alternatives and why each ranks after
    the choice, and what is ruled out for it). A recommendation also says which
    problems it is chosen for or an alternative for.
    """
    from ..engine.explain.how import how as how_tree
    from ..engine.explain.tracefile import read
    from ..render.tree import render

    page(render(how_tree(read(trace_file), conclusion), width=width or text_width()))
    return 0


@group.command("why-not")
@TRACE
@click.argument("treatment", metavar="ID", shell_complete=completion.treatments)
@WIDTH
def why_not(trace_file: Path, treatment: str, width: int | None) -> int:
    """Why ID was not recommended: each rule that could have, and what did not hold.

    For a recommendation, why the plan does not choose it for every problem: ruled
    out there (and by which rule, limited to which values), an alternative ranked
    after the choice (and why), or part of or an add-on to another option.
    """
    from ..engine.explain.tracefile import read
    from ..engine.explain.why_not import why_not as why_not_tree
    from ..render.tree import render

    page(render(why_not_tree(read(trace_file), treatment), width=width or text_width()))
    return 0


@group.command("graph")
@TRACE
@click.argument("conclusion", metavar="[ID]", required=False, shell_complete=completion.treatments)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
    help="svg needs Graphviz's dot on the PATH.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE (atomically; - is standard output) instead of standard output.",
)
def graph(trace_file: Path, conclusion: str | None, fmt: str, output: str | None) -> int:
    """The firings that led to the plan, drawn: patient facts -> firings -> derived facts -> conclusions.

    Each fact and each firing is drawn once, however many conclusions rest on it.
    With ID (a recommendation, an avoided or left-out treatment, an alert or a
    fact id, as for `trace how`), only what led to it.

    \b
    Examples:
      cicatrix trace graph t.json > plan.mmd
      cicatrix trace graph t.json tca_cross
      cicatrix trace graph t.json --format svg -o plan.svg   (needs Graphviz)
    """
    from ..engine.common.files import write_atomically
    from ..engine.explain.derivation import derivation
    from ..engine.explain.tracefile import read
    from ..render.graph import draw, mermaid_warning

    drawing = derivation(read(trace_file), conclusion)
    drawn = draw(drawing, fmt, name=trace_file.name)
    warning = mermaid_warning(drawing, "give one conclusion's ID") if fmt == "mermaid" else None
    if warning:
        click.echo(f"cicatrix: warning: {warning}", err=True)
    if output is None:
        click.echo(drawn, nl=False)
    else:
        write_atomically(output, drawn)
    return 0


@group.command("replay")
@TRACE
@kb_option
def replay(trace_file: Path, kb_dir: Path | None) -> int:
    """Re-resolve the trace's firings and check the plan is the one it recorded."""
    from ..engine.common.errors import CicatrixError
    from ..engine.explain.replay import replay as replay_trace
    from ..engine.explain.tracefile import read
    from ..engine.knowledge.loader import load

    trace = read(trace_file)
    kb = load(kb_dir)
    if kb.digest != trace.kb["digest"]:
        raise CicatrixError.about(
            str(trace_file),
            f"made with knowledge base {trace.kb['digest']}, but the current one is "
            f"{kb.digest}; pass the matching --kb",
        )
    differences = replay_trace(trace, kb)
    if differences:
        click.echo("The replayed plan differs from the recorded one:", err=True)
        for d in differences:
            click.echo(f"  {d}", err=True)
        return 1
    click.echo(f"ok: {len(trace.firings)} firings replay to the recorded plan")
    return 0
