"""The plan: every address, name, MAC, BGP session and expected route of a lab.

A plan is a pure function of the topology (see :func:`nativek8s.core.plan.build_plan`).
Plugins read it and never do their own address arithmetic. It serialises to JSON and back
(`nativek8s plan -o json`), which is how the lab's state keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ..roles import Role


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NetworkKind(StrEnum):
    lan = "lan"  # one per datacentre; routers and nodes
    peering = "peering"  # every router
    wan = "wan"  # each router's uplink; addressed by the hypervisor (DHCP/NAT)


class Network(_Frozen):
    key: str  # "dc1", "peering", "wan"
    kind: NetworkKind
    cidr: IPv4Network | None  # None for the WAN: the hypervisor decides
    datacentre: str | None = None
    resource_name: str  # lab-prefixed; also fits a Linux interface name (≤15)
    short_id: str  # ≤8 characters, stable per lab+network (Proxmox vnet ids)
    gateway: IPv4Address | None = None  # LAN: the datacentre's first router


class Interface(_Frozen):
    name: str  # eth0, eth1, ... in the order the VM gets its NICs
    network: str  # Network.key
    address: IPv4Interface | None  # None: unaddressed by the plan (WAN: DHCP)
    mac: str  # locally administered, stable per lab+machine+interface


class RouteOrigin(StrEnum):
    connected = "connected"  # the machine's own network
    gateway = "gateway"  # default route
    local = "local"  # the node's own PodCIDR, delivered to its pods
    direct = "direct"  # another node's PodCIDR on the same LAN (direct node routes)
    bgp = "bgp"  # learned over BGP and installed in the kernel


class ExpectedRoute(_Frozen):
    prefix: IPv4Network
    via: tuple[IPv4Address, ...] = ()  # acceptable next hops; empty: no gateway
    dev: str | None = None  # interface the route leaves by, when the plan knows it
    origin: RouteOrigin
    why: str  # for humans and diagnoses: where the route comes from


class Machine(_Frozen):
    name: str  # as in the topology: "router-1", "node-1"
    resource_name: str  # "<lab>-<name>": VM, namespace, hostname prefix
    datacentre: str
    index: int  # 1-based, over all machines of this kind in topology order
    asn: int
    router_id: IPv4Address
    interfaces: tuple[Interface, ...]
    routes: tuple[ExpectedRoute, ...]  # the machine's expected routing table

    def interface(self, network: str) -> Interface:
        for iface in self.interfaces:
            if iface.network == network:
                return iface
        raise KeyError(f"{self.name} has no interface on {network}")


class RouterPlan(Machine):
    kind: Literal["router"] = "router"
    lan_address: IPv4Interface
    peering_address: IPv4Interface
    source_address: IPv4Address  # preferred source for routes it installs (krt_prefsrc)
    route_reflector: bool = False


class NodePlan(Machine):
    kind: Literal["node"] = "node"
    role: Role
    address: IPv4Interface
    gateway: IPv4Address
    pod_cidr: IPv4Network
    probe_pod: IPv4Address  # address of the test workload verify runs on this node


class BgpKind(StrEnum):
    ibgp = "ibgp"  # router ↔ router
    ebgp = "ebgp"  # router ↔ node


class BgpEndpoint(_Frozen):
    machine: str
    address: IPv4Address
    asn: int
    accepts: tuple[IPv4Network, ...] | None = None  # prefixes taken from the peer; None: all
    listens: bool = True  # False: only dials out (Cilium's agent does not listen on 179)
    reflector_client: bool = False  # this side is a route-reflector client of the other


class BgpSession(_Frozen):
    name: str  # "router-1--node-1"; stable, used for protocol names
    kind: BgpKind
    a: BgpEndpoint  # ebgp: the router; ibgp: the lower-indexed router
    b: BgpEndpoint  # ebgp: the node
    hold_time: int
    keepalive_time: int
    connect_retry: int
    md5: bool  # password comes from the lab's secret store, never from the plan

    def sides(self, machine: str) -> tuple[BgpEndpoint, BgpEndpoint]:
        """(local, remote) as seen from machine."""
        if self.a.machine == machine:
            return self.a, self.b
        if self.b.machine == machine:
            return self.b, self.a
        raise KeyError(f"{machine} is not part of session {self.name}")


class RouterPeer(_Frozen):
    """One BGP session seen from a router's side: what a router OS writes for a neighbour.
    Every value is the plan's; the password (when ``md5``) comes from the lab's secrets."""

    session: str  # the session's name: protocol/description names map output back to it
    kind: BgpKind
    peer: str  # the other machine
    local_address: IPv4Address
    local_asn: int
    remote_address: IPv4Address
    remote_asn: int
    imports: tuple[IPv4Network, ...] | None  # prefixes taken from the peer; None: all
    exports: tuple[IPv4Network, ...] | None  # prefixes the peer takes; None: the lab's routes
    rr_client: bool  # this router reflects routes to the peer
    hold_time: int
    keepalive_time: int
    connect_retry: int
    md5: bool

    @property
    def ibgp(self) -> bool:
        return self.kind == BgpKind.ibgp


class Composition(_Frozen):
    """Which plugin fills each role."""

    hypervisor: str
    router: str
    nodeos: str
    cni: str
    datacentre_hypervisors: dict[str, str]  # per datacentre (overrides applied)


class Cluster(_Frozen):
    name: str
    endpoint: str  # https://<first control-plane node>:6443
    pods: IPv4Network
    pod_mask: int
    services: IPv4Network
    asn: int
    direct_node_routes: bool


class Datacentre(_Frozen):
    name: str
    index: int
    lan: str  # Network.key of its LAN
    routers: tuple[str, ...]
    nodes: tuple[str, ...]
    hypervisor: str


MD5_SECRET = "bgp-md5"  # name of the lab secret holding the TCP-MD5 password


class Plan(_Frozen):
    lab: str
    composition: Composition
    versions: dict[str, str]
    cluster: Cluster
    router_asn: int
    datacentres: tuple[Datacentre, ...]
    networks: tuple[Network, ...]
    routers: tuple[RouterPlan, ...]
    nodes: tuple[NodePlan, ...]
    sessions: tuple[BgpSession, ...]
    md5_password_file: str | None = None  # user's own password file, if any
    options: dict[str, dict[str, Any]]  # per-plugin options, top level
    datacentre_options: dict[str, dict[str, dict[str, Any]]]  # dc → plugin → options

    @property
    def machines(self) -> tuple[RouterPlan | NodePlan, ...]:
        return (*self.routers, *self.nodes)

    # Lookups by name, built once: a lab of a thousand machines asks them millions of times
    # a run. The plan is frozen, so they never go stale (model_copy drops them).
    _INDEXES: ClassVar[tuple[str, ...]] = ("_machines_by_name", "_sessions_by_machine")

    @cached_property
    def _machines_by_name(self) -> dict[str, RouterPlan | NodePlan]:
        return {m.name: m for m in reversed(self.machines)}  # the first of a name wins

    @cached_property
    def _sessions_by_machine(self) -> dict[str, list[BgpSession]]:
        out: dict[str, list[BgpSession]] = {}
        for s in self.sessions:
            for machine in dict.fromkeys((s.a.machine, s.b.machine)):
                out.setdefault(machine, []).append(s)
        return out

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> Plan:
        """A copy with ``update``'s fields replaced; its lookups are built anew."""
        copy = super().model_copy(update=update, deep=deep)
        for name in self._INDEXES:
            copy.__dict__.pop(name, None)
        return copy

    def machine(self, name: str) -> RouterPlan | NodePlan:
        try:
            return self._machines_by_name[name]
        except KeyError:
            raise KeyError(f"no machine named {name!r} in lab {self.lab}") from None

    def network(self, key: str) -> Network:
        for net in self.networks:
            if net.key == key:
                return net
        raise KeyError(f"no network {key!r} in lab {self.lab}")

    def datacentre(self, name: str) -> Datacentre:
        for dc in self.datacentres:
            if dc.name == name:
                return dc
        raise KeyError(f"no datacentre {name!r} in lab {self.lab}")

    def sessions_of(self, machine: str) -> list[BgpSession]:
        return list(self._sessions_by_machine.get(machine, ()))

    def router_peers(self, router: str) -> list[RouterPeer]:
        """The router's sessions, each from its side (a router OS's neighbour list)."""
        peers = []
        for s in self.sessions_of(router):
            local, remote = s.sides(router)
            peers.append(RouterPeer(
                session=s.name, kind=s.kind, peer=remote.machine,
                local_address=local.address, local_asn=local.asn,
                remote_address=remote.address, remote_asn=remote.asn,
                imports=local.accepts, exports=remote.accepts,
                rr_client=remote.reflector_client and not local.reflector_client,
                hold_time=s.hold_time, keepalive_time=s.keepalive_time,
                connect_retry=s.connect_retry, md5=s.md5))
        return peers

    def options_for(self, plugin: str, datacentre: str | None = None) -> dict[str, Any]:
        """A plugin's options: top level, overridden per datacentre when asked."""
        merged = dict(self.options.get(plugin, {}))
        if datacentre is not None:
            merged.update(self.datacentre_options.get(datacentre, {}).get(plugin, {}))
        return merged

    @property
    def md5(self) -> bool:
        return any(s.md5 for s in self.sessions)
