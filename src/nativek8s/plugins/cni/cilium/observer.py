"""What the CNI can observe of a real cluster for core's verify (the node half of
:class:`~nativek8s.api.Observer`): each node's BGP sessions, and the client
address a far probe pod sees. Router access, ping, traceroute and link kinds are not
observable through the Kubernetes API; they belong to the hypervisor or the node OS.
"""

from __future__ import annotations

from typing import Self

from nativek8s.api import BgpSessionState, NativeK8sError, NodePlan, Plan, ProbeResult

from .bgp_status import PeerReader
from .kube import Kube
from .node_labels import kube_node_name
from .probes import PROBE_TIMEOUT, ProbeSession


class CiliumObserver:
    """Close it (or use it as a context manager) to remove the probe pods it started."""

    def __init__(self, kube: Kube, plan: Plan, read: PeerReader | None, source: str,
                 probe_timeout: float = PROBE_TIMEOUT) -> None:
        self.kube, self.plan = kube, plan
        self.read, self.source = read, source
        self.probe_timeout = probe_timeout
        self._session: ProbeSession | None = None

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        if self.read is None:
            raise NativeK8sError(f"cannot read BGP sessions: {self.source}")
        sessions = self.read(kube_node_name(node))
        if sessions is None:
            raise NativeK8sError(f"no BGP state for node {kube_node_name(node)}: is it "
                                 f"labelled dc={node.datacentre} and Cilium running on it?")
        return sessions

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        if self._session is None:
            self._session = ProbeSession(self.kube, self.plan, timeout=self.probe_timeout)
            try:
                self._session.__enter__()
            except NativeK8sError as exc:
                self._session = None
                return ProbeResult(False, str(exc))
        if src.name not in self._session.pods or dst.name not in self._session.pods:
            return ProbeResult(False, f"no probe pod on {src.name} or {dst.name} (probes run "
                                      "on the first node of every datacentre)")
        return self._session.client_address(src.name, dst.name)

    def probe_address(self, node: NodePlan) -> str | None:
        """The real address of a node's probe pod (the plan's probe_pod is the emulated
        one; on a cluster, IPAM chooses)."""
        pod = self._session.pods.get(node.name) if self._session else None
        return pod.address if pod else None

    def close(self) -> None:
        if self._session is not None:
            self._session.__exit__(None, None, None)
            self._session = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
