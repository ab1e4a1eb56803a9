"""What the picture shows, independent of any format."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mark(StrEnum):
    """How a session or route compares with the plan."""

    planned = "planned"  # offline: nothing observed
    ok = "ok"  # observed as planned
    failed = "failed"  # planned but missing, down or different
    unexpected = "unexpected"  # observed, not planned, and verify counts it as a fault
    extra = "extra"  # observed, not planned, harmless (a pod's host route)
    unknown = "unknown"  # could not be observed


@dataclass(frozen=True)
class RouteRow:
    prefix: str
    via: str  # "10.1.0.10", "10.255.0.1 | 10.255.0.3", or "" (connected)
    dev: str
    origin: str  # plan: connected/gateway/local/direct/bgp; observed: the kernel's protocol
    mark: Mark = Mark.planned
    observed: str = ""  # what was seen when it differs from the plan

    @property
    def text(self) -> str:
        via = f" via {self.via}" if self.via else ""
        dev = f" dev {self.dev}" if self.dev else ""
        return f"{self.prefix}{via}{dev} ({self.origin})"


@dataclass(frozen=True)
class Address:
    interface: str  # eth0
    network: str  # Network key: dc1, peering, wan
    address: str  # "10.1.0.1/24", or "dhcp"


@dataclass(frozen=True)
class MachineBox:
    id: str  # safe as a DOT/Mermaid identifier
    name: str
    kind: str  # router, node
    datacentre: str
    asn: int
    router_id: str
    role: str = ""  # nodes: controlplane, worker
    pod_cidr: str = ""  # nodes
    route_reflector: bool = False
    addresses: tuple[Address, ...] = ()
    routes: tuple[RouteRow, ...] = ()
    state: str = ""  # live: running, stopped, missing, ...
    note: str = ""  # live: why something could not be observed


@dataclass(frozen=True)
class NetworkBox:
    id: str
    key: str
    kind: str  # lan, peering
    cidr: str
    datacentre: str = ""  # LANs


@dataclass(frozen=True)
class Link:
    machine: str  # MachineBox.id
    network: str  # NetworkBox.id
    label: str  # "eth0 .10" style: interface and host address


@dataclass(frozen=True)
class SessionEdge:
    name: str
    kind: str  # ibgp, ebgp
    a: str  # MachineBox.id
    b: str
    a_asn: int
    b_asn: int
    mark: Mark = Mark.planned
    state: str = ""  # live: each side's word, "router-1: Established, node-1: Active"

    @property
    def label(self) -> str:
        kind = "iBGP" if self.kind == "ibgp" else "eBGP"
        same = self.a_asn == self.b_asn
        asns = f"AS {self.a_asn}" if same else f"AS {self.a_asn} ↔ {self.b_asn}"
        return f"{kind} {asns}"


@dataclass(frozen=True)
class DatacentreBox:
    name: str
    hypervisor: str
    machines: tuple[str, ...]  # MachineBox ids
    lan: str  # NetworkBox id


@dataclass
class LabGraph:
    lab: str
    summary: str  # one line: composition, cluster, AS numbers
    datacentres: list[DatacentreBox]
    networks: list[NetworkBox]
    machines: list[MachineBox]
    links: list[Link]
    sessions: list[SessionEdge]
    live: bool = False
    notes: list[str] = field(default_factory=list)  # live: what could not be observed

    def machine(self, name: str) -> MachineBox:
        return next(m for m in self.machines if m.name == name)

    @property
    def differences(self) -> list[str]:
        """Every difference from the plan, one line each (live graphs)."""
        out = []
        for s in self.sessions:
            if s.mark in (Mark.failed, Mark.unknown):
                out.append(f"session {s.name}: {s.state or s.mark.value}")
        for m in self.machines:
            for r in m.routes:
                if r.mark == Mark.failed:
                    out.append(f"{m.name}: planned {r.text}; observed {r.observed}")
                elif r.mark == Mark.unexpected:
                    out.append(f"{m.name}: not in the plan: {r.text}")
        return out
