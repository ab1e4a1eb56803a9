"""Commands that act on a lab: deploy, destroy, status, verify."""

from __future__ import annotations

import shutil
import sys

import click

from ..errors import EXIT_FAILED
from .lab_target import LabTarget, with_lab
from .options import composition, parse_extras, plugin_option, topology_file
from .output import emit, output_option, reporter, stdout_style


@click.command()
@with_lab(deploy=True)
@composition
@plugin_option
# Kept from before -O existed: the same as -O netns.speaker=VALUE.
@click.option("--speaker", default=None, hidden=True)
@click.option("--routes/--no-routes", default=True, help="Print each machine's routing table.")
def deploy(target: LabTarget, extras: tuple[str, ...], speaker: str | None,
           routes: bool) -> None:
    """Create the lab (or heal it), wait for BGP to converge and verify it.

    LAB heals a deployed lab from the plan it saved; -f FILE builds or changes the lab the
    file describes; with neither, the only lab there is, else the reference lab. Run it
    again after a failure or an interrupt: finished work is checked, not redone.
    """
    from ..engine.lab import deploy as run_deploy
    from ..engine.lab import lab_observer
    from ..errors import NativeK8sError
    from ..verify import route_table

    plan, state, reg = target.plan, target.state, target.registry
    assert plan is not None and reg is not None
    options = parse_extras(extras + ((f"netns.speaker={speaker}",) if speaker else ()))
    report = reporter()
    results = run_deploy(plan, state, reg, report, options)
    if results is None:
        report.final(f"lab {plan.lab}: deployed; NOT verified (see above)")
        return
    failed = [r for r in results if not r.ok]
    for r in failed:
        report.error(r.line())
    if routes and report.verbosity >= 0:  # -q: only errors and the final line
        _, observer = lab_observer(state, reg, report)
        for m in plan.machines:
            click.echo(f"{m.name} ({m.kind}, {m.datacentre})")
            try:
                table = route_table(observer, m.name)
            except NativeK8sError as exc:  # a machine this hypervisor cannot look inside
                table = [f"(not shown: {exc})"]
            for line in table:
                click.echo(f"  {line}")
    if failed:
        report.final(f"lab {plan.lab}: deployed, but verify failed; see above")
        sys.exit(1)
    report.final(f"lab {plan.lab}: deployed and verified")


@click.command()
@with_lab(must_exist=False)
def destroy(target: LabTarget | None) -> None:
    """Remove everything the lab created, and nothing else (safe to run twice).

    Works from the lab's state; where the state is lost or damaged, from the marks the
    backend put on what the lab created.
    """
    from ..engine.lab import destroy as run_destroy
    from ..registry import registry

    # Nothing to remove is not an error: destroy is safe to run twice.
    report = reporter()
    if target is None:
        report.final("nothing to destroy: no lab is deployed")
        return
    removed = run_destroy(target.state, registry(), report, plan=target.plan)
    if removed is None:
        report.final(f"nothing to destroy: lab {target.lab!r} has no state and nothing of "
                     "it was found")
        return
    report.final(f"lab {target.lab}: destroyed ({len(removed)} resources removed)")


@click.command()
@with_lab()
@output_option
def status(target: LabTarget, output: str) -> None:
    """Show each machine and BGP session of a lab.

    -o json|yaml: a Status document (`nativek8s schema status`).
    """
    from ..engine.lab import lab_observer
    from ..registry import registry
    from ..status import lab_ok, session_statuses

    state = target.state
    ctx, observer = lab_observer(state, registry(), reporter())
    machines = observer.machines()
    sessions = session_statuses(ctx.plan, observer, ctx.plugins.router)
    ok = lab_ok(machines, sessions)
    if output != "table":
        emit("Status", {"lab": ctx.plan.lab, "hypervisor": ctx.plan.composition.hypervisor,
                        "ok": ok, "machines": [vars(m) for m in machines],
                        "sessions": [s.as_dict() for s in sessions]}, output)
        sys.exit(0 if ok else EXIT_FAILED)
    verdict = stdout_style("ok", "ok") if ok else stdout_style("NOT ok", "fail")
    click.echo(f"lab {ctx.plan.lab} ({ctx.plan.composition.hypervisor}): {verdict}")
    click.echo(f"  {'MACHINE':<14} {'KIND':<7} {'STATE':<9} DETAIL")
    for m in machines:
        procs = " ".join(f"{k}={v}" for k, v in m.processes.items())
        click.echo(f"  {m.name:<14} {m.kind:<7} {m.state:<9} {procs} {m.detail}".rstrip())
    click.echo(f"  {'BGP SESSION':<30} {'TYPE':<5} {'LOCAL AS':<9} {'PEER AS':<9} "
               f"{'STATE':<12} {'UPTIME':>8} {'RCVD':>5} {'ACPT':>5}  INFO")
    for s in sessions:
        state_text = stdout_style(f"{s.state:<12}", "ok" if s.ok else "fail")
        click.echo(f"  {s.machine + ' → ' + s.peer_machine:<30} {s.type:<5} "
                   f"{_num(s.local_as):<9} {_num(s.peer_as):<9} {state_text} "
                   f"{_uptime(s.uptime_seconds):>8} {_num(s.received):>5} "
                   f"{_num(s.accepted):>5}  {s.info}".rstrip())
    if not ok:  # scripts read the verdict from the exit code: 1, as for a failed check
        sys.exit(EXIT_FAILED)


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


@click.command()
@with_lab()
@output_option
@click.option("--wait", type=float, default=0.0, metavar="SECONDS",
              help="Poll BGP and routes for up to this long before judging.")
@click.option("--all-pairs", is_flag=True,
              help="Probe pod to pod between every two datacentres (above 10 datacentres "
                   "verify probes a sample, and says which).")
def verify(target: LabTarget, output: str, wait: float, all_pairs: bool) -> None:
    """Check the lab against its plan: sessions, routes, pod-to-pod, source addresses.

    Every machine's sessions and routing table are checked; pod-to-pod probes run between
    every two datacentres, or on a lab of more than 10 a sample that grows linearly.

    -o json|yaml: a VerifyReport document, with the checks that could not run and why.
    """
    from ..engine.lab import lab_verify_all
    from ..errors import NativeK8sError
    from ..plan import Plan
    from ..registry import registry
    from ..verify import not_run, probe_sample, summary

    state = target.state
    report = reporter()
    results, reason = lab_verify_all(state, registry(), report, wait=wait, all_pairs=all_pairs)
    if results is None and output == "table":
        raise NativeK8sError(f"lab {state.lab} cannot be verified: {reason}")
    plan: Plan = state.load_plan()
    results = results or []
    skipped = not_run(plan, results, reason) if results or reason else []
    failed = [r for r in results if not r.ok]
    if output != "table":
        body: dict = {"lab": state.lab, "ok": not failed and bool(results)}
        if any(r.check == "ping" for r in results):  # the pods were probed: which pairs
            sample = probe_sample(plan, all_pairs)
            body["probes"] = {"pairs": len(sample.pairs), "of": sample.of, "how": sample.how}
        emit("VerifyReport", {
            **body,
            "summary": {"passed": len(results) - len(failed), "failed": len(failed),
                        "not_run": len(skipped)},
            "results": [r.as_dict() for r in results],
            "not_run": [n.as_dict() for n in skipped]}, output)
    else:
        for r in results:
            if r.ok and report.verbosity < 0:
                continue  # -q: only what failed, and the summary
            line = r.line()
            if r.ok and report.verbosity > 0:
                line += f"  ({r.observed})"
            click.echo(stdout_style(line[:4], "ok" if r.ok else "fail") + line[4:])
        for n in skipped:
            if report.verbosity >= 0:
                click.echo(stdout_style(n.line()[:4], "warn") + n.line()[4:])
        click.echo(f"verify {state.lab}: {summary(results, skipped)}")
    if failed or not results:
        sys.exit(1)


@click.command()
@topology_file
@composition
@plugin_option
def doctor(topology, extras, **choices):
    """Check that this host can deploy the lab, creating nothing.

    Tools and their versions, hypervisor access, names, downloads, disk, memory, KVM, host
    traps: every problem at once (exit 2 if any); -v also lists the checks that passed.
    -O <plugin>.<key>=<value> checks with that plugin option set, as deploy would."""
    from ..doctor import NotReady, findings
    from ..engine.lab import context
    from ..engine.state import LabState
    from ..paths import outermost_missing
    from ..plan import build_plan
    from .commands_topology import _load

    topo, reg = _load(topology, deployable=True, **choices)
    plan = build_plan(topo)
    state = LabState(plan.lab)
    fresh = outermost_missing(state.dir)
    try:
        report = reporter()
        ctx = context(plan, state, reg, report, parse_extras(extras))
        found = findings(ctx, reg.pm.hook.nativek8s_doctor_checks)
    finally:
        if fresh is not None:  # a preflight may make its plugin's folder: leave no trace
            shutil.rmtree(fresh, ignore_errors=True)
    for f in found:
        if f.warning:
            report.say(f.line())
        elif f.ok:
            report.detail(f.line())  # -v
    if any(f.blocking for f in found):
        raise NotReady(plan.lab, found)
    for name in ctx.plugins.hypervisors:
        click.echo(f"{name}: ready to deploy lab {plan.lab}")


COMMANDS = (deploy, destroy, status, verify, doctor)
