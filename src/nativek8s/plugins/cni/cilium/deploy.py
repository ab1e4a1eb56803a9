"""The plugin's deploy steps on a real cluster, and the cluster access verify needs.

install (helm or the cilium CLI, then agents and operator ready) and the nodes' ``dc``
labels are independent; the BGP resources need both (the CRDs come with Cilium, the
selectors need the labels); then deploy waits for every node's sessions. Each step is an
ensure: run again, it finds the work done and says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nativek8s.api import CheckResult, LabContext, Plan, Step

from .apply import apply_bgp, ensure_node_labels
from .bgp_status import PeerReader, cilium_cli_reader, node_config_reader, wait_bgp
from .cluster_checks import bgp_checks, source_checks
from .install import choose_installer, ensure_installed
from .kube import Kube, kubeconfig_path, require_kubernetes
from .observer import CiliumObserver
from .options import PLUGIN, chart_version, options_of
from .pod_cidrs import ensure_pod_cidrs, live_pod_cidrs, pod_cidr_checks
from .readiness import wait_cilium_ready
from .running_config import config_checks
from .versions import BgpFlavour, bgp_api

INSTALL, LABELS, BGP, BGP_WAIT = (f"{PLUGIN}:install", f"{PLUGIN}:labels", f"{PLUGIN}:bgp",
                                  f"{PLUGIN}:bgp-wait")
POD_CIDRS = f"{PLUGIN}:podcidrs"


def connect(ctx: LabContext, purpose: str) -> Kube:
    """A client of the lab's cluster; each concurrent step caches discovery apart."""
    cache: Path = ctx.state.backend_dir(PLUGIN) / f"discovery-{purpose}.json"
    return Kube.connect(kubeconfig_path(ctx), cache)


def peer_reader(kube: Kube, plan: Plan, kubeconfig: Path) -> tuple[PeerReader | None, str]:
    """How to read the nodes' BGP sessions for this plan, and what that reads."""
    api = bgp_api(plan.versions["cilium"], options_of(plan).peering_policy)
    if api.flavour == BgpFlavour.bgpv2:
        return (node_config_reader(kube, api.api_version),
                f"CiliumBGPNodeConfig ({api.api_version}) status of every node")
    cli = shutil.which("cilium")
    if cli is None:
        return None, ("CiliumBGPPeeringPolicy reports no status through the API, and the "
                      "cilium CLI (`cilium bgp peers`) is not on PATH")
    return cilium_cli_reader(cli, kubeconfig), "`cilium bgp peers` for every node"


def deploy_steps(ctx: LabContext) -> list[Step]:
    plan = ctx.plan
    options = options_of(plan)
    # Refuse now, before any machine is created, what would only fail at the CNI steps.
    require_kubernetes()
    installer = choose_installer(options.installer)
    kubeconfig = kubeconfig_path(ctx)
    report = ctx.report  # shows the long waits (agents ready, BGP sessions up)

    def install() -> str:
        kube = connect(ctx, "install")
        note = ensure_installed(kube, installer, plan, options, kubeconfig,
                                ctx.state.backend_dir(PLUGIN) / "values.yaml")
        return f"{note}; {wait_cilium_ready(kube, options.ready_timeout, report=report)}"

    def labels() -> str:
        return ensure_node_labels(connect(ctx, "labels"), plan)

    def bgp() -> str:
        return apply_bgp(connect(ctx, "bgp"), plan, ctx.secrets)

    def pod_cidrs() -> str:
        return ensure_pod_cidrs(connect(ctx, "podcidrs"), plan, options.register_timeout,
                                report=report)

    def bgp_wait() -> str:
        kube = connect(ctx, "bgp-wait")
        read, source = peer_reader(kube, plan, kubeconfig)
        if read is None:
            return f"not waited: {source}"
        cidrs = (lambda node: live_pod_cidrs(kube, node)) if kubernetes_ipam else None
        return wait_bgp(plan, read, source, options.bgp_timeout, report=report, cidrs=cidrs)

    # Kubernetes IPAM: Cilium takes each Node's PodCIDR as it is, so it is set from the plan
    # before Cilium starts (the routers accept only the planned one from each node).
    kubernetes_ipam = options.ipam == "kubernetes"
    first: list[Step] = [Step(POD_CIDRS, "give every node its planned PodCIDR", pod_cidrs)] \
        if kubernetes_ipam else []
    return [
        *first,
        Step(INSTALL, f"install Cilium {chart_version(plan)} ({installer.kind})", install,
             after=tuple(s.key for s in first)),
        Step(LABELS, "label nodes with their datacentre", labels),
        Step(BGP, "apply Cilium BGP resources", bgp, after=(INSTALL, LABELS)),
        Step(BGP_WAIT, "wait for every node to announce its PodCIDR over BGP", bgp_wait,
             after=(BGP,)),
    ]


def cluster_checks(ctx: LabContext) -> list[CheckResult]:
    kube = connect(ctx, "verify")
    read, source = peer_reader(kube, ctx.plan, kubeconfig_path(ctx))
    bgp = bgp_checks(ctx.plan, read) if read else [
        CheckResult("bgp", n.name, False, "Established", source, n.datacentre, n.name)
        for n in ctx.plan.nodes]
    cidrs = pod_cidr_checks(kube, ctx.plan) if options_of(ctx.plan).ipam == "kubernetes" else []
    return cidrs + bgp + config_checks(kube, ctx.plan) + source_checks(kube, ctx.plan)


def observer(ctx: LabContext) -> CiliumObserver:
    kube = connect(ctx, "observe")
    read, source = peer_reader(kube, ctx.plan, kubeconfig_path(ctx))
    return CiliumObserver(kube, ctx.plan, read, source)
