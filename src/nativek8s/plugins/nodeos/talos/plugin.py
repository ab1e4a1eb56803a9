"""Registration of the `talos` plugin (entry point `talos` in the `nativek8s` group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nativek8s.api import NodeOSSpec, Problem, hookimpl, role_is_deployed

from .options import PLUGIN, TalosOptions

if TYPE_CHECKING:
    from nativek8s.api import Finding, LabContext, Topology  # the hooks' arguments, typed only


def _factory():
    from .talos import Talos

    return Talos()


@hookimpl
def nativek8s_node_oses() -> list[NodeOSSpec]:
    return [NodeOSSpec(name=PLUGIN, factory=_factory, options=TalosOptions,
                       description="Talos Linux nodes via talosctl and the Image Factory")]


@hookimpl
def nativek8s_validate_topology(topology: Topology) -> list[Problem]:
    if topology.plugins.nodeos != PLUGIN:
        return []
    from .checks import topology_problems

    return topology_problems(topology)


@hookimpl
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    if ctx.plan.composition.nodeos != PLUGIN or not role_is_deployed(ctx, "nodeos"):
        return []  # not this lab's node OS, or emulated (netns): doctor.py says so too
    from .doctor import checks

    return checks(ctx)
