"""What verify and status observe, and the interface that observes it.

A hypervisor that emulates the cluster (netns) observes nodes and pods itself; on real
clusters the CNI plugin provides the same observations through Kubernetes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import ClassVar

from .errors import NativeK8sError
from .kinds import BgpSessionState, MachineAccess, required
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


class Observer:
    """Observations of a deployed lab, made by the hypervisor plugin (``observer(ctx)``).

    Subclass it and override what the backend can see; every member has a default. An
    observer that cannot look inside the machines (yet) sets ``unverifiable`` to the reason;
    deploy then says the lab is not verified instead of running checks that can only fail
    (and asks the CNI's ``cluster_checks``). Such an observer may still look inside some
    kinds of machine (``inside``).
    """

    unverifiable: str | None = None
    """Why this observer cannot look inside the machines (yet), or None when it can."""
    inside: ClassVar[dict[str, str]] = {}
    """For an ``unverifiable`` observer: machine kinds ("router", "node") it can look inside
    anyway, each mapped to how ("the QEMU guest agent"); verify checks those machines' BGP
    sessions and kernel routes through ``access`` and each check says how it ran. Default:
    none."""
    node_route_protocols: frozenset[str] = frozenset()
    """The kernel's ``proto`` word on routes the nodes' BGP speakers install; verify flags
    such routes the plan does not expect. Default: none checked."""

    def _cannot(self, what: str) -> NativeK8sError:
        return NativeK8sError(f"{type(self).__name__} cannot {what}: "
                              f"{self.unverifiable or 'not implemented'}")

    @required
    def machines(self) -> list[MachineStatus]:
        """Every machine of the plan and whether it runs (``nativek8s status``)."""
        raise NotImplementedError

    def access(self, machine: str) -> MachineAccess:
        """A way to run commands on the machine. Default: raises NativeK8sError."""
        raise self._cannot(f"run commands on {machine}")

    def kernel_routes(self, machine: str) -> list[KernelRoute]:
        """The machine's IPv4 main routing table, as verify compares it with the plan.
        Default: `ip -j -4 route show` run through ``access``."""
        raw = self.access(machine).run(["ip", "-j", "-4", "route", "show"])
        return [KernelRoute.from_ip_json(item) for item in json.loads(raw or "[]")]

    def policy_rules(self, machine: str) -> list[dict] | None:
        """The machine's IPv4 policy rules with the keys of `ip -j -4 rule show` (the
        kernel's own three have only priority, src and table); None where the machine
        cannot say. Default: that command run through ``access``."""
        try:
            rules = json.loads(self.access(machine).run(["ip", "-j", "-4", "rule", "show"])
                               or "[]")
        except (NativeK8sError, ValueError):
            return None
        return rules if isinstance(rules, list) else None

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        """The node's BGP sessions as its speaker reports them. Default: raises."""
        raise self._cannot(f"read the BGP sessions of {node.name}")

    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        """ICMP from src's probe pod to dst's probe pod. Default: a failed probe."""
        return ProbeResult(False, str(self._cannot("probe pods")))

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        """TCP from src's probe pod to dst's; value = the client address dst's pod saw.
        Default: a failed probe."""
        return ProbeResult(False, str(self._cannot("probe pods")))

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        """Hop addresses from src's probe pod to dst's (traceroute). Default: none."""
        return []

    def link_kinds(self, machine: str) -> dict[str, str]:
        """Interface name → link kind ("veth", "bridge", "vxlan", ...). Default: raises."""
        raise self._cannot(f"list the links of {machine}")

    def faults(self) -> list[tuple[str, str]]:
        """(machine, what is wrong) for faults that waiting cannot heal (a daemon that is
        not running, a machine that is gone): verify stops waiting for convergence as soon
        as there is one, and reports them. Default: none known."""
        return []

    def close(self) -> None:
        """Release connections the observer holds. Default: nothing to release."""
