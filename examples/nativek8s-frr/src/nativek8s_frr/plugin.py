"""Registration of the `frr` router OS (entry point `frr` in the `nativek8s` group), and its
own topology checks."""

from __future__ import annotations

from nativek8s.api import Problem, RouterOSSpec, Topology, hookimpl

from .checks import topology_problems
from .options import FrrOptions


def _factory():
    from .frr import Frr

    return Frr()


@hookimpl
def nativek8s_router_oses() -> list[RouterOSSpec]:
    return [RouterOSSpec(name="frr", factory=_factory, options=FrrOptions,
                         description="FRRouting (zebra + bgpd)")]


@hookimpl
def nativek8s_validate_topology(topology: Topology) -> list[Problem]:
    if topology.plugins.router != "frr":
        return []
    return topology_problems(topology)
