"""deploy, destroy, status and verify of a whole lab."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..compose import Selected, select
from ..errors import NativeK8sError
from ..plan import Plan
from ..registry import Registry
from ..render import render_files
from ..verify import CheckResult, summary, verify
from .context import LabContext
from .lock import LabLock
from .state import LabState
from .steps import Progress, Step, run_steps

CONVERGE_WAIT = 60.0  # seconds deploy waits for BGP to converge before it reports


class VerifyFailed(NativeK8sError):
    def __init__(self, results: list[CheckResult]):
        self.results = results
        failed = [r for r in results if not r.ok]
        super().__init__(f"verify: {summary(results)}; first: " + failed[0].line()
                         if failed else "verify failed")


def context(plan: Plan, state: LabState, registry: Registry, echo: Callable[[str], None],
            **options: object) -> LabContext:
    selected: Selected = select(plan, registry)
    secrets = state.secrets(plan)
    ctx = LabContext(plan=plan, state=state, secrets=secrets, plugins=selected, echo=echo,
                     options=dict(options))
    return ctx


def _hypervisor(ctx: LabContext):
    hyps = list(ctx.plugins.hypervisors.values())
    if len(hyps) != 1:
        raise NativeK8sError("datacentres on different hypervisors are not supported yet; "
                             "use one hypervisor for the whole lab")
    return hyps[0]


def deploy(plan: Plan, state: LabState, registry: Registry, echo: Callable[[str], None],
           **options: object) -> list[CheckResult] | None:
    """Returns verify's results, or None when the hypervisor cannot observe the lab."""
    ctx = context(plan, state, registry, echo, **options)
    hyp = _hypervisor(ctx)
    with LabLock(state.dir / "lock", plan.lab):
        hyp.preflight(ctx)
        previous = state.load_plan() if state.exists() else None
        if previous is not None and previous != plan:
            echo(f"lab {plan.lab}: the plan changed since the last deploy; reconciling")
        state.save_plan(plan)
        ctx.rendered = render_files(plan, ctx.plugins, ctx.secrets)
        for name, files in ctx.rendered.items():
            state.save_rendered(name, files)
        # Phases: machines first, then the node OS on them, then the CNI on the cluster.
        phases: list[list[Step]] = [list(hyp.deploy_steps(ctx))]
        for role in ("nodeos", "cni"):
            if role not in hyp.emulates:
                plugin = getattr(ctx.plugins, role)
                if not hasattr(plugin, "deploy_steps"):
                    raise NativeK8sError(
                        f"the {role} plugin {plugin.name!r} cannot deploy on real machines "
                        f"yet (it has no deploy_steps); the {hyp.name} hypervisor needs it")
                phases.append(list(plugin.deploy_steps(ctx)))
        progress = Progress(echo)
        for steps in phases:
            run_steps(steps, progress)
        t0 = time.monotonic()
        observer = hyp.observer(ctx)
        reason = getattr(observer, "unverifiable", None)
        if reason:
            results = _cluster_checks(ctx, hyp)
            echo(f"{time.monotonic() - progress.started:6.2f}s routers not verified: {reason}")
            if results is None:
                return None
        else:
            results = verify(plan, observer, ctx.plugins.router, wait=CONVERGE_WAIT)
        echo(f"{time.monotonic() - progress.started:6.2f}s verified in "
             f"{time.monotonic() - t0:.2f}s: {summary(results)}")
    return results


def open_lab(state: LabState, registry: Registry, echo: Callable[[str], None]) -> LabContext:
    plan = state.load_plan()
    ctx = context(plan, state, registry, echo)
    return ctx


def destroy(state: LabState, registry: Registry, echo: Callable[[str], None]) -> list[str]:
    """Remove what the lab created (from its state alone) and forget the lab."""
    ctx = open_lab(state, registry, echo)
    with LabLock(state.dir / "lock", state.lab):
        removed = _hypervisor(ctx).destroy(ctx)
    state.remove()
    return removed


def lab_verify(state: LabState, registry: Registry, echo: Callable[[str], None],
               wait: float = 0.0) -> list[CheckResult]:
    ctx = open_lab(state, registry, echo)
    hyp = _hypervisor(ctx)
    observer = hyp.observer(ctx)
    reason = getattr(observer, "unverifiable", None)
    if reason:
        results = _cluster_checks(ctx, hyp)
        if results is None:
            raise NativeK8sError(f"lab {ctx.plan.lab} cannot be verified: {reason}")
        echo(f"routers not verified: {reason}")
        return results
    return verify(ctx.plan, observer, ctx.plugins.router, wait=wait)


def _cluster_checks(ctx: LabContext, hyp) -> list[CheckResult] | None:
    """On real machines the CNI checks the cluster through Kubernetes (sessions, running
    config, pod-to-pod sources), when it can."""
    cni = ctx.plugins.cni
    if "cni" in hyp.emulates or not hasattr(cni, "cluster_checks"):
        return None
    return list(cni.cluster_checks(ctx))


def lab_observer(state: LabState, registry: Registry, echo: Callable[[str], None]):
    ctx = open_lab(state, registry, echo)
    return ctx, _hypervisor(ctx).observer(ctx)
