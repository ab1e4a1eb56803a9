"""Registration of the `talos` plugin (entry point `talos` in the `nativek8s` group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nativek8s.api import NodeOSSpec, Problem, hookimpl

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
    from .doctor import checks

    return checks(ctx)
