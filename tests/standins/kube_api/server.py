"""KubeApiServer: the stand-in Kubernetes API server a test starts, drives and inspects.

Stands in for a kube-apiserver (v1.32 surface) with Cilium's operator and the workload
controllers behind it; see the sibling modules for what each part enforces.
"""

from __future__ import annotations

import copy
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import crds as crd_files
from .cilium_sim import CiliumOperator
from .http import Fault, Plumbing, Recorded, serve, write_kubeconfig
from .kubelet import Kubelet
from .pod_network import PodNetwork
from .readiness import Readiness
from .registry import Registry, ResourceType
from .router import Router
from .store import APPLY, Store
from .workloads import Workloads

FIXTURE_MANAGER = "standin-fixture"


class KubeApiServer:
    def __init__(self, *, nodes: dict[str, dict[str, str]] | Sequence[str] = (),
                 cilium_crds: str | None = None, default_ready_after: int | None = 0,
                 operator_installs_crds: bool = True, tls: bool = False) -> None:
        self.token = secrets.token_urlsafe(24)
        self.registry = Registry()
        self.store = Store(self.registry)
        self.readiness = Readiness(default_ready_after)
        self.workloads = Workloads(self.store, self.registry, self.readiness)
        self.operator = CiliumOperator(self.store, self.workloads, operator_installs_crds)
        self.kubelet = Kubelet(self.store)  # knob: kubelet.failing_images
        self.network = PodNetwork(self.store)  # knobs: network.masquerade, network.blocked
        self.plumbing = Plumbing(handle=self._handle, token=self.token)
        self._tls = tls
        self._tmp = tempfile.TemporaryDirectory(prefix="nk8s-kube-standin-")
        self._server: Any = None
        self.url = ""
        self.ca_pem: bytes | None = None
        self._router: Router | None = None
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create("v1", "Namespace", {"metadata": {"name": ns}})
        items = nodes.items() if isinstance(nodes, dict) else ((n, {}) for n in nodes)
        for name, labels in items:
            self.add_node(name, labels)
        if cilium_crds is not None:
            self.install_crds(cilium_crds)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> KubeApiServer:
        tls_dir = Path(self._tmp.name) / "tls" if self._tls else None
        self._server, self._runner, self.ca_pem = serve(self.plumbing, tls_dir)
        host, port = self._server.server_address[:2]
        self.url = f"{'https' if self._tls else 'http'}://{host}:{port}"
        self._router = Router(self.registry, self.store, self.workloads, f"{host}:{port}",
                              pod_proxy=self.network.proxy)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._runner.stop()
            self._server = None
        self._tmp.cleanup()

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, req: Any) -> Any:
        assert self._router is not None
        return self._router.handle(req)

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        return write_kubeconfig(Path(path), self.url, self.token, self.ca_pem, namespace)

    # --- state for assertions ------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self.plumbing.lock:
            return list(self.plumbing.requests)

    def rtype(self, api_version: str, kind: str) -> ResourceType:
        found = self.registry.by_kind(api_version, kind)
        if found is None:
            raise KeyError(f"{kind} in {api_version} is not served")
        return found

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        return self.store.find(self.rtype(api_version, kind), namespace, name)

    def objects(self, api_version: str, kind: str, namespace: str = "") -> list[dict[str, Any]]:
        return self.store.items(self.rtype(api_version, kind), namespace)

    def node(self, name: str) -> dict[str, Any] | None:
        return self.get("v1", "Node", name)

    # --- arranging state -----------------------------------------------------------------

    def create(self, api_version: str, kind: str, body: dict[str, Any],
               namespace: str = "") -> dict[str, Any]:
        full = {"apiVersion": api_version, "kind": kind, **copy.deepcopy(body)}
        obj, _ = self.store.create(self.rtype(api_version, kind), namespace, full,
                                   manager=FIXTURE_MANAGER)
        return obj

    def apply(self, body: dict[str, Any], manager: str, namespace: str = "",
              force: bool = False) -> dict[str, Any]:
        """Server-side apply as another field manager would (for conflict tests)."""
        rtype = self.rtype(body["apiVersion"], body["kind"])
        obj, _ = self.store.patch(rtype, namespace, body["metadata"]["name"], APPLY,
                                  copy.deepcopy(body), manager=manager, force=force)
        return obj

    def add_node(self, name: str, labels: dict[str, str] | None = None,
                 internal_ip: str = "", pod_cidr: str = "") -> dict[str, Any]:
        """A Ready node; with pod_cidr, bare pods bound to it get addresses from it."""
        addresses = [{"type": "Hostname", "address": name}]
        if internal_ip:
            addresses.insert(0, {"type": "InternalIP", "address": internal_ip})
        base_labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", **(labels or {})}
        return self.create("v1", "Node", {
            "metadata": {"name": name, "labels": base_labels},
            "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]} if pod_cidr else {},
            "status": {"addresses": addresses,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Talos (v1.9.0)",
                                    "architecture": "amd64", "operatingSystem": "linux",
                                    "containerRuntimeVersion": "containerd://2.0.1",
                                    "kernelVersion": "6.12.5-talos", "kubeProxyVersion": "",
                                    "machineID": name, "systemUUID": name, "bootID": name}}})

    def install_crds(self, version: str) -> None:
        """Register the Cilium BGP CRDs of `version` ("1.17", "1.18.0", or a snapshot dir)."""
        self.operator.register_crds(version)

    def install_cilium(self, version: str, namespace: str = "kube-system") -> None:
        """What `helm install cilium` leaves behind: agent DaemonSet + operator Deployment.

        The CRDs appear once the operator Deployment is observed ready (scripted readiness).
        """
        tag = version if version.startswith("v") else f"v{version}"
        self.create("apps/v1", "DaemonSet", daemonset("cilium", namespace, tag), namespace)
        self.create("apps/v1", "Deployment", operator_deployment(namespace, tag), namespace)

    def script_ready(self, kind: str, name: str, after: int,
                     namespace: str = "kube-system") -> None:
        """kind: DaemonSet or Deployment; ready from the (after+1)-th HTTP read on."""
        self.readiness.script(kind, namespace, name, after)
        self.workloads.refresh((kind, namespace, name))

    def never_ready(self, kind: str, name: str, namespace: str = "kube-system") -> None:
        self.readiness.never(kind, namespace, name)
        self.workloads.refresh((kind, namespace, name))

    def polls(self, kind: str, name: str, namespace: str = "kube-system") -> int:
        return self.readiness.polls((kind, namespace, name))

    def set_bgp_peer_state(self, node: str, state: str, peer: str | None = None,
                           advertised: int | None = None, received: int = 0) -> dict[str, Any]:
        """Set peeringState (e.g. "established", "active", "idle") of a node's peers;
        ``advertised`` defaults to the node's PodCIDRs, as the agent announces them."""
        return self.operator.set_peer_states(node, state, peer=peer, advertised=advertised,
                                             received=received)

    def inject_fault(self, path: str, method: str | None = None, code: int = 500,
                     reason: str = "InternalError", message: str = "injected fault",
                     times: int | None = 1) -> Fault:
        fault = Fault(method, path, code, reason, message, times)
        with self.plumbing.lock:
            self.plumbing.faults.append(fault)
        return fault


def daemonset(name: str, namespace: str, tag: str) -> dict[str, Any]:
    labels = {"k8s-app": "cilium", "app.kubernetes.io/name": "cilium-agent",
              "app.kubernetes.io/part-of": "cilium"}
    return {"metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "cilium-agent",
                                                           "image": f"quay.io/cilium/cilium:{tag}"}]}}}}


def operator_deployment(namespace: str, tag: str) -> dict[str, Any]:
    labels = {"io.cilium/app": "operator", "name": "cilium-operator",
              "app.kubernetes.io/name": "cilium-operator", "app.kubernetes.io/part-of": "cilium"}
    return {"metadata": {"name": "cilium-operator", "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1,
                     "selector": {"matchLabels": {"io.cilium/app": "operator",
                                                  "name": "cilium-operator"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {
                                      # the chart's default operator.affinity: one per node
                                      "affinity": {"podAntiAffinity": {
                                          "requiredDuringSchedulingIgnoredDuringExecution": [{
                                              "labelSelector": {"matchLabels": {
                                                  "io.cilium/app": "operator"}},
                                              "topologyKey": "kubernetes.io/hostname"}]}},
                                      "containers": [{
                                          "name": "cilium-operator",
                                          "image": f"quay.io/cilium/operator-generic:{tag}"}]}}}}


@contextmanager
def kube_api_server(kubeconfig: str | Path | None = None, **options: Any) -> Iterator[KubeApiServer]:
    """Start a stand-in API server; write a kubeconfig (0600) when a path is given."""
    server = KubeApiServer(**options)
    server.start()
    try:
        if kubeconfig is not None:
            server.write_kubeconfig(kubeconfig)
        yield server
    finally:
        server.stop()


def crds_or_skip(version: str) -> None:
    """Skip (fail under NATIVEK8S_REQUIRE_ALL=1) unless the upstream files the stand-in needs
    for this Cilium version are found: its CRD snapshot, and the chart's values schema."""
    from tests.upstream import require

    for name in crd_files.upstream_files(version):
        require(name)
