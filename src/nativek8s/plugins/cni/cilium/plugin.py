"""Registration of the `cilium` plugin (entry point `cilium` in the `nativek8s` group)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from nativek8s.api import CNISpec, Problem, hookimpl, role_is_deployed

from .options import PLUGIN, CiliumOptions

if TYPE_CHECKING:
    from nativek8s.api import Finding, LabContext, Topology  # the hooks' arguments, typed only



def _factory():
    from .cilium import Cilium

    return Cilium()


@hookimpl
def nativek8s_cnis() -> list[CNISpec]:
    return [CNISpec(name=PLUGIN, factory=_factory, options=CiliumOptions,
                    description="Cilium, native routing with the BGP control plane")]


@hookimpl
def nativek8s_validate_topology(topology: Topology) -> list[Problem]:
    if topology.plugins.cni != PLUGIN:
        return []
    from .checks import topology_problems

    errors, warnings = topology_problems(topology)
    return errors + [replace(w, warning=True) for w in warnings]


@hookimpl
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    if ctx.plan.composition.cni != PLUGIN or not role_is_deployed(ctx, "cni"):
        return []  # not this lab's CNI, or emulated (netns): doctor.py says so too
    from .doctor import checks

    return checks(ctx)
