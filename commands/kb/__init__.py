"""``cicatrix kb``: the authoring toolkit, one module per command."""

from __future__ import annotations

import click

from . import browse, graph, impact, init, lint, schema, test, treatment, validate


@click.group("kb")
def group() -> None:
    """Author, check and test a knowledge base (the bundled one, or --kb DIR).

    \b
    Examples:
      cicatrix kb init my-kb/                 (a copy of your own to edit)
      cicatrix kb validate --kb my-kb/
      cicatrix kb lint --strict
      cicatrix kb test --coverage
      cicatrix kb impact --from old-kb/ examples/   (which plans a change alters)
      cicatrix kb show ice-pick/tca-cross
      cicatrix kb graph --format mermaid > rules.mmd
    """


for module in (init, validate, schema, lint, test, impact, browse, treatment, graph):
    for command in module.COMMANDS:
        group.add_command(command)
