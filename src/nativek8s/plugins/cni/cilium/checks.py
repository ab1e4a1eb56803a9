"""Topology checks of the `cilium` plugin (run through ``nativek8s_validate_topology``)."""

from __future__ import annotations

from pydantic import ValidationError

from nativek8s.api import Problem, Topology

from .options import PLUGIN, CiliumOptions
from .versions import parse_version, support

MIN_HOLD_TIME = 3  # CiliumBGPPeerConfig/PeeringPolicy holdTimeSeconds minimum


def topology_problems(topo: Topology) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for a topology whose CNI is cilium."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for dc, spec in topo.datacentres.items():
        if PLUGIN in spec.options:
            errors.append(Problem(f"datacentres.{dc}.options.{PLUGIN}",
                                  "Cilium's options apply to the whole cluster; move them to "
                                  f"options.{PLUGIN}"))
    try:
        options = CiliumOptions.model_validate(topo.options.get(PLUGIN) or {})
    except ValidationError:
        return errors, warnings  # core reports bad options, each at its own path
    version = parse_version(topo.versions.cilium)
    found = support(version, options.peering_policy)
    if found.error:
        errors.append(Problem(found.error_on, found.error))
    elif found.api and found.api.warning:
        warnings.append(Problem(f"options.{PLUGIN}.peering_policy", found.api.warning))
    if options.chart_version:
        chart = parse_version(options.chart_version)
        if chart.minor_version != version.minor_version:
            errors.append(Problem(f"options.{PLUGIN}.chart_version", (
                f"chart {chart} is Cilium {chart.major}.{chart.minor} but versions.cilium is "
                f"{version}; Cilium's chart version is its release, so pin a "
                f"{version.major}.{version.minor}.x chart or change versions.cilium")))
    if options.ipam == "cluster-pool":
        warnings.append(Problem(f"options.{PLUGIN}.ipam", (
            "cluster-pool: Cilium's operator hands PodCIDRs out in the order nodes come up, "
            "not the plan's; each router accepts only its node's planned PodCIDR, so a node "
            "given another has unreachable pods (verify shows it); ipam: kubernetes gets the "
            "plan's PodCIDRs")))
    if topo.bgp.hold_time < MIN_HOLD_TIME:
        errors.append(Problem("bgp.hold_time", (
            f"{topo.bgp.hold_time} s: Cilium's BGP control plane needs a hold time of at "
            f"least {MIN_HOLD_TIME} s (its resources refuse less)")))
    return errors, warnings
