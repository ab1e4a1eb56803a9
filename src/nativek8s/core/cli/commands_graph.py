"""`nativek8s graph`: the lab as a picture, from its plan or (--live) from the running lab."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..engine.state import LabState
    from ..plan import Plan

from .lab_target import lab_arguments
from .options import composition
from .output import reporter

FORMAT_NAMES = ["svg", "html", "dot", "mermaid"]


def _plan_and_state(lab: str | None, topology: str | None, live: bool,
                    choices: dict[str, Any]) -> tuple[Plan, LabState]:
    """Which lab: with LAB, -f FILE or --live, the rule every lab command follows
    (lab_target); with none of them, the reference lab's plan (as `nativek8s plan`)."""
    from ..engine.state import LabState
    from ..plan import build_plan
    from .commands_topology import _load
    from .lab_target import resolve_lab_target

    if lab is None and topology is None and not live:
        plan = build_plan(_load(None, **choices)[0])
        return plan, LabState(plan.lab)
    # A named lab is drawn from its saved plan, so it must exist; a file has its own plan.
    must_exist = live or topology is None
    target = resolve_lab_target(lab, topology, must_exist=must_exist, **choices)
    assert target is not None  # must_exist or a name/file: always a target
    return target.plan or target.state.load_plan(), target.state


@click.command()
@lab_arguments
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
    tables); DOT and Mermaid are text for docs. Without --live nothing is observed: the
    plan of LAB (deployed) or of -f FILE, else of the reference lab.
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
