"""Commands that act on a lab: deploy, destroy, status, verify."""

from __future__ import annotations

import json
import shutil
import sys

import click

from .options import composition, topology_file

output_option = click.option("-o", "--output", type=click.Choice(["table", "json"]),
                             default="table")


def _err(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@topology_file
@composition
@click.option("--speaker", type=click.Choice(["gobgp", "bird"]), default=None,
              help="netns backend: the nodes' BGP speaker (default gobgp, as Cilium embeds).")
@click.option("--routes/--no-routes", default=True, help="Print each machine's routing table.")
def deploy(topology, speaker, routes, **choices):
    """Create the lab (or heal it), wait for BGP to converge and verify it.

    Run it again after a failure or an interrupt: finished work is checked, not redone.
    """
    from ..engine.lab import deploy as run_deploy
    from ..engine.lab import lab_observer
    from ..engine.state import LabState
    from ..errors import NativeK8sError
    from ..plan import build_plan
    from ..verify import route_table
    from .commands_topology import _load

    topo, reg = _load(topology, **choices)
    plan = build_plan(topo)
    state = LabState(plan.lab)
    options = {"speaker": speaker} if speaker else {}
    results = run_deploy(plan, state, reg, _err, **options)
    if results is None:
        _err(f"lab {plan.lab}: deployed; NOT verified (see above)")
        return
    failed = [r for r in results if not r.ok]
    for r in failed:
        _err(r.line())
    if routes:
        _, observer = lab_observer(state, reg, _err)
        for m in plan.machines:
            click.echo(f"{m.name} ({m.kind}, {m.datacentre})")
            try:
                table = route_table(observer, m.name)
            except NativeK8sError as exc:  # a machine this hypervisor cannot look inside
                table = [f"(not shown: {exc})"]
            for line in table:
                click.echo(f"  {line}")
    if failed:
        _err(f"lab {plan.lab}: deployed, but verify failed; see above")
        sys.exit(1)
    _err(f"lab {plan.lab}: deployed and verified")


@click.command()
@click.argument("lab", required=False)
def destroy(lab):
    """Remove everything the lab created, and nothing else (safe to run twice)."""
    from ..engine.lab import destroy as run_destroy
    from ..engine.state import LabState, known_labs, resolve_lab
    from ..registry import registry

    # Nothing to remove is not an error: destroy is safe to run twice.
    if lab is None and not known_labs():
        _err("nothing to destroy: no lab is deployed")
        return
    if lab is not None and not LabState(lab).exists():
        _err(f"nothing to destroy: lab {lab!r} has no state")
        return
    state = resolve_lab(lab)
    removed = run_destroy(state, registry(), _err)
    _err(f"lab {state.lab}: destroyed ({len(removed)} resources removed)")


@click.command()
@click.argument("lab", required=False)
@output_option
def status(lab, output):
    """Show each machine and BGP session of a lab."""
    from ..engine.lab import lab_observer
    from ..engine.state import resolve_lab
    from ..registry import registry
    from ..verify import check_bgp

    state = resolve_lab(lab)
    ctx, observer = lab_observer(state, registry(), _err)
    machines = observer.machines()
    sessions = check_bgp(ctx.plan, observer, ctx.plugins.router)
    if output == "json":
        click.echo(json.dumps({
            "lab": ctx.plan.lab,
            "machines": [vars(m) for m in machines],
            "sessions": [r.as_dict() for r in sessions],
        }, indent=2))
        return
    click.echo(f"lab {ctx.plan.lab} ({ctx.plan.composition.hypervisor})")
    for m in machines:
        procs = " ".join(f"{k}={v}" for k, v in m.processes.items())
        click.echo(f"  {m.name:<14} {m.kind:<7} {m.state:<8} {procs} {m.detail}".rstrip())
    click.echo("bgp")
    for r in sessions:
        click.echo(f"  {r.subject:<40} {r.observed}")


@click.command()
@click.argument("lab", required=False)
@output_option
@click.option("--wait", type=float, default=0.0, metavar="SECONDS",
              help="Poll BGP and routes for up to this long before judging.")
def verify(lab, output, wait):
    """Check the lab against its plan: sessions, routes, pod-to-pod, source addresses."""
    from ..engine.lab import lab_verify
    from ..engine.state import resolve_lab
    from ..registry import registry
    from ..verify import summary

    state = resolve_lab(lab)
    results = lab_verify(state, registry(), _err, wait=wait)
    failed = [r for r in results if not r.ok]
    if output == "json":
        click.echo(json.dumps({"lab": state.lab, "ok": not failed,
                               "results": [r.as_dict() for r in results]}, indent=2))
    else:
        for r in results:
            click.echo(r.line())
        click.echo(f"verify {state.lab}: {summary(results)}")
    if failed:
        sys.exit(1)


@click.command()
@topology_file
@composition
def doctor(topology, **choices):
    """Check that this host can deploy the lab (tools, permissions, names), creating nothing."""
    from ..engine.lab import context
    from ..engine.state import LabState
    from ..paths import outermost_missing
    from ..plan import build_plan
    from .commands_topology import _load

    topo, reg = _load(topology, **choices)
    plan = build_plan(topo)
    state = LabState(plan.lab)
    fresh = outermost_missing(state.dir)
    try:
        ctx = context(plan, state, reg, _err)
        for name, hyp in ctx.plugins.hypervisors.items():
            hyp.preflight(ctx)
            click.echo(f"{name}: ready to deploy lab {plan.lab}")
    finally:
        if fresh is not None:  # a preflight may make its plugin's folder: leave no trace
            shutil.rmtree(fresh, ignore_errors=True)


COMMANDS = (deploy, destroy, status, verify, doctor)
