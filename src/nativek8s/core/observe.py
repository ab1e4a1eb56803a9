"""What verify and status observe, and the interface that observes it.

A hypervisor that emulates the cluster (netns) observes nodes and pods itself; on real
clusters the CNI plugin provides the same observations through Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol, runtime_checkable

from .kinds import BgpSessionState, MachineAccess
from .plan import NodePlan


@dataclass(frozen=True)
class KernelRoute:
    prefix: IPv4Network
    via: tuple[IPv4Address, ...]  # next hops (several for ECMP)
    dev: str | None
    protocol: str  # kernel's word: "kernel", "bird", "static", "boot", ...
    kind: str = "unicast"  # "unicast", "blackhole", "unreachable", ...
    metric: int = 0  # of routes to one prefix, the kernel uses the lowest

    @classmethod
    def from_ip_json(cls, item: dict) -> KernelRoute:
        """One entry of `ip -j -4 route show`."""
        dst = item["dst"]
        prefix = IPv4Network("0.0.0.0/0" if dst == "default" else dst if "/" in dst
                             else f"{dst}/32")
        hops = [item["gateway"]] if "gateway" in item else [
            h["gateway"] for h in item.get("nexthops", []) if "gateway" in h]
        return cls(prefix=prefix, via=tuple(IPv4Address(h) for h in hops),
                   dev=item.get("dev"), protocol=str(item.get("protocol", "boot")),
                   kind=item.get("type", "unicast"), metric=int(item.get("metric", 0)))


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str  # what was seen: "0% loss", "connection refused", "10.244.0.10"
    value: str | None = None  # observed value where one is asked (client address)


@dataclass
class MachineStatus:
    name: str
    kind: str  # router, node, pod, switch
    state: str  # "running", "stopped", "missing"
    detail: str = ""
    processes: dict[str, int] = field(default_factory=dict)  # daemon → pid


@runtime_checkable
class Observer(Protocol):
    """Observations of a deployed lab.

    An observer that cannot look inside the machines (yet) sets ``unverifiable`` to the
    reason; deploy then says the lab is not verified instead of running checks that can
    only fail.
    """

    unverifiable: str | None = None

    def access(self, machine: str) -> MachineAccess: ...

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]: ...

    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        """ICMP from src's probe pod to dst's probe pod."""
        ...

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        """TCP from src's probe pod to dst's; value = the client address dst's pod saw."""
        ...

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        """Hop addresses from src's probe pod to dst's (traceroute)."""
        ...

    def link_kinds(self, machine: str) -> dict[str, str]:
        """Interface name → link kind ("veth", "bridge", "vxlan", ...)."""
        ...

    def machines(self) -> list[MachineStatus]: ...

    def faults(self) -> list[tuple[str, str]]:
        """Optional. (machine, what is wrong) for faults that waiting cannot heal (a daemon
        that is not running, a machine that is gone): verify stops waiting for convergence
        as soon as there is one, and reports them."""
        ...
