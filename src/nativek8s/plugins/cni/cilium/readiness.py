"""Whether Cilium runs: the agent DaemonSet ``cilium`` and the ``cilium-operator``
Deployment (the names the chart gives them), ready on every node, read from their status
the way ``kubectl rollout status`` reads it."""

from __future__ import annotations

from typing import Any

from nativek8s.api import Reporter
from nativek8s.shared.waiting import Poll, wait_for

from .kube import Kube

NAMESPACE = "kube-system"
AGENT, OPERATOR = "cilium", "cilium-operator"
AGENT_PODS, OPERATOR_PODS = "k8s-app=cilium", "io.cilium/app=operator"
POLLED = (f"DaemonSet {NAMESPACE}/{AGENT}, Deployment {NAMESPACE}/{OPERATOR} and their "
          "pods")
HINT = (f"kubectl -n {NAMESPACE} get pods -l {AGENT_PODS} -o wide; kubectl -n {NAMESPACE} "
        f"describe pods -l {OPERATOR_PODS}; the agents' logs")


def _current(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)


def agents_state(ds: dict[str, Any] | None) -> tuple[bool, str]:
    if ds is None:
        return False, f"DaemonSet {AGENT} not found"
    s = ds.get("status") or {}
    want, ready = s.get("desiredNumberScheduled", 0), s.get("numberReady", 0)
    updated, unavailable = s.get("updatedNumberScheduled", 0), s.get("numberUnavailable", 0)
    ok = _current(ds) and want > 0 and ready == want and updated == want and not unavailable
    extra = f", {unavailable} unavailable" if unavailable else ""
    if not want:
        extra = ", scheduled on no node"
    return ok, f"agents {ready}/{want} ready{extra}"


def operator_state(dep: dict[str, Any] | None) -> tuple[bool, str]:
    if dep is None:
        return False, f"Deployment {OPERATOR} not found"
    s = dep.get("status") or {}
    want, ready = (dep.get("spec") or {}).get("replicas", 1), s.get("readyReplicas", 0)
    available: dict[str, Any] = next(
        (c for c in s.get("conditions") or [] if c.get("type") == "Available"), {})
    ok = _current(dep) and ready >= want and available.get("status") == "True"
    text = f"operator {ready}/{want} ready"
    if not ok and available:
        text += f" (Available={available.get('status')}: {available.get('message', '')})"
    return ok, text


def pod_problem(pod: dict[str, Any]) -> str | None:
    status = pod.get("status") or {}
    where = pod["spec"].get("nodeName") or "unscheduled"
    for cs in status.get("containerStatuses") or []:
        if cs.get("ready"):
            continue
        waiting = (cs.get("state") or {}).get("waiting") or {}
        why = waiting.get("reason") or status.get("phase", "not ready")
        msg = f": {waiting['message']}" if waiting.get("message") else ""
        return f"{pod['metadata']['name']} on {where}: {why}{msg}"
    if status.get("phase") not in ("Running", "Succeeded"):
        cond: dict[str, Any] = next(
            (c for c in status.get("conditions") or [] if c.get("status") == "False"), {})
        return (f"{pod['metadata']['name']} on {where}: {status.get('phase', 'Pending')}"
                f"{': ' + cond['message'] if cond.get('message') else ''}")
    return None


def cilium_ready(kube: Kube) -> Poll:
    agents_ok, agents = agents_state(kube.get("apps/v1", "DaemonSet", AGENT, NAMESPACE))
    op_ok, operator = operator_state(kube.get("apps/v1", "Deployment", OPERATOR, NAMESPACE))
    answer = f"{agents}; {operator}"
    if not (agents_ok and op_ok):
        pods = [p for sel in (AGENT_PODS, OPERATOR_PODS)
                for p in kube.list("v1", "Pod", NAMESPACE, label_selector=sel)]
        problems = [p for p in map(pod_problem, pods) if p]
        if problems:
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            answer += "; " + "; ".join(problems[:3]) + more
    return Poll(agents_ok and op_ok, answer)


def wait_cilium_ready(kube: Kube, timeout: float, interval: float = 2.0,
                      report: Reporter | None = None) -> str:
    """Wait for the agents and the operator; the last answer, as a step note."""
    return wait_for("Cilium agents and operator ready", POLLED, lambda: cilium_ready(kube),
                    timeout, interval, HINT, report=report).answer
