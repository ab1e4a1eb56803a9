"""Commands that act on a lab: deploy, destroy, status, verify."""

from __future__ import annotations

import json
import os
import shutil
import sys

import click

from .lab_target import LabTarget, with_lab
from .options import composition, topology_file

output_option = click.option("-o", "--output", type=click.Choice(["table", "json"]),
                             default="table")


def _echo(line: str, err: bool) -> None:
    try:
        click.echo(line, err=err)
    except BrokenPipeError:
        # The reader went away (`nativek8s deploy | head -2`): the work goes on, its
        # output goes nowhere from now on.
        stream = sys.stderr if err else sys.stdout
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _err(line: str) -> None:
    _echo(line, err=True)


def _out(line: str) -> None:
    _echo(line, err=False)


@click.command()
@with_lab(deploy=True)
@composition
@click.option("--speaker", type=click.Choice(["gobgp", "bird"]), default=None,
              help="netns backend: the nodes' BGP speaker (default gobgp, as Cilium embeds).")
@click.option("--routes/--no-routes", default=True, help="Print each machine's routing table.")
def deploy(target: LabTarget, speaker, routes):
    """Create the lab (or heal it), wait for BGP to converge and verify it.

    LAB heals a deployed lab from the plan it saved; -f FILE builds or changes the lab the
    file describes; with neither, the only lab there is, else the reference lab. Run it
    again after a failure or an interrupt: finished work is checked, not redone.
    """
    from ..engine.lab import deploy as run_deploy
    from ..engine.lab import lab_observer
    from ..verify import route_table

    plan, state = target.plan, target.state
    assert plan is not None and target.registry is not None
    options = {"speaker": speaker} if speaker else {}
    results = run_deploy(plan, state, target.registry, _err, **options)
    if results is None:
        _err(f"lab {plan.lab}: deployed; NOT verified (see above)")
        return
    failed = [r for r in results if not r.ok]
    for r in failed:
        _err(r.line())
    if routes:
        _, observer = lab_observer(state, target.registry, _err)
        for m in plan.machines:
            _out(f"{m.name} ({m.kind}, {m.datacentre})")
            for line in route_table(observer, m.name):
                _out(f"  {line}")
    if failed:
        _err(f"lab {plan.lab}: deployed, but verify failed; see above")
        sys.exit(1)
    _err(f"lab {plan.lab}: deployed and verified")


@click.command()
@with_lab(must_exist=False)
def destroy(target: LabTarget | None):
    """Remove everything the lab created, and nothing else (safe to run twice).

    Works from the lab's state; where the state is lost or damaged, from the marks the
    backend put on what the lab created.
    """
    from ..engine.lab import destroy as run_destroy
    from ..registry import registry

    if target is None:  # nothing to remove is not an error: destroy is safe to run twice
        _err("nothing to destroy: no lab is deployed")
        return
    removed = run_destroy(target.state, registry(), _err, plan=target.plan)
    if removed is None:
        _err(f"nothing to destroy: lab {target.lab!r} has no state and nothing of it was found")
        return
    _err(f"lab {target.lab}: destroyed ({len(removed)} resources removed)")


@click.command()
@with_lab()
@output_option
def status(target: LabTarget, output):
    """Show each machine and BGP session of a lab."""
    from ..engine.lab import lab_observer
    from ..registry import registry
    from ..verify import check_bgp

    ctx, observer = lab_observer(target.state, registry(), _err)
    machines = observer.machines()
    sessions = check_bgp(ctx.plan, observer, ctx.plugins.router)
    if output == "json":
        _out(json.dumps({
            "lab": ctx.plan.lab,
            "machines": [vars(m) for m in machines],
            "sessions": [r.as_dict() for r in sessions],
        }, indent=2))
        return
    _out(f"lab {ctx.plan.lab} ({ctx.plan.composition.hypervisor})")
    for m in machines:
        procs = " ".join(f"{k}={v}" for k, v in m.processes.items())
        _out(f"  {m.name:<14} {m.kind:<7} {m.state:<8} {procs} {m.detail}".rstrip())
    _out("bgp")
    for r in sessions:
        _out(f"  {r.subject:<40} {r.observed}")


@click.command()
@with_lab()
@output_option
@click.option("--wait", type=float, default=0.0, metavar="SECONDS",
              help="Poll BGP and routes for up to this long before judging.")
def verify(target: LabTarget, output, wait):
    """Check the lab against its plan: sessions, routes, pod-to-pod, source addresses."""
    from ..engine.lab import lab_verify
    from ..registry import registry
    from ..verify import summary

    state = target.state
    results = lab_verify(state, registry(), _err, wait=wait)
    failed = [r for r in results if not r.ok]
    if output == "json":
        _out(json.dumps({"lab": state.lab, "ok": not failed,
                               "results": [r.as_dict() for r in results]}, indent=2))
    else:
        for r in results:
            _out(r.line())
        _out(f"verify {state.lab}: {summary(results)}")
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
            _out(f"{name}: ready to deploy lab {plan.lab}")
    finally:
        if fresh is not None:  # a preflight may make its plugin's folder: leave no trace
            shutil.rmtree(fresh, ignore_errors=True)


COMMANDS = (deploy, destroy, status, verify, doctor)
