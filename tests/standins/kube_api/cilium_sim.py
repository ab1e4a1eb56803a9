"""What Cilium's operator does to the API that a CNI installer can observe.

Stands in for cilium-operator: once the `cilium-operator` Deployment is ready it
registers the CRDs of its version (taken from the image tag, loaded from the upstream
snapshot), and for every CiliumBGPClusterConfig it keeps one CiliumBGPNodeConfig per
selected node (named after the node, owned by the cluster config), as the BGPv2
reconciler does. Peer session state is not simulated: tests set it through
`set_peer_states`, writing the CiliumBGPNodeConfig status fields the agent writes.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import crds as crd_files
from . import errors
from .readiness import WorkloadKey
from .registry import ResourceType
from .store import APPLY, Store
from .workloads import Workloads

OPERATOR = "cilium-operator-generic"
AGENT = "cilium-agent"


def image_version(deployment: dict[str, Any]) -> str | None:
    for container in deployment.get("spec", {}).get("template", {}).get("spec", {}).get(
            "containers", []):
        match = re.search(r":(v?\d+\.\d+[^@]*)", container.get("image", ""))
        if match:
            return match.group(1)
    return None


def _selected(node: dict[str, Any], selector: dict[str, Any] | None) -> bool:
    if not selector:
        return True
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class CiliumOperator:
    def __init__(self, store: Store, workloads: Workloads, install_crds: bool = True) -> None:
        self.store = store
        self.workloads = workloads
        self.install_crds = install_crds
        self.running_version: str | None = None
        workloads.on_ready.append(self._on_ready)
        store.hooks.append(self._on_event)

    def _storage_type(self, plural: str) -> ResourceType | None:
        for rtype in self.store.registry.types():
            if rtype.group == "cilium.io" and rtype.plural == plural and \
                    rtype.version == rtype.storage_version:
                return rtype
        return None

    def _on_ready(self, key: WorkloadKey, deployment: dict[str, Any]) -> None:
        if key[0] != "Deployment" or key[2] != "cilium-operator":
            return
        version = image_version(deployment)
        self.running_version = version
        if self.install_crds and version:
            try:
                self.register_crds(version)
            except (FileNotFoundError, KeyError):
                pass  # no upstream snapshot for this version: the API keeps serving no CRDs
        self.reconcile()

    def register_crds(self, version: str) -> None:
        """Create (or replace) the BGP CRDs of one Cilium version, as the operator does."""
        rtype = self.workloads.rtype("apiextensions.k8s.io", "customresourcedefinitions")
        for crd in crd_files.load_cilium_crds(version):
            body = copy.deepcopy(crd)
            body.pop("status", None)
            body["metadata"].setdefault("labels", {})["io.cilium.k8s.crd.schema.version"] = version
            existing = self.store.find(rtype, "", body["metadata"]["name"])
            if existing is None:
                self.store.create(rtype, "", body, manager=OPERATOR)
            else:
                body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
                self.store.update(rtype, "", body["metadata"]["name"], body, manager=OPERATOR)

    def _on_event(self, event: str, rtype: ResourceType, obj: dict[str, Any]) -> None:
        if self.running_version is None:
            return
        if rtype.kind in ("CiliumBGPClusterConfig", "Node"):
            self.reconcile()

    def reconcile(self) -> None:
        """One CiliumBGPNodeConfig per (cluster config, selected node)."""
        cluster_type = self._storage_type("ciliumbgpclusterconfigs")
        node_config_type = self._storage_type("ciliumbgpnodeconfigs")
        if cluster_type is None or node_config_type is None:
            return
        nodes = self.store.items(self.workloads.rtype("", "nodes"))
        wanted: dict[str, dict[str, Any]] = {}
        for config in self.store.items(cluster_type):
            for node in nodes:
                if _selected(node, config["spec"].get("nodeSelector")):
                    wanted[node["metadata"]["name"]] = self._node_config(
                        node_config_type, config, node["metadata"]["name"])
        for existing in self.store.items(node_config_type):
            name = existing["metadata"]["name"]
            owned = any(r.get("kind") == "CiliumBGPClusterConfig"
                        for r in existing["metadata"].get("ownerReferences") or [])
            if owned and name not in wanted:
                self.store.delete(node_config_type, "", name)
        for name, body in wanted.items():
            try:
                self.store.patch(node_config_type, "", name, APPLY, body, manager=OPERATOR,
                                 force=True)
            except errors.ApiError:
                pass  # the real operator logs and retries; the test sees no node config

    @staticmethod
    def _node_config(rtype: ResourceType, config: dict[str, Any], node: str) -> dict[str, Any]:
        instances = []
        for instance in config["spec"].get("bgpInstances") or []:
            out = {k: instance[k] for k in ("name", "localASN", "localPort") if k in instance}
            out["peers"] = [{k: peer[k] for k in ("name", "peerAddress", "peerASN", "peerConfigRef")
                             if k in peer} for peer in instance.get("peers") or []]
            instances.append(out)
        return {"apiVersion": rtype.api_version, "kind": "CiliumBGPNodeConfig",
                "metadata": {"name": node, "ownerReferences": [{
                    "apiVersion": rtype.api_version, "kind": "CiliumBGPClusterConfig",
                    "name": config["metadata"]["name"], "uid": config["metadata"]["uid"],
                    "controller": True}]},
                "spec": {"bgpInstances": instances}}

    def set_peer_states(self, node: str, state: str, *, peer: str | None = None,
                        advertised: int | None = None, received: int = 0) -> dict[str, Any]:
        """Write status.bgpInstances[].peers[] of a node's CiliumBGPNodeConfig as the agent does.

        ``advertised`` defaults to what the agent announces in kubernetes IPAM: its Node's
        PodCIDRs (none while the Node has no spec.podCIDRs)."""
        rtype = self._storage_type("ciliumbgpnodeconfigs")
        if rtype is None:
            raise errors.path_not_found()
        if advertised is None:
            live = self.store.find(self.workloads.rtype("", "nodes"), "", node) or {}
            advertised = len((live.get("spec") or {}).get("podCIDRs") or [])
        current = self.store.get(rtype, "", node)
        old_status = {(i["name"], p["name"]): p for i in (current.get("status") or {}).get(
            "bgpInstances", []) for p in i.get("peers", [])}
        instances = []
        for instance in current["spec"].get("bgpInstances") or []:
            peers = []
            for spec_peer in instance.get("peers") or []:
                entry = copy.deepcopy(old_status.get((instance["name"], spec_peer["name"]), {}))
                entry.update({"name": spec_peer["name"],
                              "peerAddress": spec_peer.get("peerAddress", ""),
                              "peerASN": spec_peer.get("peerASN", 0)})
                if peer is None or peer == spec_peer["name"]:
                    entry["peeringState"] = state
                    if state == "established":
                        entry["establishedTime"] = current["metadata"]["creationTimestamp"]
                        entry["routeCount"] = [{"afi": "ipv4", "safi": "unicast",
                                                "advertised": advertised, "received": received}]
                        entry["timers"] = {"appliedHoldTimeSeconds": 90,
                                           "appliedKeepaliveSeconds": 30}
                    else:
                        for field in ("establishedTime", "routeCount", "timers"):
                            entry.pop(field, None)
                peers.append(entry)
            out = {"name": instance["name"], "peers": peers}
            if "localASN" in instance:
                out["localASN"] = instance["localASN"]
            instances.append(out)
        current["status"] = {"bgpInstances": instances}
        updated, _ = self.store.update(rtype, "", node, current, manager=AGENT,
                                       subresource="status" if rtype.has_status else "")
        return updated
