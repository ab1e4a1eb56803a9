"""Topology checks of the `talos` plugin (run through ``nativek8s_validate_topology``)."""

from __future__ import annotations

from pydantic import ValidationError

from nativek8s.api import NativeK8sError, Problem, Topology, UsageError

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
    problems += [p for p in _disk_problems(topo) if p not in problems]
    return problems


def _disk_problems(topo: Topology) -> list[Problem]:
    """An explicit install_disk the hypervisor does not attach: the install would fail."""
    from nativek8s.api import Hypervisor, build_plan, create_plugin

    from .disks import hypervisor_disk

    explicit = {dc: (spec.options.get(PLUGIN) or {}).get("install_disk")
                or (topo.options.get(PLUGIN) or {}).get("install_disk")
                for dc, spec in topo.datacentres.items()}
    if not any(explicit.values()):
        return []
    try:
        plan = build_plan(topo)
    except NativeK8sError:
        return []  # core reports what keeps the plan from being built
    found: dict[tuple[str, str, str, str, str], list[str]] = {}  # one problem per path
    for node in plan.nodes:
        wanted = explicit.get(node.datacentre)
        name = plan.composition.datacentre_hypervisors[node.datacentre]
        try:
            hypervisor = create_plugin("hypervisor", name)
        except NativeK8sError:
            continue  # an unknown hypervisor is core's to report
        assert isinstance(hypervisor, Hypervisor)
        attached = hypervisor_disk(hypervisor, plan, node)
        if not wanted or attached is None or attached == wanted:
            continue
        bus = hypervisor.system_disk(plan, node).bus
        where = node.datacentre
        path = (f"datacentres.{where}.options.{PLUGIN}.install_disk"
                if (topo.datacentres[where].options.get(PLUGIN) or {}).get("install_disk")
                else f"options.{PLUGIN}.install_disk")
        found.setdefault((path, wanted, name, bus, attached), []).append(node.name)
    return [Problem(path, (
        f"{wanted} does not exist on {', '.join(nodes)}: the {name} hypervisor attaches "
        f"{'their disks' if len(nodes) > 1 else 'its disk'} on {bus}, which the guest sees as "
        f"{attached}; set install_disk: {attached} or drop it (the default follows the "
        "hypervisor)")) for (path, wanted, name, bus, attached), nodes in found.items()]


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
