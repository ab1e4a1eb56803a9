"""`nativek8s graph`: the lab as a picture, from its plan or (--live) from the running lab."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..engine.state import LabState
    from ..plan import Plan

from .options import composition, topology_file
from .output import reporter

FORMAT_NAMES = ["svg", "html", "dot", "mermaid"]


def _plan_and_state(lab: str | None, topology: str | None, live: bool,
                    choices: dict[str, str | None]) -> tuple[Plan, LabState]:
    """Which lab: a named lab's state; else -f FILE (or the reference lab) for its plan."""
    from ..engine.state import LabState, resolve_lab
    from ..errors import UsageError
    from ..plan import build_plan
    from .commands_topology import _load

    if lab or (live and topology is None):
        state = resolve_lab(lab)
        return state.load_plan(), state
    plan = build_plan(_load(topology, **choices)[0])
    state = LabState(plan.lab)
    if live and not state.exists():
        raise UsageError(f"lab {plan.lab!r} is not deployed, so there is nothing live to "
                         "draw; drop --live for the planned picture, or deploy it first")
    return plan, state


@click.command()
@click.argument("lab", required=False)
@topology_file
@composition
@click.option("--live", is_flag=True,
              help="Observe the running lab: sessions coloured by state, observed routes, "
                   "differences from the plan marked.")
@click.option("-o", "--out", "--output", "output", metavar="FILE", default=None,
              help="Write here; the extension picks the format (.svg .html .dot .gv .mmd). "
                   "Default: stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default=None,
              help="Output format (default: from FILE's extension; dot on stdout).")
def graph(lab, topology, live, output, fmt, **choices):
    """Draw the lab: datacentres, routers, nodes, networks, BGP sessions, routing tables.

    SVG is rendered with Graphviz (`dot`); HTML is one self-contained page (the SVG plus
    tables); DOT and Mermaid are text for docs. Without LAB or --live the picture comes
    from the topology (-f FILE, default the reference lab) and nothing is observed.
    """
    from ..graph import format_for, graph_of_plan, write

    chosen = format_for(output, fmt)  # a bad extension fails before any work
    plan, state = _plan_and_state(lab, topology, live, choices)
    picture = graph_of_plan(plan)
    if live:
        from ..engine.lab import lab_observer
        from ..graph.live import observe
        from ..registry import registry

        ctx, observer = lab_observer(state, registry(), reporter())
        picture = observe(picture, ctx.plan, observer, ctx.plugins.router)
        for note in picture.notes:
            reporter().say(f"note: {note}")
    text = write(picture, chosen)
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    Path(output).write_text(text)
    diffs = f", {len(picture.differences)} difference(s) from the plan" if live else ""
    reporter().final(f"wrote {output} ({chosen}, lab {plan.lab}{diffs})")


COMMANDS = (graph,)
