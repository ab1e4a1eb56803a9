"""What one router's UCI files (/etc/config/network, firewall, dhcp) say, from the plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface

from nativek8s.api import NetworkKind, Plan, RouterPlan

from .options import OpenWrtOptions

LAN_BRIDGE = "br-lan"  # OpenWrt's name for the LAN bridge


@dataclass(frozen=True)
class UciInterface:
    """A `config interface` of /etc/config/network and the firewall zone it belongs to."""

    name: str  # UCI section name: lan, wan, peering (network key when a kind repeats)
    kind: NetworkKind
    device: str  # eth1, or br-lan for the LAN
    ports: tuple[str, ...]  # bridge ports (LAN only)
    address: IPv4Interface | None  # None: DHCP (WAN)

    @property
    def zone(self) -> str:
        return self.kind.value


@dataclass(frozen=True)
class Zone:
    name: str  # lan, wan, peering
    networks: tuple[str, ...]  # UCI interfaces in it
    bgp_peers: tuple[IPv4Address, ...]  # planned BGP peers reaching the router through it


@dataclass(frozen=True)
class StaticLease:
    name: str
    mac: str
    ip: IPv4Address


@dataclass(frozen=True)
class DhcpServer:
    interface: str  # UCI interface
    serve: bool  # False: `ignore` (not this network's gateway, or not a LAN)
    hosts: tuple[StaticLease, ...]


@dataclass(frozen=True)
class UciConfig:
    router: str
    lab: str
    firewall: str  # "strict" or "open"
    ssh_from_wan: bool
    interfaces: tuple[UciInterface, ...]
    zones: tuple[Zone, ...]
    dhcp: tuple[DhcpServer, ...]

    def zone(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.name == name), None)


def _section_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def uci_config(plan: Plan, router: RouterPlan, options: OpenWrtOptions) -> UciConfig:
    interfaces: list[UciInterface] = []
    seen: set[NetworkKind] = set()
    for iface in router.interfaces:
        kind = plan.network(iface.network).kind
        name = kind.value if kind not in seen else _section_name(iface.network)
        seen.add(kind)
        lan = kind == NetworkKind.lan
        interfaces.append(UciInterface(
            name=name, kind=kind, device=LAN_BRIDGE if lan and name == "lan" else iface.name,
            ports=(iface.name,) if lan and name == "lan" else (), address=iface.address,
        ))
    return UciConfig(
        router=router.name, lab=plan.lab, firewall=options.firewall,
        ssh_from_wan=options.ssh_from_wan, interfaces=tuple(interfaces),
        zones=_zones(plan, router, interfaces), dhcp=_dhcp(plan, router, interfaces),
    )


def _zones(plan: Plan, router: RouterPlan, interfaces: list[UciInterface]) -> tuple[Zone, ...]:
    """One zone per network kind; BGP peers sorted into the zone their session arrives in."""
    by_address = {i.address.ip: i.zone for i in interfaces if i.address is not None}
    peers: dict[str, list[IPv4Address]] = {}
    for session in plan.sessions_of(router.name):
        local, remote = session.sides(router.name)
        zone = by_address.get(local.address)
        if zone is None:
            raise KeyError(f"{router.name}: session {session.name} uses {local.address}, "
                           "which is on none of its interfaces")
        peers.setdefault(zone, []).append(remote.address)
    zones = []
    for kind in (NetworkKind.lan, NetworkKind.wan, NetworkKind.peering):
        names = tuple(i.name for i in interfaces if i.kind == kind)
        if kind == NetworkKind.wan and names:
            names += ("wan6",)  # OpenWrt's DHCPv6 client on the same device
        if names:
            zones.append(Zone(name=kind.value, networks=names,
                              bgp_peers=tuple(sorted(set(peers.get(kind.value, []))))))
    return tuple(zones)


def _dhcp(plan: Plan, router: RouterPlan, interfaces: list[UciInterface]) -> tuple[DhcpServer, ...]:
    """The LAN's gateway router hands each planned node its planned address; nothing else."""
    out = []
    for uci, iface in zip(interfaces, router.interfaces, strict=True):
        net = plan.network(iface.network)
        serve = (net.kind == NetworkKind.lan and iface.address is not None
                 and net.gateway == iface.address.ip)
        hosts: tuple[StaticLease, ...] = ()
        if serve:
            hosts = tuple(
                StaticLease(name=n.name, mac=n.interface(net.key).mac, ip=n.address.ip)
                for n in plan.nodes if n.datacentre == net.datacentre
            )
        out.append(DhcpServer(interface=uci.name, serve=serve, hosts=hosts))
    return tuple(out)
