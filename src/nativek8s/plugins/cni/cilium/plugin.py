"""Registration of the `cilium` plugin (entry point `cilium` in the `nativek8s` group)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from nativek8s.core.errors import Problem
from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import CNISpec

from .options import PLUGIN, CiliumOptions

if TYPE_CHECKING:
    from nativek8s.core.doctor import Finding
    from nativek8s.core.engine.context import LabContext
    from nativek8s.core.topology import Topology  # the hook's argument, typed only



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
    from .doctor import checks

    return checks(ctx)
