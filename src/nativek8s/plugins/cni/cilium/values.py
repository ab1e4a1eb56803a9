"""Helm values of the Cilium chart for a plan: native routing with the BGP control plane.

Always: routingMode native (no tunnel device), the BGP control plane, no IPv4 masquerade
(the routers see and route the pods' own addresses), ipv4NativeRoutingCIDR = the cluster
pod CIDR (traffic to it is never masqueraded or tunnelled), and the plan's direct node
routes. On Talos only: the values Talos needs (its docs' "Deploying Cilium CNI"), i.e.
kube-proxy replacement through KubePrism on localhost:7445, Talos' own cgroup mount, and
capability sets without SYS_MODULE (Talos forbids loading kernel modules from pods).
"""

from __future__ import annotations

from typing import Any

from nativek8s.api import Plan

from .options import CiliumOptions
from .secret import SECRET_NAMESPACE

TALOS_AGENT_CAPABILITIES = ("CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN",
                            "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")
TALOS_CLEAN_STATE_CAPABILITIES = ("NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE")
KUBEPRISM_PORT = 7445  # Talos' local API server load balancer
# The chart's default: two operators, never two on one node (required pod anti-affinity), so
# a one-node lab would keep one Pending and never be ready.
OPERATOR_REPLICAS = 2


def talos_values() -> dict[str, Any]:
    return {
        "kubeProxyReplacement": True,
        "securityContext": {"capabilities": {
            "ciliumAgent": list(TALOS_AGENT_CAPABILITIES),
            "cleanCiliumState": list(TALOS_CLEAN_STATE_CAPABILITIES),
        }},
        "cgroup": {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"},
        "k8sServiceHost": "localhost",
        "k8sServicePort": KUBEPRISM_PORT,
    }


def _ipam(plan: Plan, options: CiliumOptions) -> dict[str, Any]:
    if options.ipam == "kubernetes":
        return {"mode": "kubernetes"}
    return {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": [str(plan.cluster.pods)],
        "clusterPoolIPv4MaskSize": plan.cluster.pod_mask,
    }}


def helm_values(plan: Plan, options: CiliumOptions) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if plan.composition.nodeos == "talos":
        values.update(talos_values())
    values.update({
        "ipam": _ipam(plan, options),
        "routingMode": "native",
        "ipv4NativeRoutingCIDR": str(plan.cluster.pods),
        "enableIPv4Masquerade": False,
        "bgpControlPlane": {"enabled": True},
        "operator": {"replicas": min(OPERATOR_REPLICAS, len(plan.nodes))},
    })
    if plan.md5:
        # Pin where the MD5 Secret lives, so values and the Secret manifest agree.
        values["bgpControlPlane"]["secretsNamespace"] = {"create": False,
                                                         "name": SECRET_NAMESPACE}
    if plan.cluster.direct_node_routes:
        # Nodes sharing a LAN route each other's PodCIDRs directly; nodes in other
        # datacentres sit behind a gateway, which Cilium refuses unless told to skip them.
        values["autoDirectNodeRoutes"] = True
        values["directRoutingSkipUnreachable"] = True
    else:
        # directRoutingSkipUnreachable without autoDirectNodeRoutes stops the agent.
        values["autoDirectNodeRoutes"] = False
    return values
