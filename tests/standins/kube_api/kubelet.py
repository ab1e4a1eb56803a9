"""Bare Pods (no owner): scheduling, sandbox address and container status.

Stands in for kube-scheduler (a Pod without ``spec.nodeName`` is bound to the first node,
by name, whose labels match ``spec.nodeSelector``; none matching leaves it Pending and
Unschedulable) and for the kubelet with its CNI on that node (the pod gets the next free
address of the node's ``spec.podCIDR``, as host-local IPAM and Cilium's
``ipam: kubernetes`` mode hand them out; a node without a PodCIDR leaves the pod in
ContainerCreating). Pods of DaemonSets and Deployments are left to workloads.py.

Test knob: ``failing_images`` — images whose pull fails (ImagePullBackOff).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from .registry import ResourceType
from .ssa import now
from .store import Store

SCHEDULER, KUBELET = "kube-scheduler", "kubelet"


def _matches(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def node_address(node: dict[str, Any]) -> str:
    for entry in (node.get("status") or {}).get("addresses") or []:
        if entry.get("type") == "InternalIP":
            return entry["address"]
    return ""


class Kubelet:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.failing_images: set[str] = set()
        self._used: dict[str, set[str]] = {}  # node → pod addresses in use
        store.hooks.append(self._on_event)

    def _rtype(self, plural: str) -> ResourceType:
        found = self.store.registry.lookup("", "v1", plural)
        assert found is not None
        return found

    def _on_event(self, event: str, rtype: ResourceType, obj: dict[str, Any]) -> None:
        if rtype.kind != "Pod" or obj["metadata"].get("ownerReferences"):
            return
        if event == "DELETED":
            node = obj["spec"].get("nodeName", "")
            self._used.get(node, set()).discard((obj.get("status") or {}).get("podIP", ""))
        elif event == "ADDED":
            self._start(obj)

    def _schedule(self, pod: dict[str, Any]) -> dict[str, Any] | None:
        nodes = self.store.items(self._rtype("nodes"))
        wanted = pod["spec"].get("nodeName")
        if wanted:
            return next((n for n in nodes if n["metadata"]["name"] == wanted), None)
        selector = pod["spec"].get("nodeSelector") or {}
        return next((n for n in nodes if _matches(n["metadata"].get("labels") or {}, selector)),
                    None)

    def _allocate(self, node: dict[str, Any]) -> str:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not cidr:
            return ""
        used = self._used.setdefault(node["metadata"]["name"], set())
        hosts = ipaddress.ip_network(cidr).hosts()
        next(hosts, None)  # the first address is the node's own (Cilium's cilium_host)
        for host in hosts:
            if str(host) not in used:
                used.add(str(host))
                return str(host)
        return ""

    def _start(self, created: dict[str, Any]) -> None:
        rtype = self._rtype("pods")
        ns, name = created["metadata"]["namespace"], created["metadata"]["name"]
        pod = copy.deepcopy(created)
        node = self._schedule(pod)
        stamp = now()
        if node is None:
            if pod["spec"].get("nodeName"):
                return  # bound to a node that has no kubelet: stays Pending without status
            count = len(self.store.items(self._rtype("nodes")))
            pod["status"] = {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "lastProbeTime": None, "lastTransitionTime": stamp,
                "message": f"0/{count} nodes are available: {count} node(s) didn't match "
                           "Pod's node affinity/selector."}]}
            self.store.update(rtype, ns, name, pod, manager=SCHEDULER, subresource="status")
            return
        if not pod["spec"].get("nodeName"):
            pod["spec"]["nodeName"] = node["metadata"]["name"]
            pod, _ = self.store.update(rtype, ns, name, pod, manager=SCHEDULER)
        pod["status"] = self._status(pod, node, stamp)
        self.store.update(rtype, ns, name, pod, manager=KUBELET, subresource="status")

    def _status(self, pod: dict[str, Any], node: dict[str, Any], stamp: str) -> dict[str, Any]:
        address = self._allocate(node)
        containers = pod["spec"].get("containers") or []
        failing = [c for c in containers if c.get("image") in self.failing_images]
        ready = bool(address) and not failing

        def state(c: dict[str, Any]) -> dict[str, Any]:
            if not address:
                return {"waiting": {"reason": "ContainerCreating"}}
            if c in failing:
                return {"waiting": {"reason": "ImagePullBackOff",
                                    "message": f'Back-off pulling image "{c.get("image")}"'}}
            return {"running": {"startedAt": stamp}}

        flag = "True" if ready else "False"
        conditions = [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": stamp}
                      for t, s in (("PodScheduled", "True"), ("Initialized", "True"),
                                   ("ContainersReady", flag), ("Ready", flag))]
        status: dict[str, Any] = {
            "phase": "Running" if ready else "Pending", "conditions": conditions,
            "hostIP": node_address(node), "startTime": stamp,
            "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                   "ready": ready and c not in failing, "restartCount": 0,
                                   "started": ready, "state": state(c)} for c in containers]}
        if address:
            status["podIP"] = address
            status["podIPs"] = [{"ip": address}]
        return status
