"""Test workloads that prove pods are routed natively between datacentres.

One agnhost ``netexec`` pod (the HTTP echo of Kubernetes' own network tests) is pinned to
a node of every datacentre. A request from datacentre A to B asks A's pod, through the
API server's pod proxy, to ``/dial`` B's pod's ``/clientip``: the answer is the address B's
pod saw, which must be A's pod's own address (no SNAT on the way). Only the API is used:
no exec, no port-forward, nothing on the host. The pods are removed afterwards, and any
left by an interrupted run are removed first.

Needs: the API server reaches the near pod (true when pods are routed at all; otherwise
the request fails with the proxy's error, which the check reports).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from nativek8s.api import NodePlan, Plan, ProbeResult
from nativek8s.shared.waiting import Poll, wait_for

from .kube import Kube, KubeError
from .labels import LAB, owned
from .node_labels import kube_node_name
from .readiness import pod_problem

IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53"
PORT = 8080
NAMESPACE = "default"
PROBE = "nativek8s.io/probe"  # label: the datacentre a probe pod stands for
PROBE_TIMEOUT = 180  # seconds for the probe pods to run (their image is pulled first)


def probe_nodes(plan: Plan) -> list[NodePlan]:
    """The first node of every datacentre with nodes (the nodes verify probes from)."""
    return [n for dc in plan.datacentres if dc.nodes
            for n in plan.nodes if n.name == dc.nodes[0]]


def probe_pod(plan: Plan, node: NodePlan, run: str) -> dict[str, Any]:
    name = f"nk8s-probe-{node.datacentre[:40]}-{run}".lower()
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE,
                     "labels": {**owned(plan.lab), PROBE: node.datacentre}},
        "spec": {
            "nodeName": kube_node_name(node),  # pinned: no scheduler, control planes too
            "tolerations": [{"operator": "Exists"}],
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "netexec", "image": IMAGE,
                "args": ["netexec", f"--http-port={PORT}"],
                "ports": [{"containerPort": PORT, "name": "http"}],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


@dataclass(frozen=True)
class ProbePod:
    node: str  # plan node name
    name: str
    address: str


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conditions.get("Ready") == "True" \
        and bool(status.get("podIP"))


def read_dial(code: int, body: str) -> ProbeResult:
    """agnhost /dial's answer through the proxy: value = the address the far pod saw."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "kind" in answer:  # a proxy error, not netexec
        message = answer.get("message", body) if isinstance(answer, dict) else body
        return ProbeResult(False, f"HTTP {code} from the API server's pod proxy: "
                                  f"{str(message).strip()[:200]}")
    responses, errors = answer.get("responses") or [], answer.get("errors") or []
    if code == 200 and responses:
        seen = str(responses[-1]).strip()
        host = seen.rsplit(":", 1)[0] if ":" in seen else seen
        return ProbeResult(True, f"answered: {seen}", host.strip("[]"))
    return ProbeResult(False, "; ".join(map(str, errors)) or f"HTTP {code}: no answer")


class ProbeSession:
    """The probe pods of one verify run (a context manager: created, then removed)."""

    def __init__(self, kube: Kube, plan: Plan, nodes: list[NodePlan] | None = None,
                 timeout: float = PROBE_TIMEOUT, interval: float = 2.0) -> None:
        self.kube, self.plan = kube, plan
        self.nodes = nodes if nodes is not None else probe_nodes(plan)
        self.timeout, self.interval = timeout, interval
        self.run = secrets.token_hex(3)
        self.pods: dict[str, ProbePod] = {}  # plan node name → its probe pod

    @property
    def selector(self) -> str:
        return f"{LAB}={self.plan.lab},{PROBE}"

    def remove(self) -> int:
        """Delete every probe pod of this lab (this run's and leftovers); how many."""
        pods = self.kube.list("v1", "Pod", NAMESPACE, label_selector=self.selector)
        return sum(self.kube.delete("v1", "Pod", p["metadata"]["name"], NAMESPACE) for p in pods)

    def __enter__(self) -> Self:
        self.remove()
        try:
            wanted = {n.name: probe_pod(self.plan, n, self.run) for n in self.nodes}
            for body in wanted.values():
                self.kube.apply(body)
            names = {body["metadata"]["name"]: node for node, body in wanted.items()}
            wait_for("probe pods running", f"pods {', '.join(sorted(names))} in {NAMESPACE}",
                     lambda: self._poll(names), self.timeout, self.interval,
                     f"kubectl -n {NAMESPACE} describe pods -l {PROBE}")
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()

    def _poll(self, names: dict[str, str]) -> Poll:
        pods = self.kube.list("v1", "Pod", NAMESPACE, label_selector=self.selector)
        mine = {p["metadata"]["name"]: p for p in pods if p["metadata"]["name"] in names}
        notes = []
        for name, node in names.items():
            pod = mine.get(name)
            if pod is not None and _ready(pod):
                self.pods[node] = ProbePod(node, name, pod["status"]["podIP"])
                continue
            if pod is None:
                notes.append(f"{name}: gone")
            else:
                notes.append(pod_problem(pod) or f"{name}: not ready")
        return Poll(not notes, "; ".join(notes) or "all running")

    def client_address(self, src: str, dst: str) -> ProbeResult:
        """From src's probe pod to dst's (plan node names): the source dst's pod saw."""
        near, far = self.pods[src], self.pods[dst]
        query = {"request": "clientip", "host": far.address, "port": str(PORT),
                 "protocol": "http", "tries": "1"}
        try:
            code, body = self.kube.pod_proxy_get(NAMESPACE, near.name, PORT, "dial", query)
        except KubeError as exc:
            return ProbeResult(False, str(exc))
        return read_dial(code, body)
