"""deploy, destroy, status and verify of a whole lab."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

from ..compose import Selected, select
from ..doctor import require_ready
from ..errors import NativeK8sError, UsageError
from ..kinds import CNI, Hypervisor, NodeOS, Unsupported
from ..observe import Observer
from ..paths import outermost_missing
from ..plan import Plan
from ..registry import Registry
from ..render import render_files
from ..report import Reporter, reporting
from ..verify import CheckResult, observed_via, summary, verify, verify_machines
from .context import LabContext
from .lock import LabLock
from .state import DamagedState, LabState
from .steps import Progress, Step, run_steps

CONVERGE_WAIT = 60.0  # seconds deploy waits for BGP to converge before it reports


Echo = Callable[[str], None] | Reporter  # a Reporter, or any callable taking a line


def context(plan: Plan, state: LabState, registry: Registry, echo: Echo,
            extras: dict[str, dict[str, str]] | None = None) -> LabContext:
    """``extras``: the command line's per-plugin options (``-O plugin.key=value``)."""
    return _context(plan, state, select(plan, registry), echo, extras)


def _context(plan: Plan, state: LabState, selected: Selected, echo: Echo,
             extras: dict[str, dict[str, str]] | None) -> LabContext:
    extras = dict(extras or {})
    # By name: creating the plugins would import every one of them (destroy needs one).
    unknown = sorted(set(extras) - selected.names())
    if unknown:
        raise UsageError(f"-O {unknown[0]}.…: no plugin named {unknown[0]!r} in this lab; "
                         f"its plugins are {', '.join(sorted(selected.names()))}")
    report = echo if isinstance(echo, Reporter) else Reporter.to(echo)
    return LabContext(plan=plan, state=state, secrets=state.secrets(plan), plugins=selected,
                      echo=report.say, extras=extras, report=report)


def _hypervisor(ctx: LabContext) -> Hypervisor:
    hyps = list(ctx.plugins.hypervisors.values())
    if len(hyps) != 1:
        raise NativeK8sError("datacentres on different hypervisors are not supported yet; "
                             "use one hypervisor for the whole lab")
    return hyps[0]


def deploy(plan: Plan, state: LabState, registry: Registry, echo: Echo,
           extras: dict[str, dict[str, str]] | None = None) -> list[CheckResult] | None:
    """Returns verify's results, or None when the hypervisor cannot observe the lab."""
    selected = select(plan, registry)
    ctx = _context(plan, state, selected, echo, extras)
    with reporting(ctx.report):
        return _deploy(ctx, selected, plan, state, registry)


def _deploy(ctx: LabContext, selected: Selected, plan: Plan, state: LabState,
            registry: Registry) -> list[CheckResult] | None:
    echo = ctx.report.say
    hyp = _hypervisor(ctx)
    fresh = outermost_missing(state.dir)
    with LabLock(state.dir / "lock", plan.lab):
        try:  # doctor's checks: every problem at once, before anything is made
            found = require_ready(ctx, registry.pm.hook.nativek8s_doctor_checks)
        except NativeK8sError:
            if fresh is not None:  # refused before anything was made: leave no state behind
                shutil.rmtree(fresh, ignore_errors=True)
            raise
        for finding in found:
            if finding.warning:
                echo(finding.line())
        try:
            previous = state.load_plan() if state.exists() else None
        except DamagedState as exc:  # the topology at hand says what the lab is
            echo(f"{exc.path} is damaged ({exc.why}); writing it again from the topology")
            previous = None
        if previous is not None and previous != plan:
            echo(f"lab {plan.lab}: the plan changed since the last deploy; reconciling")
        state.save_plan(plan)
        # Each plugin renders once a run: what doctor's preflight rendered (netns: the router
        # OS's files) is kept. Roles the hypervisor emulates are not rendered at all: nothing
        # of the lab reads their files (`nativek8s render` still writes them).
        ctx.rendered = render_files(plan, selected, ctx.secrets, selected.emulated(),
                                    ctx.rendered)
        for name, files in ctx.rendered.items():
            state.save_rendered(name, files)
        # Phases: machines first, then the node OS on them, then the CNI on the cluster
        # (unless the hypervisor emulates them: then their plugins are not even created).
        phases: list[list[Step]] = [list(hyp.deploy_steps(ctx))]
        for role in ("nodeos", "cni"):
            if role in hyp.emulates:
                continue
            plugin: NodeOS | CNI = ctx.plugins.nodeos if role == "nodeos" else ctx.plugins.cni
            try:
                phases.append(list(plugin.deploy_steps(ctx)))
            except Unsupported as exc:
                raise NativeK8sError(f"{exc}; the {hyp.name} hypervisor needs it") from exc
        progress = Progress(ctx.report)
        for steps in phases:
            run_steps(steps, progress)
        t0 = time.monotonic()
        results, reason = _checks(ctx, hyp, CONVERGE_WAIT)
        elapsed = ctx.report.elapsed
        if reason:  # shown with -q too: the final line refers to it
            ctx.report.error(f"{elapsed():6.2f}s routers not verified: {reason}")
        if results is None:
            return None
        echo(f"{elapsed():6.2f}s verified in {time.monotonic() - t0:.2f}s: {summary(results)}")
    return results


def open_lab(state: LabState, registry: Registry, echo: Echo) -> LabContext:
    plan = state.load_plan()
    missing = missing_plugins(plan, registry)
    if missing:
        kind, name = missing[0]
        raise UsageError(f"lab {plan.lab} was deployed with the {kind} plugin {name!r}, which "
                         f"is not installed here; install the package that provides it to "
                         f"work on this lab (`nativek8s destroy {plan.lab}` works without it)")
    return context(plan, state, registry, echo)


def missing_plugins(plan: Plan, registry: Registry) -> list[tuple[str, str]]:
    """(kind, name) of each plugin the plan's composition names that is not installed."""
    c = plan.composition
    named = [("hypervisor", h) for h in sorted({c.hypervisor, *c.datacentre_hypervisors.values()})]
    named += [("router", c.router), ("nodeos", c.nodeos), ("cni", c.cni)]
    return [(kind, name) for kind, name in named if name not in registry.names(kind)]


def destroy(state: LabState, registry: Registry, echo: Echo,
            plan: Plan | None = None) -> list[str] | None:
    """Remove what the lab created and forget the lab. From its state when it can be read,
    else from the marks the hypervisor put on what it made (``plan``, from a topology file,
    says which hypervisor and where). The lock is held until the state folder is gone, and
    a deploy holding it (even before it saved anything) makes destroy wait for nothing: it
    says the lab is busy. None: no state and nothing marked was found."""
    report = echo if isinstance(echo, Reporter) else Reporter.to(echo)
    with reporting(report), report.waiting(f"removing lab {state.lab}"):
        if not state.dir.exists():
            return _destroy_marked(state.lab, plan, registry, report) or None
        with LabLock(state.dir / "lock", state.lab):
            removed = None
            try:
                saved = state.load_plan() if state.exists() else None
                missing = missing_plugins(saved, registry) if saved is not None else []
                if any(kind == "hypervisor" for kind, _ in missing):
                    raise UsageError(f"lab {state.lab} runs on the hypervisor plugin "
                                     f"{missing[0][1]!r}, which is not installed here; install "
                                     "the package that provides it, then destroy the lab")
                if missing:  # the hypervisor's marks still say what is the lab's
                    report.say(f"lab {state.lab} was deployed with the {missing[0][0]} plugin "
                               f"{missing[0][1]!r}, which is not installed here: removing "
                               f"what is marked as lab {state.lab}'s instead")
                elif saved is not None:
                    ctx = context(saved, state, registry, report)
                    removed = _hypervisor(ctx).destroy(ctx)
            except DamagedState as exc:
                report.say(f"{exc.path} is damaged ({exc.why}): removing what is marked as "
                           f"lab {state.lab}'s instead")
                saved = None
            if removed is None:
                removed = _destroy_marked(state.lab, saved or plan, registry, report)
            state.remove()
    return removed


def _destroy_marked(lab: str, plan: Plan | None, registry: Registry,
                    report: Reporter) -> list[str]:
    """Ask each hypervisor (the plan's, or every installed one) to remove what carries the
    lab's mark."""
    names = ([plan.composition.hypervisor, *plan.composition.datacentre_hypervisors.values()]
             if plan else registry.names("hypervisor"))
    removed: list[str] = []
    for name in sorted(set(names)):
        hyp = registry.create("hypervisor", name)
        assert isinstance(hyp, Hypervisor)  # the registry checked it against its kind
        try:
            removed += hyp.destroy_marked(lab, plan, report.say)
        except Unsupported:
            if plan is not None:
                report.say(f"the {name} hypervisor cannot find lab {lab}'s resources "
                           "without its state")
    return removed


def lab_verify(state: LabState, registry: Registry, echo: Echo,
               wait: float = 0.0) -> list[CheckResult]:
    results, reason = lab_verify_all(state, registry, echo, wait)
    if results is None:
        raise NativeK8sError(f"lab {state.lab} cannot be verified: {reason}")
    return results


def lab_verify_all(state: LabState, registry: Registry, echo: Echo, wait: float = 0.0,
                   all_pairs: bool = False) -> tuple[list[CheckResult] | None, str | None]:
    """(results or None when nothing could be checked, why the routers were not looked at).
    ``all_pairs``: probe every pod pair, not a sample, on a big lab."""
    ctx = open_lab(state, registry, echo)
    results, reason = _checks(ctx, _hypervisor(ctx), wait, all_pairs)
    if reason and results is not None:
        ctx.report.error(f"routers not verified: {reason}")
    return results, reason


def _checks(ctx: LabContext, hyp: Hypervisor, wait: float,
            all_pairs: bool = False) -> tuple[list[CheckResult] | None, str | None]:
    """(results, why the routers were not looked at). Where the hypervisor cannot look
    inside every machine, it checks those it can (``observer.inside``: routers through a
    guest agent) and the CNI checks the cluster through Kubernetes if it can (sessions,
    running config, pod sources); each check says how it ran. No results at all: None."""
    observer = hyp.observer(ctx)
    reason = observer.unverifiable
    if not reason:
        return verify(ctx.plan, observer, ctx.plugins.router, wait=wait,
                      report=ctx.report, all_pairs=all_pairs), None
    inside = observer.inside
    results: list[CheckResult] = []
    if "router" in inside:
        routers = verify_machines(ctx.plan, observer, ctx.plugins.router,
                                  list(ctx.plan.routers), wait, report=ctx.report)
        results += observed_via(routers, f"inside the router, {inside['router']}")
    if "cni" not in hyp.emulates:
        cni = ctx.plugins.cni
        checks = cni.cluster_checks(ctx)
        if checks is not None:
            results += observed_via(list(checks), f"{cni.name}, through Kubernetes")
    if not results:
        return None, reason
    return results, None if "router" in inside else reason


def lab_observer(state: LabState, registry: Registry,
                 echo: Echo) -> tuple[LabContext, Observer]:
    ctx = open_lab(state, registry, echo)
    return ctx, _hypervisor(ctx).observer(ctx)
