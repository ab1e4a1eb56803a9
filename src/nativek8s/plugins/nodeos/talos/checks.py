"""Topology checks of the `talos` plugin (run through ``nativek8s_validate_topology``)."""

from __future__ import annotations

from pydantic import ValidationError

from nativek8s.api import Problem, Topology, UsageError

from .options import PER_DATACENTRE, PLUGIN, TalosOptions
from .versions import kubernetes_problem, parse_version, support_problem

MAX_HOSTNAME = 63  # a DNS label: the hostname is also the Kubernetes node name


def topology_problems(topo: Topology) -> list[Problem]:
    problems: list[Problem] = []
    try:
        version = parse_version(topo.versions.talos)
    except UsageError as exc:
        return [Problem("versions.talos", str(exc))]
    problem = support_problem(version)
    if problem:
        return [Problem("versions.talos", problem)]
    if topo.versions.kubernetes:
        problem = kubernetes_problem(version, topo.versions.kubernetes)
        if problem:
            problems.append(Problem("versions.kubernetes", problem))
    for dc, spec in topo.datacentres.items():
        for key in sorted(set(spec.options.get(PLUGIN) or {}) - PER_DATACENTRE):
            problems.append(Problem(
                f"datacentres.{dc}.options.{PLUGIN}.{key}",
                f"{key} applies to the whole cluster; move it to options.{PLUGIN} (per "
                f"datacentre only: {', '.join(sorted(PER_DATACENTRE))})"))
        for node in spec.nodes:
            name = f"{topo.name}-{node}"
            if len(name) > MAX_HOSTNAME:
                problems.append(Problem(
                    f"datacentres.{dc}.nodes.{node}",
                    f"the node's hostname and Kubernetes name {name!r} is longer than "
                    f"{MAX_HOSTNAME} characters; shorten the node or lab name"))
        problems += [p for p in _media_problems(topo, dc) if p not in problems]
    return problems


def _media_problems(topo: Topology, dc: str) -> list[Problem]:
    merged = {**(topo.options.get(PLUGIN) or {}),
              **(topo.datacentres[dc].options.get(PLUGIN) or {})}
    try:
        options = TalosOptions.model_validate(merged)
    except ValidationError:
        return []  # core reports bad options at their own paths
    if options.media == "iso" and options.kernel_args:
        return [Problem(f"datacentres.{dc}.options.{PLUGIN}.kernel_args"
                        if "kernel_args" in (topo.datacentres[dc].options.get(PLUGIN) or {})
                        else f"options.{PLUGIN}.kernel_args",
                        "kernel_args apply to direct kernel boot only; with media: iso "
                        "put them in the Image Factory schematic instead")]
    return []
