"""Every node's PodCIDR is the one the plan gives it.

The routers accept from each node exactly its planned PodCIDR (per-node import filters), so
a node announcing another prefix is filtered and its pods are unreachable from the other
datacentres. Kubernetes would hand PodCIDRs out in registration order (a race between
datacentres; a node that re-joins gets a new one). So the node OS turns the
controller-manager's node IPAM off (Talos: ``allocate-node-cidrs=false``), Cilium runs in
``kubernetes`` IPAM (it takes ``Node.spec.podCIDRs`` as they are), and this module writes
each registered node's ``spec.podCIDR(s)`` from the plan before Cilium is installed.

The API lets a Node's PodCIDR be set once ("node updates may not change podCIDR except from
\\"\\" to valid"): a node that already has another one must register again (delete the
Node object, reboot the machine) to get the plan's.
"""

from __future__ import annotations

from typing import Any

from nativek8s.api import CheckResult, NativeK8sError, NodePlan, Plan
from nativek8s.shared.waiting import Poll, wait_for

from .kube import Kube, KubeError
from .node_labels import kube_node_name

HINT = "`kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDRS:.spec.podCIDRs`"


class PodCidrMismatch(NativeK8sError):
    """A node has another PodCIDR than the plan's (it cannot be changed in place)."""


def _live_cidrs(live: dict) -> list[str]:
    spec = live.get("spec") or {}
    return list(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))


def live_pod_cidrs(kube: Kube, name: str) -> list[str]:
    """A node's PodCIDRs as the API has them (empty: none, or not registered)."""
    live = kube.get("v1", "Node", name)
    return _live_cidrs(live) if live is not None else []


def remedy(node: NodePlan) -> str:
    name = kube_node_name(node)
    return (f"a node's PodCIDR cannot change once set: delete the Node (`kubectl delete node "
            f"{name}`), reboot the machine so its kubelet registers it again, and run "
            f"`nativek8s deploy` again, which gives it {node.pod_cidr}; if the "
            f"controller-manager set it, its node IPAM is on (allocate-node-cidrs)")


def mismatch(node: NodePlan, actual: list[str]) -> str:
    name = kube_node_name(node)
    return (f"node {name} has PodCIDR {', '.join(actual)} but the plan gives it "
            f"{node.pod_cidr}: its datacentre's router accepts only {node.pod_cidr} from it, "
            f"so its pods are unreachable from other datacentres; {remedy(node)}")


def assign(kube: Kube, node: NodePlan) -> str:
    """'assigned', 'kept' or 'absent' (not registered yet); raise on another PodCIDR."""
    name = kube_node_name(node)
    live = kube.get("v1", "Node", name)
    if live is None:
        return "absent"
    have = _live_cidrs(live)
    if have == [str(node.pod_cidr)]:
        return "kept"
    if have:
        raise PodCidrMismatch(mismatch(node, have))
    version = (live.get("metadata") or {}).get("resourceVersion")
    body = {"metadata": {"resourceVersion": version},
            "spec": {"podCIDR": str(node.pod_cidr), "podCIDRs": [str(node.pod_cidr)]}}
    try:
        kube.merge_patch("v1", "Node", name, body)
    except KubeError as exc:
        if exc.status in (404, 409):  # re-registered or changed meanwhile: look again
            return "absent"
        raise
    return "assigned"


def ensure_pod_cidrs(kube: Kube, plan: Plan, timeout: float, interval: float = 2.0,
                     report: Any = None) -> str:
    """Wait for every planned node to register, giving each its planned PodCIDR."""
    done: dict[str, str] = {}
    wrong: list[str] = []  # waiting cannot fix these: stop polling and say so

    def probe() -> Poll:
        waiting = []
        for node in plan.nodes:
            if done.get(node.name) in ("assigned", "kept", "wrong"):
                continue
            try:
                outcome = assign(kube, node)
            except PodCidrMismatch as exc:
                outcome = "wrong"
                wrong.append(str(exc))
            done[node.name] = outcome
            if outcome == "absent":
                waiting.append(kube_node_name(node))
        return Poll(not waiting, "not registered: " + ", ".join(waiting) if waiting
                    else "every node registered")

    wait_for("every node registered with the plan's PodCIDR", "the Node objects", probe,
             timeout, interval, HINT, report=report)
    if wrong:
        raise PodCidrMismatch("\n".join(wrong))
    assigned = sum(1 for v in done.values() if v == "assigned")
    kept = sum(1 for v in done.values() if v == "kept")
    return f"{assigned} set from the plan, {kept} already right"


def pod_cidr_checks(kube: Kube, plan: Plan) -> list[CheckResult]:
    """verify: each node's PodCIDR, read from the API, is the plan's."""
    results = []
    for node in plan.nodes:
        name = kube_node_name(node)
        try:
            live = kube.get("v1", "Node", name)
        except NativeK8sError as exc:
            live, error = None, str(exc)
        else:
            error = f"node {name} is not registered"
        have = _live_cidrs(live) if live is not None else []
        ok = have == [str(node.pod_cidr)]
        if ok:
            observed, hint = ", ".join(have), ""
        elif live is None:
            observed, hint = error, "the node's kubelet; `kubectl get nodes`"
        elif not have:
            observed = f"node {name} has no PodCIDR"
            hint = "run `nativek8s deploy` again: it sets every registered node's PodCIDR"
        else:
            observed = (f"{', '.join(have)} (its router accepts only {node.pod_cidr} from it: "
                        "its pods are unreachable from other datacentres)")
            hint = remedy(node)
        results.append(CheckResult("podcidr", f"{node.name} ({name})", ok, str(node.pod_cidr),
                                   observed, node.datacentre, node.name, hint))
    return results
