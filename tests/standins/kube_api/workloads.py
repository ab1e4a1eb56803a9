"""The controllers a real cluster runs behind the API: DaemonSet/Deployment pods and
status, CRD establishment, namespace cleanup.

Stands in for kube-controller-manager (daemonset, deployment/replicaset controllers) and
the kubelet's pod status, reduced to what readiness waits read: DaemonSet
`desiredNumberScheduled/numberReady/...`, Deployment `readyReplicas/availableReplicas`
and the `Available` condition, and each pod's `Ready` condition. Readiness follows the
scripts in readiness.py. Pods are named as the real controllers name them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from . import errors
from .readiness import Readiness, WorkloadKey
from .registry import Registry, ResourceType
from .store import Store

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
MANAGER = "kube-controller-manager"


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


class Workloads:
    def __init__(self, store: Store, registry: Registry, readiness: Readiness) -> None:
        self.store = store
        self.registry = registry
        self.readiness = readiness
        self.pod_owner: dict[tuple[str, str], WorkloadKey] = {}
        self.on_ready: list[Callable[[WorkloadKey, dict[str, Any]], None]] = []
        self._announced: set[WorkloadKey] = set()
        store.hooks.append(self._on_event)

    def rtype(self, group: str, plural: str) -> ResourceType:
        version = "v1"
        found = self.registry.lookup(group, version, plural)
        assert found is not None
        return found

    # --- reactions to writes -----------------------------------------------------------

    def _on_event(self, event: str, rtype: ResourceType, obj: dict[str, Any]) -> None:
        kind = rtype.kind
        if kind == "CustomResourceDefinition":
            if event == "DELETED":
                self.registry.drop_crd(obj["metadata"]["name"])
                self.store.drop_resource(obj["spec"]["group"], obj["spec"]["names"]["plural"])
            else:
                self.registry.set_crd(obj)
                self._establish(obj)
        elif kind == "Namespace" and event == "DELETED":
            self.store.drop_namespace(obj["metadata"]["name"])
        elif kind in ("DaemonSet", "Deployment"):
            key = (kind, obj["metadata"]["namespace"], obj["metadata"]["name"])
            if event == "DELETED":
                self._delete_pods(key)
            else:
                self.refresh(key)
        elif kind == "Node":
            for ds in self.store.items(self.rtype("apps", "daemonsets")):
                self.refresh(("DaemonSet", ds["metadata"]["namespace"], ds["metadata"]["name"]))

    def _establish(self, crd: dict[str, Any]) -> None:
        status = crd.get("status") or {}
        if any(c.get("type") == "Established" for c in status.get("conditions") or []):
            return
        now = crd["metadata"]["creationTimestamp"]
        conditions = [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now}]
        body = dict(crd)
        body["status"] = {"acceptedNames": crd["spec"]["names"], "conditions": conditions,
                          "storedVersions": [v["name"] for v in crd["spec"]["versions"]
                                             if v.get("storage")]}
        self.store.update(self.rtype("apiextensions.k8s.io", "customresourcedefinitions"), "",
                          crd["metadata"]["name"], body, manager="kube-apiserver",
                          subresource="status")

    # --- polls, status and pods --------------------------------------------------------

    def poll(self, key: WorkloadKey) -> None:
        self.readiness.poll(key)
        self.refresh(key)

    def workload_of_pod(self, namespace: str, name: str) -> WorkloadKey | None:
        return self.pod_owner.get((namespace, name))

    def refresh(self, key: WorkloadKey) -> None:
        kind, namespace, name = key
        plural = "daemonsets" if kind == "DaemonSet" else "deployments"
        rtype = self.rtype("apps", plural)
        obj = self.store.find(rtype, namespace, name)
        if obj is None:
            return
        ready = self.readiness.is_ready(key)
        if kind == "DaemonSet":
            nodes = [n["metadata"]["name"] for n in self.store.items(self.rtype("", "nodes"))]
            pods = [(f"{name}-{_suffix(name + node, 5)}", node) for node in nodes]
            status = self._ds_status(obj, len(nodes), ready)
        else:
            replicas = obj.get("spec", {}).get("replicas", 1)
            template_hash = _suffix(name + str(obj["metadata"].get("generation", 1)), 10)
            pods = [(f"{name}-{template_hash}-{_suffix(name + str(i), 5)}", "")
                    for i in range(replicas)]
            placeable = replicas
            if _one_per_node(obj):  # the scheduler leaves the replicas beyond one per node Pending
                placeable = min(replicas, len(self.store.items(self.rtype("", "nodes"))))
            status = self._deploy_status(obj, replicas, ready, placeable)
        if obj.get("status") != status:
            body = dict(obj)
            body["status"] = status
            self.store.update(rtype, namespace, name, body, manager=MANAGER, subresource="status")
        self._sync_pods(key, obj, pods, ready)
        if ready and key not in self._announced:
            self._announced.add(key)
            for callback in list(self.on_ready):
                callback(key, obj)

    @staticmethod
    def _ds_status(obj: dict[str, Any], count: int, ready: bool) -> dict[str, Any]:
        status = {"currentNumberScheduled": count, "desiredNumberScheduled": count,
                  "numberMisscheduled": 0, "numberReady": count if ready else 0,
                  "observedGeneration": obj["metadata"].get("generation", 1),
                  "updatedNumberScheduled": count}
        if ready:
            status["numberAvailable"] = count
        elif count:
            status["numberUnavailable"] = count
        return status

    @staticmethod
    def _deploy_status(obj: dict[str, Any], replicas: int, ready: bool,
                       placeable: int) -> dict[str, Any]:
        running = placeable if ready else 0  # Pending replicas never run
        ready = ready and placeable == replicas
        stamp = obj["metadata"]["creationTimestamp"]
        available = {"type": "Available", "status": "True" if ready else "False",
                     "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                     "message": "Deployment has minimum availability." if ready else
                     "Deployment does not have minimum availability.",
                     "lastUpdateTime": stamp, "lastTransitionTime": stamp}
        progressing = {"type": "Progressing", "status": "True",
                       "reason": "NewReplicaSetAvailable" if ready else "ReplicaSetUpdated",
                       "message": "ReplicaSet has successfully progressed." if ready else
                       "ReplicaSet is progressing.",
                       "lastUpdateTime": stamp, "lastTransitionTime": stamp}
        status: dict[str, Any] = {"observedGeneration": obj["metadata"].get("generation", 1),
                                  "replicas": replicas, "updatedReplicas": replicas,
                                  "conditions": [available, progressing]}
        if ready:
            status["readyReplicas"] = replicas
            status["availableReplicas"] = replicas
        else:
            status["unavailableReplicas"] = replicas - running
            if running:
                status["readyReplicas"] = status["availableReplicas"] = running
        return status

    def _sync_pods(self, key: WorkloadKey, owner: dict[str, Any], pods: list[tuple[str, str]],
                   ready: bool) -> None:
        _, namespace, _ = key
        rtype = self.rtype("", "pods")
        wanted = {name for name, _ in pods}
        for (ns, pod_name), owner_key in list(self.pod_owner.items()):
            if owner_key == key and pod_name not in wanted:
                self._delete_pod(rtype, ns, pod_name)
        for pod_name, node in pods:
            body = self._pod(owner, key, pod_name, node, ready)
            existing = self.store.find(rtype, namespace, pod_name)
            self.pod_owner[(namespace, pod_name)] = key
            if existing is None:
                status = body.pop("status")
                created, _ = self.store.create(rtype, namespace, body, manager=MANAGER)
                created["status"] = status
                self.store.update(rtype, namespace, pod_name, created, manager="kubelet",
                                  subresource="status")
            elif existing.get("status") != body["status"]:
                existing["status"] = body["status"]
                self.store.update(rtype, namespace, pod_name, existing, manager="kubelet",
                                  subresource="status")

    def _delete_pod(self, rtype: ResourceType, namespace: str, name: str) -> None:
        self.pod_owner.pop((namespace, name), None)
        try:
            self.store.delete(rtype, namespace, name)
        except errors.ApiError:
            pass

    def _delete_pods(self, key: WorkloadKey) -> None:
        rtype = self.rtype("", "pods")
        for (ns, name), owner_key in list(self.pod_owner.items()):
            if owner_key == key:
                self._delete_pod(rtype, ns, name)
        self._announced.discard(key)

    @staticmethod
    def _pod(owner: dict[str, Any], key: WorkloadKey, name: str, node: str,
             ready: bool) -> dict[str, Any]:
        kind, namespace, owner_name = key
        template = owner.get("spec", {}).get("template", {})
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        containers = (template.get("spec") or {}).get("containers") or [
            {"name": owner_name, "image": "registry.k8s.io/pause:3.10"}]
        stamp = owner["metadata"]["creationTimestamp"]
        flag = "True" if ready else "False"
        conditions = [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": stamp}
                      for t, s in (("PodScheduled", "True"), ("Initialized", "True"),
                                   ("ContainersReady", flag), ("Ready", flag))]
        statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                     "ready": ready, "restartCount": 0, "started": True,
                     "state": {"running": {"startedAt": stamp}}} for c in containers]
        owner_ref = {"apiVersion": "apps/v1", "kind": kind if kind == "DaemonSet" else "ReplicaSet",
                     "name": owner_name if kind == "DaemonSet" else name.rsplit("-", 1)[0],
                     "uid": owner["metadata"]["uid"], "controller": True,
                     "blockOwnerDeletion": True}
        spec: dict[str, Any] = {"containers": [{"name": c["name"], "image": c.get("image", "")}
                                               for c in containers]}
        if node:
            spec["nodeName"] = node
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": labels,
                             "ownerReferences": [owner_ref]},
                "spec": spec,
                "status": {"phase": "Running", "conditions": conditions,
                           "containerStatuses": statuses, "startTime": stamp}}


def _one_per_node(deployment: dict[str, Any]) -> bool:
    """A required pod anti-affinity on the node's hostname: at most one replica per node."""
    affinity = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "affinity") or {}
    terms = (affinity.get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or []
    return any(t.get("topologyKey") == "kubernetes.io/hostname" for t in terms)
