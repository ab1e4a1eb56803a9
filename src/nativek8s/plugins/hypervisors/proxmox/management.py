"""The management path: how the host that runs nativek8s reaches the lab's LANs on Proxmox
(talosctl to every node's port 50000, the Kubernetes client to 6443 on the control plane).

Nothing on Proxmox gives the host a way in by itself: each LAN is an SDN vnet without a
subnet (so no address of the Proxmox node is on it), and a datacentre's only door is its
router, whose WAN NIC sits on ``bridge`` and takes its address by DHCP from that network.
So the host -- on that network, or routed to it -- needs a route to each LAN via its router's
WAN address, and the router must forward those ports from the host.

nativek8s changes no route or firewall on the host or on Proxmox. After the VMs start it
reads each router's WAN address through the guest agent (the NIC with the plan's WAN MAC),
asks the host's own routing table (``ip route get``, read only) how it would reach the
LAN, and says exactly what is missing; ``render`` writes the same as ``management.json``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from nativek8s.api import NetworkKind, Plan, Role, current_reporter

from .connection import ApiError, Connection
from .vms import VmRef

TALOS_API, KUBERNETES_API = 50000, 6443
POLL = 2.0  # seconds between asking a booting router's agent for its addresses


@dataclass(frozen=True)
class Target:
    machine: str
    address: str
    port: int
    what: str


@dataclass(frozen=True)
class LanPath:
    """One datacentre's LAN, the router it is reached through, and what deploy dials."""

    datacentre: str
    lan: IPv4Network
    router: str
    wan_mac: str
    targets: tuple[Target, ...]

    def as_dict(self, via: str) -> dict[str, Any]:
        return {"datacentre": self.datacentre, "route": f"{self.lan} via {via}",
                "router": self.router,
                "dialled": [f"{t.address}:{t.port} ({t.machine}, {t.what})"
                            for t in self.targets]}


def lan_paths(plan: Plan) -> list[LanPath]:
    out = []
    for dc in plan.datacentres:
        if not dc.routers or not dc.nodes:
            continue
        router = plan.machine(dc.routers[0])
        wan = next(i for i in router.interfaces
                   if plan.network(i.network).kind == NetworkKind.wan)
        targets: list[Target] = []
        for node in (n for n in plan.nodes if n.datacentre == dc.name):
            address = str(node.address.ip)
            targets.append(Target(node.name, address, TALOS_API, "Talos API"))
            if node.role == Role.controlplane:
                targets.append(Target(node.name, address, KUBERNETES_API, "Kubernetes API"))
        cidr = plan.network(dc.lan).cidr
        assert cidr is not None  # a LAN always has one
        out.append(LanPath(dc.name, cidr, router.name, wan.mac.lower(), tuple(targets)))
    return out


def render_management(plan: Plan) -> dict[str, Any]:
    return {
        "host_needs": [p.as_dict(f"<WAN address of {p.router}, known once it booted>")
                       for p in lan_paths(plan)],
        "router_firewall": "forward the dialled ports from the host's address, WAN to LAN",
        "changed_by_nativek8s": "nothing: routes and firewalls on the host are yours to set; "
                                "deploy checks them and says what is missing",
    }


def wan_address(conn: Connection, vm: VmRef, mac: str) -> str | None:
    """The router's IPv4 address on its WAN NIC, as its guest agent reports it."""
    try:
        answer = conn.get(f"{vm.path}/agent/network-get-interfaces") or {}
    except ApiError:
        return None  # agent not (yet) answering
    return address_on(answer, mac)


def address_on(answer: dict[str, Any], mac: str) -> str | None:
    """The IPv4 address on the NIC with ``mac`` in a network-get-interfaces answer."""
    for iface in answer.get("result", []) or []:
        if str(iface.get("hardware-address", "")).lower() != mac:
            continue
        for addr in iface.get("ip-addresses", []) or []:
            if addr.get("ip-address-type") == "ipv4":
                return str(addr.get("ip-address"))
    return None


def host_route(address: str, ip: Sequence[str] = ("ip",)) -> tuple[str | None, str]:
    """(gateway, how) of the host's route to ``address``: gateway None when the address is
    on a directly connected network or there is no route (``how`` says which). ``ip``: the
    command that reads the routing table (``ip -n NS`` reads a namespace's)."""
    try:
        proc = subprocess.run([*ip, "-j", "route", "get", address], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot ask the host's routing table ({exc})"
    if proc.returncode != 0:
        return None, proc.stderr.strip() or "no route"
    route = (json.loads(proc.stdout or "[]") or [{}])[0]
    if "gateway" in route:
        return str(route["gateway"]), f"via {route['gateway']} dev {route.get('dev', '?')}"
    return None, f"directly on dev {route.get('dev', '?')}"


def check_paths(conn: Connection, plan: Plan, locate: Callable[[str], VmRef | None],
                wait: float, sleep: Callable[[float], None] = time.sleep,
                route: Callable[[str], tuple[str | None, str]] = host_route) -> list[str]:
    """Problems with the host's way into each LAN (empty: every LAN is reachable)."""
    problems = []
    for path in lan_paths(plan):
        vm = locate(path.router)
        deadline = time.monotonic() + wait
        wan = wan_address(conn, vm, path.wan_mac) if vm else None
        if vm is not None and wan is None and wait > 0:
            with current_reporter().waiting(f"{path.router} to boot and report its WAN address"):
                while wan is None and time.monotonic() < deadline:
                    sleep(min(POLL, max(deadline - time.monotonic(), 0)))
                    wan = wan_address(conn, vm, path.wan_mac)
        first = path.targets[0]
        gateway, how = route(first.address)
        if wan is None:
            problems.append(f"{path.datacentre}: {path.router}'s WAN address is not known (its "
                            f"guest agent did not report one within {wait:g} s); this host "
                            f"reaches {path.lan} {how}")
        elif gateway != wan and not how.startswith("directly"):
            problems.append(f"{path.datacentre}: this host reaches {path.lan} {how}, not via "
                            f"{path.router}'s WAN address {wan}; add the route, e.g. "
                            f"`ip route add {path.lan} via {wan}`")
    return problems
