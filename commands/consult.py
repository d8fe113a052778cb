"""``cicatrix consult``: run one consultation from a patient file and print the plan."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click

from ..engine.common.files import STDOUT_NAME, atomic_output, is_stdout, write_atomically
from . import completion
from .options import kb_option, show, store_option, text_width


@click.command("consult")
@click.argument("patient_file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), required=False)
@click.option(
    "--example",
    metavar="NAME",
    shell_complete=completion.examples,
    help="Consult one of the examples that come with cicatrix (see `cicatrix examples`) instead of a file.",
)
@click.option(
    "-i",
    "--interactive",
    is_flag=True,
    help="Ask the questions in the terminal (the default when no file is given); also works from a pipe.",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Interactive only: save the answers as a patient file (atomically), to re-run or trace later.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people; json for programs (the documented contract); markdown for a report.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the plan to this file (atomically) instead of standard output (-).",
)
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Also write the full trace (every firing) to this JSON file, for `cicatrix trace`.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Append how each recommendation was concluded (text and markdown).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list the input and every option considered, ranked and explained (text and markdown).",
)
@click.option("--width", type=click.IntRange(40, 200), help="Wrap text output at this width.")
@store_option("Also record the consultation (patient, plan, trace) in this SQLite store, for `cicatrix history`.")
@kb_option
def command(
    patient_file: Path | None,
    example: str | None,
    interactive: bool,
    save: str | None,
    fmt: str,
    output: str | None,
    trace_file: str | None,
    explain: bool,
    show_all: bool,
    width: int | None,
    store_path: Path | None,
    kb_dir: Path | None,
) -> int:
    """Run a consultation on PATIENT_FILE (YAML or JSON; - reads standard input), or ask the questions.

    With no PATIENT_FILE the consultation is interactive: answer each question,
    type ? for help, why to see which rules use the answer, back to change the
    previous one, quit to stop. --save keeps the answers as a patient file.

    The plan starts with any alerts and a few lines on where to start, then
    groups the scars into problems, each with one choice, up to three
    alternatives and the reasons; a course week by week; home care; what to
    avoid and why; what was left out for your preferences. --all adds every
    option considered. It is decision support, not a diagnosis: a
    dermatologist decides.

    \b
    Examples:
      cicatrix consult --example mixed-facial-scars
      cicatrix consult --save me.yaml
      cicatrix consult - < patient.json
      cicatrix consult patient.yaml --format json -o plan.json
      cicatrix consult patient.yaml --trace trace.json
      cicatrix consult patient.yaml --explain
      cicatrix consult patient.yaml --all
      cicatrix consult patient.yaml --format markdown -o plan.md
      cicatrix consult patient.yaml --store consultations.db
    """
    from ..engine.knowledge.cache import load_cached as load
    from ..engine.resolve.contract import to_dict
    from ..engine.resolve.resolver import plan
    from ..engine.session.session import Session

    if example is not None:
        if patient_file is not None:
            raise click.UsageError("give either PATIENT_FILE or --example NAME, not both")
        if interactive or save:
            raise click.UsageError("--interactive and --save are for consultations without a patient file")
        from .examples import find

        patient_file = find(example)
    if explain and fmt == "json":
        click.echo("cicatrix: warning: --explain does not apply to --format json; ignored", err=True)
    kb = load(kb_dir)
    store = _store(store_path)  # a bad store is refused before any question is asked
    found = _patient(kb, patient_file, interactive, save)
    if found is None:
        return 1  # the person stopped the questionnaire
    patient, patient_file = found
    result = plan(Session(kb), patient)
    result_json = to_dict(result)
    how = _how(kb, result, result_json, patient_file) if explain and fmt != "json" else None
    to_stdout = output is None or is_stdout(output)
    if width is None:
        width = text_width() if to_stdout else 88
    text = _render(fmt, kb, result, result_json, how, width, show_all)
    trace_text = None
    if trace_file is not None:
        from ..engine.explain.tracefile import render as render_trace

        trace_text = render_trace(kb, result, result_json, str(patient_file))
    _write(text, output, trace_text, trace_file)
    if store is not None:
        _record(store, kb, result, result_json, text if fmt == "json" else None, str(patient_file), output)
    return 0


def _store(path: Path | None):
    """The store to record into, opened (and checked, and migrated) now, closed with the command."""
    if path is None:
        return None
    from ..store import open_store

    return click.get_current_context().with_resource(open_store(path))


def _record(store, kb, result, result_json: dict, plan_text: str | None, source: str, output: str | None) -> None:
    """Record the consultation, once its plan is written; a failure now says the plan was written."""
    from dataclasses import replace

    from ..engine.common.errors import CicatrixError
    from ..render.json import render as render_json
    from ..store import consultation

    try:
        store.add(consultation(kb, result, result_json, plan_text or render_json(result_json), source))
    except CicatrixError as exc:
        where = STDOUT_NAME if output is None or is_stdout(output) else output
        *before, last = exc.problems
        note = f"{last.message} (the plan was written to {where}, but not recorded)"
        raise CicatrixError([*before, replace(last, message=note)]) from exc


def _write(text: str, output: str | None, trace_text: str | None, trace_file: str | None) -> None:
    """The plan, then the trace; nothing at all if the plan cannot be written.

    The trace goes to a temporary file first, so a failure to write the plan
    leaves no trace behind; the trace replaces its file only once the plan is
    written, and if that last step fails the error says the plan was written.
    """
    from dataclasses import replace

    from ..engine.common.errors import CicatrixError

    plan_written = False
    try:
        with atomic_output(trace_file) if trace_file is not None else nullcontext() as trace:
            if trace is not None:
                trace.write(trace_text)
                trace.flush()  # a full disk shows here, before the plan is written
            if output is None:
                show(text)
            else:
                write_atomically(output, text)
            plan_written = True
    except CicatrixError as exc:
        if not plan_written:
            raise
        where = STDOUT_NAME if output is None or is_stdout(output) else output
        *before, last = exc.problems
        note = f"{last.message} (the plan was written to {where}, but not the trace)"
        raise CicatrixError([*before, replace(last, message=note)]) from exc


def _patient(kb, patient_file: Path | None, interactive: bool, save: str | None):
    """(patient, where it came from), read from PATIENT_FILE or asked; None when the person quits."""
    if patient_file is not None and (interactive or save):
        raise click.UsageError("--interactive and --save are for consultations without a patient file")
    if patient_file is None:
        return _interview(kb, interactive, save)
    if str(patient_file) == "-":
        return _from_stdin(kb), Path(STDIN_NAME)
    from ..engine.patient.reader import read

    return read(patient_file, kb), patient_file


STDIN_NAME = "<stdin>"


def _from_stdin(kb):
    """The patient from standard input, YAML or JSON, within the size bound of any one file."""
    import sys

    from ..engine.common.errors import CicatrixError
    from ..engine.documents import limits, yamlio
    from ..engine.patient.reader import from_document

    try:
        raw = sys.stdin.buffer.read(limits.MAX_BYTES + 1)
    except OSError as exc:
        raise CicatrixError.about(STDIN_NAME, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limits.MAX_BYTES:
        limit = f"{limits.MAX_BYTES // (1024 * 1024)} MB"
        raise CicatrixError.about(STDIN_NAME, f"larger than the {limit} limit for one file")
    text = limits.decode(raw, STDIN_NAME)
    stripped = text.lstrip()
    doc = yamlio.parse_json(text, STDIN_NAME) if stripped[:1] in ("{", "[") else yamlio.parse(text, STDIN_NAME)
    if doc.data is None:
        raise CicatrixError.about(STDIN_NAME, "standard input is empty; expected a patient file (YAML or JSON)")
    return from_document(doc, kb)


def _how(kb, result, result_json, patient_file: Path) -> dict:
    """How each recommendation was concluded, as trees for --explain."""
    from ..engine.explain.how import how as how_tree
    from ..engine.explain.tracefile import from_result

    trace = from_result(kb, result, result_json, str(patient_file))
    return {r.id: how_tree(trace, r.id) for r in result.recommendations}


def _render(fmt: str, kb, result, result_json, how: dict | None, width: int, show_all: bool) -> str:
    """The plan in the chosen format, with the --explain trees when there are any."""
    if fmt == "json":
        from ..render.json import render as render_json

        return render_json(result_json)
    if fmt == "markdown":
        from ..render.markdown import render as render_markdown

        return render_markdown(result, kb, how, show_all)
    from ..render.text import render as render_text

    text = render_text(result, kb, width=width, show_all=show_all, show_rules=how is not None)
    if how:
        from ..render.tree import render as render_tree

        text += "\nHOW EACH RECOMMENDATION WAS CONCLUDED\n"
        for r in result.recommendations:
            text += "\n" + render_tree(how[r.id], width)
    return text


def _interview(kb, forced: bool, save: str | None):
    """Ask the questionnaire, then validate and (optionally) save the answers; None when the person quits."""
    import sys

    import yaml

    from ..engine.patient.questions import load as load_questions
    from ..engine.patient.questions import to_patient
    from ..engine.patient.reader import from_data
    from . import dialogue

    dialogue.require_terminal(sys.stdin.isatty(), forced)
    questionnaire = load_questions(kb)
    with dialogue.talking():  # the last words go where the questions went (the terminal, if stderr is a file)
        try:
            answers = dialogue.run(kb, questionnaire)
        except dialogue.Quit:
            dialogue.say("\nStopped; nothing was saved.")
            return None
        data = to_patient(questionnaire, answers)
        patient = from_data(data, kb, source=str(save) if save else "<answers>")
        if save is not None:
            header = "# Saved by `cicatrix consult --save`; run it again with `cicatrix consult FILE`.\n"
            write_atomically(save, header + yaml.safe_dump(patient.normalised, sort_keys=False, allow_unicode=True))
            dialogue.say(f"\nSaved your answers to {STDOUT_NAME if is_stdout(save) else save}.")
        dialogue.say("")
    return patient, Path(str(save) if save else "<answers>")
