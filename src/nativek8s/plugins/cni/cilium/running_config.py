"""Cilium's running configuration against the plan: the ``cilium-config`` ConfigMap the
agents read (the chart writes the Helm values into it under the agent's option names)."""

from __future__ import annotations

from nativek8s.api import CheckResult, Plan

from .kube import Kube, KubeError
from .readiness import NAMESPACE

CONFIG_MAP = "cilium-config"


def expectations(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(verify check, agent option, planned value, what the value means)."""
    return [
        ("overlay", "routing-mode", "native", "native routing: no tunnel device"),
        ("source", "enable-ipv4-masquerade", "false", "pods keep their own source address"),
        ("bgp", "enable-bgp-control-plane", "true", "the agents run BGP"),
        ("routes", "ipv4-native-routing-cidr", str(plan.cluster.pods),
         "traffic to the pod CIDR is routed as is"),
        ("routes", "auto-direct-node-routes", str(plan.cluster.direct_node_routes).lower(),
         "direct routes between nodes of one LAN as planned"),
    ]


def config_checks(kube: Kube, plan: Plan) -> list[CheckResult]:
    hint = f"kubectl -n {NAMESPACE} get configmap {CONFIG_MAP} -o yaml; the Helm values"
    try:
        found = kube.get("v1", "ConfigMap", CONFIG_MAP, NAMESPACE)
        error = "" if found else f"no ConfigMap {NAMESPACE}/{CONFIG_MAP}: is Cilium installed?"
    except KubeError as exc:
        found, error = None, str(exc)
    data = (found or {}).get("data") or {}
    results = []
    for check, option, want, meaning in expectations(plan):
        have = data.get(option)
        observed = error or (f"{option}: {have}" if have is not None else f"{option} not set")
        results.append(CheckResult(check, f"cilium-config {option}", have == want,
                                   f"{option}: {want} ({meaning})", observed, hint=hint))
    return results
