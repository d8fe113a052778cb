"""``cicatrix kb list`` and ``cicatrix kb show``: browse rules as an author."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import completion
from ..options import kb_option

if TYPE_CHECKING:  # the engine is imported lazily, to keep the command line's start fast
    from ...engine.knowledge.model import Action, KnowledgeBase, Rule


@click.command("list")
@click.option(
    "--treatment",
    metavar="ID",
    shell_complete=completion.treatments,
    help="Only rules that can recommend, avoid, caution, leave out or combine this treatment: by its id, or "
    "by a tag or kind it has (as `kb graph --treatment` draws them).",
)
@click.option(
    "--where",
    "wheres",
    metavar="FIELD=VALUE",
    multiple=True,
    help="Only rules that test FIELD (template.field) for VALUE, or target VALUE when FIELD is the field "
    "kb.yaml's targets name; e.g. scar.type=ice_pick or patient.pregnant=true. Repeat to require several.",
)
@click.option("--file", "file_pattern", help="Only rules from files matching this glob (e.g. '*combinations*').")
@click.option("--template", help="Only rules with a pattern on this template.")
@kb_option
def list_rules(
    treatment: str | None,
    wheres: tuple[str, ...],
    file_pattern: str | None,
    template: str | None,
    kb_dir: Path | None,
) -> int:
    """One line per rule: id, salience, where it is defined, title."""
    from ...engine.authoring.dependencies import concludes_about
    from ...engine.common.errors import CicatrixError, Problem, did_you_mean
    from ...engine.knowledge.loader import load

    kb = load(kb_dir)
    if treatment and treatment not in kb.treatments:
        raise CicatrixError(
            [
                Problem(
                    "",
                    None,
                    None,
                    "--treatment",
                    f"unknown treatment id {treatment!r}" + did_you_mean(treatment, kb.treatments),
                )
            ]
        )
    if template and template not in kb.templates:
        raise CicatrixError.about(
            "", f"--template: unknown template {template!r}" + did_you_mean(template, kb.templates)
        )
    if file_pattern:
        files = sorted({r.where.file for r in kb.rules})
        if not any(fnmatchcase(f, file_pattern) or fnmatchcase(Path(f).name, file_pattern) for f in files):
            names = [Path(f).name for f in files]
            raise CicatrixError.about(
                "",
                f"--file: no rule file matches {file_pattern!r}; the rule files are {', '.join(names)}"
                + did_you_mean(file_pattern, names),
            )
    conditions = [_condition(kb, text) for text in wheres]
    shown = 0
    for rule in kb.rules:
        if treatment and not concludes_about(kb, rule, treatment):
            continue
        if template and not any(p.template == template for p in rule.patterns):
            continue
        if (
            file_pattern
            and not fnmatchcase(rule.where.file, file_pattern)
            and not fnmatchcase(Path(rule.where.file).name, file_pattern)
        ):
            continue
        if not all(_mentions(kb, rule, *condition) for condition in conditions):
            continue
        shown += 1
        click.echo(f"{rule.id:<48} {rule.salience:>4}  {rule.where!s:<36} {rule.title}")
    click.echo(f"{shown} of {len(kb.rules)} rules")
    if not shown and wheres:
        what = wheres[0] if len(wheres) == 1 else "all of " + ", ".join(wheres)
        click.echo(f"(no rule tests or targets {what})", err=True)
    return 0


def _condition(kb, text: str) -> tuple[str, str, Any]:
    """``--where TEMPLATE.FIELD=VALUE`` -> (template, field, value as the field holds it)."""
    from ...engine.common.errors import CicatrixError, Problem, did_you_mean

    def bad(message: str) -> CicatrixError:
        return CicatrixError([Problem("", None, None, "--where", message)])

    field_text, equals, raw = text.partition("=")
    template_name, dot, field_name = field_text.strip().partition(".")
    if not equals or not dot:
        raise bad(f"expected FIELD=VALUE with FIELD as template.field (e.g. scar.type=ice_pick), got {text!r}")
    if template_name not in kb.templates:
        raise bad(f"unknown template {template_name!r}" + did_you_mean(template_name, kb.templates))
    fields = kb.templates[template_name].fields
    if field_name not in fields:
        raise bad(f"template {template_name!r} has no field {field_name!r}" + did_you_mean(field_name, fields))
    spec = fields[field_name]
    value = _value(spec, raw.strip())
    if not spec.accepts(value):
        raise bad(
            f"{raw.strip()!r} is not a value of {field_text.strip()}: expected {spec.describe_allowed()}"
            + did_you_mean(raw.strip(), spec.allowed or ())
        )
    return template_name, field_name, value


def _value(spec, text: str) -> Any:
    """The command line's text as the field's type holds it (a list field: one item)."""
    from ...engine.patient.batchio import value_from_text

    return text if spec.type == "list" else value_from_text(spec, text)


def _mentions(kb, rule, template: str, field: str, value: Any) -> bool:
    """Whether ``rule`` tests ``template.field`` for ``value`` or, for the targets field, targets it."""
    from ...engine.knowledge.constraints import same
    from ...engine.knowledge.model import Var

    if kb.targets == (template, field) and any(
        not isinstance(t, Var) and same(t, value) for action in rule.then for t in action.targets
    ):
        return True
    for p in rule.patterns:
        if p.template != template:
            continue
        for c in p.constraints:
            if c.field != field:
                continue
            for t in c.tests:
                if t.op not in ("eq", "any", "in", "contains") or isinstance(t.value, Var):
                    continue
                if any(same(v, value) for v in (t.value if isinstance(t.value, tuple) else (t.value,))):
                    return True
    return False


@click.command("show")
@click.argument("rule_id", metavar="RULE", shell_complete=completion.rules)
@kb_option
def show(rule_id: str, kb_dir: Path | None) -> int:
    """A rule in full: where it is, what it reads, concludes and asserts, and which rules feed it or depend on it."""
    from ...engine.authoring.dependencies import build, reads
    from ...engine.common.errors import CicatrixError, Problem, did_you_mean
    from ...engine.knowledge.constraints import words
    from ...engine.knowledge.loader import load
    from ...engine.knowledge.model import Var

    kb = load(kb_dir)
    ids = [r.id for r in kb.rules]
    if rule_id not in ids:
        raise CicatrixError([Problem("", None, None, "RULE", f"no rule {rule_id!r}" + did_you_mean(rule_id, ids))])
    rule = kb.rule(rule_id)
    graph = build(kb)
    out = [f"{rule.id}: {rule.title}", f"  defined at  {rule.where}", f"  salience    {rule.salience}"]
    out.append(f"  sources     {', '.join(rule.sources)}")
    for label, patterns in (("when", rule.when), ("unless", rule.unless)):
        if not patterns and label == "when":
            out.append("  when        (always: no conditions)")
        for i, p in enumerate(patterns):
            specs = kb.templates[p.template].fields
            parts = []
            for c in p.constraints:
                for t in c.tests:
                    if isinstance(t.value, Var) and t.op in ("eq", "bind"):
                        parts.append(f"{c.field} -> ${t.value.name}")
                    else:
                        parts.append(f"{c.field} {words(t, specs.get(c.field))}")
            head = label if i == 0 else ""
            out.append(f"  {head:<11} {p.template}: {'; '.join(parts) or 'any'}")
    out.extend(f"  then        {_action_words(kb, rule, action)}" for action in rule.then)
    out.append(f"  reads       {', '.join(reads(rule)) or '-'}")
    out.append(f"  asserts     {', '.join(graph.asserts[rule.id]) or '-'}")
    out.append(f"  fed by      {', '.join(graph.fed_by[rule.id]) or '- (input facts only)'}")
    out.append(f"  feeds       {', '.join(graph.feeds[rule.id]) or '-'}")
    click.echo("\n".join(out))
    return 0


def _action_words(kb: KnowledgeBase, rule: Rule, action: Action) -> str:
    """One action as ``kb show`` prints it, with what changes its reach: the treatments a
    variable target stands for, a tier, the preference a leave_out names, a scope (only
    the input items it names) and a risk."""
    if action.kind == "assert":
        values = ", ".join(f"{k}={v}" for k, v in action.values.items())
        return f"assert {action.template} ({values})"
    if action.kind == "combine":
        return f"combine {' + '.join(action.components)} [{action.tier}]"
    if action.kind == "note":
        return f"note: {action.text}"
    if action.kind == "alert":
        return f"alert {action.target} [{action.severity}]: {action.text}"
    marks = []
    if action.kind == "recommend":
        marks.append(action.tier)
    if action.constraint:
        marks.append(f"preference {action.constraint}")
    if action.risk:
        marks.append("risk: ranks it after options without one")
    if action.scope:
        template = kb.targets[0] if kb.targets else "input"
        marks.append(
            "only where " + " and ".join(f"{template}.{k} is {_as_written(v)}" for k, v in action.scope.items())
        )
    shown = f" [{'; '.join(marks)}]" if marks else ""
    return f"{action.kind} {action.target}{_reach(kb, rule, action.target)}{shown}: {action.text}"


REACH_SHOWN = 4  # treatments named before "and N more"; `kb graph --rule RULE` draws them all


def _reach(kb: KnowledgeBase, rule: Rule, target: Any) -> str:
    """`` (each of: a, b, c)`` for a variable target, the treatments it can stand for; '' for a named one."""
    from ...engine.authoring.dependencies import candidates
    from ...engine.knowledge.model import Var

    if not isinstance(target, Var):
        return ""
    ids = candidates(kb, rule, target)
    if ids is None:
        return " (any treatment)"
    if not ids:
        return " (no treatment in the catalogue matches)"
    if len(ids) == 1:
        return f" (only {ids[0]})"
    if len(ids) <= REACH_SHOWN + 1:
        return f" (each of: {', '.join(ids)})"
    return f" (each of {len(ids)}: {', '.join(ids[:REACH_SHOWN])} and {len(ids) - REACH_SHOWN} more)"


def _as_written(value: Any) -> str:
    """A scope value as the rule writes it: ``$name`` for a variable, a bare word, ``null``, ``true``, ``3``."""
    from ...engine.documents.yamlio import as_written
    from ...engine.knowledge.model import Var

    if isinstance(value, tuple):
        return "any of [" + ", ".join(_as_written(v) for v in value) + "]"
    if isinstance(value, Var) or (isinstance(value, str) and value):
        return str(value)
    return as_written(value)


COMMANDS = [list_rules, show]
