"""The plan as namespaces and veth links: what each namespace holds.

Each namespace has *create* commands (new links; run only for links not there yet) and
*configure* commands (addresses, routes, state; idempotent `replace` forms), so a re-run
acts only where the backend differs from the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nativek8s.api import Plan, RouterPlan

from .names import machine_ns, owner_alias, pod_ns, switch_ns

POD_GATEWAY = "169.254.1.1"  # node side of every pod veth, as the pod's default gateway
POD_PORT = "pod0"  # node-side name of the probe pod's veth
BRIDGE = "br0"
# icmp_ratelimit 0: traceroute-based path checks run many probes at once through one
# router; the default per-destination limit would turn hops into "*".
FORWARDING = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0",
              "net.ipv4.conf.default.rp_filter": "0", "net.ipv4.icmp_ratelimit": "0"}
HOST_ONLY = {"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.rp_filter": "0",
             "net.ipv4.conf.default.rp_filter": "0", "net.ipv4.icmp_ratelimit": "0"}


@dataclass
class Link:
    """A veth created from this namespace, its peer landing in another one."""

    name: str
    peer_ns: str
    peer_name: str
    mac: str | None = None  # the peer (machine) side's planned MAC

    def create(self) -> str:
        mac = f" address {self.mac}" if self.mac else ""
        return (f"link add {self.name} type veth peer name {self.peer_name}{mac} "
                f"netns {self.peer_ns}")


@dataclass
class Namespace:
    name: str
    kind: str  # switch, router, node, pod
    machine: str | None = None
    bridges: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    configure: list[str] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)


def wire(plan: Plan, lan_bridge: Callable[[RouterPlan], str | None]) -> list[Namespace]:
    """Every namespace of the lab. ``lan_bridge``: the router OS's bridge for a router's LAN
    port (OpenWrt's ``br-lan``), made here so its rendered configuration runs unchanged."""
    lab = plan.lab
    spaces: dict[str, Namespace] = {}

    def ns(name: str, kind: str, machine: str | None = None) -> Namespace:
        if name not in spaces:
            spaces[name] = Namespace(name, kind, machine)
            spaces[name].configure.append(f"link set lo alias {owner_alias(lab)}")
            spaces[name].configure.append("link set lo up")
        return spaces[name]

    for net in plan.networks:
        if net.cidr is None:
            continue  # the WAN: nothing outside the lab is reachable in this backend
        sw = ns(switch_ns(lab, net.key), "switch")
        sw.bridges.append(BRIDGE)
        sw.configure.append(f"link set {BRIDGE} up")
        sw.sysctls = dict(HOST_ONLY)

    for router in plan.routers:
        rns = ns(machine_ns(lab, router.name), "router", router.name)
        rns.sysctls = dict(FORWARDING)
        bridge = lan_bridge(router)
        if bridge:
            rns.bridges.append(bridge)
        for iface in router.interfaces:
            if iface.address is None:
                continue
            port = f"r{router.index}"
            sw = spaces[switch_ns(lab, iface.network)]
            sw.links.append(Link(port, rns.name, iface.name, iface.mac))
            sw.configure += [f"link set {port} master {BRIDGE}", f"link set {port} up"]
            dev = iface.name
            if bridge and iface.network == router.datacentre:  # the OS bridges its LAN port
                rns.configure += [f"link set {iface.name} master {bridge}",
                                  f"link set {bridge} up"]
                dev = bridge
            rns.configure += [f"addr replace {iface.address} dev {dev}",
                              f"link set {iface.name} up"]

    for node in plan.nodes:
        nns = ns(machine_ns(lab, node.name), "node", node.name)
        nns.sysctls = dict(FORWARDING)
        iface = node.interface(node.datacentre)
        port = f"n{node.index}"
        sw = spaces[switch_ns(lab, node.datacentre)]
        sw.links.append(Link(port, nns.name, iface.name, iface.mac))
        sw.configure += [f"link set {port} master {BRIDGE}", f"link set {port} up"]
        pns = ns(pod_ns(lab, node.name), "pod", node.name)
        pns.sysctls = dict(HOST_ONLY)
        nns.links.append(Link(POD_PORT, pns.name, "eth0"))
        nns.configure += [
            f"addr replace {node.address} dev {iface.name}",
            f"link set {iface.name} up",
            f"route replace default via {node.gateway} dev {iface.name}",
            # Cilium routes the node's PodCIDR to itself; unknown pod addresses stop here.
            f"route replace blackhole {node.pod_cidr}",
            f"addr replace {POD_GATEWAY}/32 dev {POD_PORT}",
            f"link set {POD_PORT} up",
            f"route replace {node.probe_pod}/32 dev {POD_PORT}",
        ]
        for route in node.routes:
            if route.origin.value == "direct":
                nns.configure.append(
                    f"route replace {route.prefix} via {route.via[0]} dev {iface.name}")
        pns.configure += [
            f"addr replace {node.probe_pod}/32 dev eth0",
            "link set eth0 up",
            f"route replace {POD_GATEWAY} dev eth0 scope link",
            f"route replace default via {POD_GATEWAY} dev eth0",
        ]
    return list(spaces.values())
