"""Topology → Plan: deterministic allocation of everything a lab needs."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TypeVar

from ..topology import DatacentreSpec, Role, Topology
from .models import (
    BgpEndpoint,
    BgpKind,
    BgpSession,
    Cluster,
    Composition,
    Datacentre,
    ExpectedRoute,
    Interface,
    Machine,
    Network,
    NetworkKind,
    NodePlan,
    Plan,
    RouterPlan,
)
from .naming import mac_address, resource_name, short_id
from .routes import direct_route, node_routes, remote_routes, router_routes

FIRST_NODE_HOST = 10  # nodes take LAN addresses from .10; routers .1 to .9
PROBE_POD_HOST = 10  # the verify workload's address inside a node's PodCIDR
ROUTER_IFACES = ("eth0", "eth1", "eth2")  # LAN, WAN, peering: OpenWrt's NIC order
_M = TypeVar("_M", bound=Machine)


def default_lan(index: int) -> IPv4Network:
    return IPv4Network(f"10.{index}.0.0/24")


def lan_of(spec: DatacentreSpec, index: int) -> IPv4Network:
    return spec.lan if spec.lan is not None else default_lan(index)


def router_names(name: str, spec: DatacentreSpec, index: int) -> list[str]:
    return list(spec.routers) if spec.routers else [f"router-{index}"]


def host(net: IPv4Network, offset: int) -> IPv4Address:
    return net.network_address + offset


def pod_cidr(pods: IPv4Network, mask: int, index: int) -> IPv4Network:
    size = 1 << (32 - mask)
    return IPv4Network((int(pods.network_address) + index * size, mask))


class _Macs:
    """Hands out MACs, re-salting on the (astronomically rare) collision."""

    def __init__(self, lab: str):
        self.lab, self.used = lab, set[str]()

    def __call__(self, machine: str, iface: str) -> str:
        salt = 0
        while (mac := mac_address(self.lab, machine, iface, salt)) in self.used:
            salt += 1
        self.used.add(mac)
        return mac


def build_plan(topo: Topology) -> Plan:
    """The lab's plan. Expects a topology that passed :func:`validate_topology`."""
    lab, nets, macs = topo.name, topo.networks, _Macs(topo.name)
    networks: list[Network] = []
    dcs: list[Datacentre] = []
    routers: list[RouterPlan] = []
    nodes: list[NodePlan] = []
    lans: dict[str, IPv4Network] = {}
    peering = nets.peering

    for dc_index, (dc_name, spec) in enumerate(topo.datacentres.items(), start=1):
        lan = lans[dc_name] = lan_of(spec, dc_index)
        names = router_names(dc_name, spec, dc_index)
        hyp = spec.hypervisor or topo.plugins.hypervisor
        networks.append(Network(
            key=dc_name, kind=NetworkKind.lan, cidr=lan, datacentre=dc_name,
            resource_name=resource_name(lab, dc_name), short_id=short_id(lab, dc_name),
            gateway=host(lan, 1),
        ))
        for j, name in enumerate(names, start=1):
            idx = len(routers) + 1
            lan_addr = IPv4Interface((host(lan, j), lan.prefixlen))
            peer_addr = IPv4Interface((host(peering, idx), peering.prefixlen))
            ifaces = (
                Interface(name="eth0", network=dc_name, address=lan_addr, mac=macs(name, "eth0")),
                Interface(name="eth1", network="wan", address=None, mac=macs(name, "eth1")),
                Interface(name="eth2", network="peering", address=peer_addr,
                          mac=macs(name, "eth2")),
            )
            routers.append(RouterPlan(
                name=name, resource_name=resource_name(lab, name), datacentre=dc_name,
                index=idx, asn=topo.asn.routers, router_id=peer_addr.ip, interfaces=ifaces,
                routes=(), lan_address=lan_addr, peering_address=peer_addr,
                source_address=lan_addr.ip,
            ))
        gateway = host(lan, 1)
        dc_nodes = []
        for k, (name, node_spec) in enumerate(spec.nodes.items()):
            idx = len(nodes) + 1
            role = node_spec.role if node_spec else Role.worker
            addr = IPv4Interface((host(lan, FIRST_NODE_HOST + k), lan.prefixlen))
            cidr = pod_cidr(nets.pods, nets.pod_mask, idx - 1)
            nodes.append(NodePlan(
                name=name, resource_name=resource_name(lab, name), datacentre=dc_name,
                index=idx, asn=topo.asn.cluster, router_id=addr.ip,
                interfaces=(Interface(name="eth0", network=dc_name, address=addr,
                                      mac=macs(name, "eth0")),),
                routes=(), role=role, address=addr, gateway=gateway, pod_cidr=cidr,
                probe_pod=host(cidr, PROBE_POD_HOST),
            ))
            dc_nodes.append(name)
        dcs.append(Datacentre(name=dc_name, index=dc_index, lan=dc_name, routers=tuple(names),
                              nodes=tuple(dc_nodes), hypervisor=hyp))

    networks.append(Network(key="peering", kind=NetworkKind.peering, cidr=peering,
                            resource_name=resource_name(lab, "peer"),
                            short_id=short_id(lab, "peering")))
    networks.append(Network(key="wan", kind=NetworkKind.wan, cidr=None,
                            resource_name=resource_name(lab, "wan"),
                            short_id=short_id(lab, "wan")))

    routers = _mark_reflectors(routers, topo.bgp.full_mesh_max_routers)
    nodes = _with_node_routes(nodes, lans, nets.direct_node_routes)
    routers = _with_router_routes(routers, lans, peering, nodes)
    sessions = _sessions(topo, routers, nodes)
    cp = next(n for n in nodes if n.role == Role.controlplane)

    return Plan(
        lab=lab,
        composition=Composition(
            hypervisor=topo.plugins.hypervisor, router=topo.plugins.router,
            nodeos=topo.plugins.nodeos, cni=topo.plugins.cni,
            datacentre_hypervisors={dc.name: dc.hypervisor for dc in dcs},
        ),
        versions={k: v for k, v in topo.versions.model_dump().items() if v is not None},
        cluster=Cluster(
            name=lab, endpoint=f"https://{cp.address.ip}:6443", pods=nets.pods,
            pod_mask=nets.pod_mask, services=nets.services, asn=topo.asn.cluster,
            direct_node_routes=nets.direct_node_routes,
        ),
        router_asn=topo.asn.routers,
        datacentres=tuple(dcs), networks=tuple(networks), routers=tuple(routers),
        nodes=tuple(nodes), sessions=tuple(sessions),
        md5_password_file=str(topo.bgp.password_file) if topo.bgp.password_file else None,
        options=topo.options,
        datacentre_options={n: s.options for n, s in topo.datacentres.items() if s.options},
    )


def _mark_reflectors(routers: list[RouterPlan], full_mesh_max: int) -> list[RouterPlan]:
    """Above full_mesh_max routers: the first router of the first two datacentres reflect."""
    if len(routers) <= full_mesh_max:
        return routers
    chosen: list[str] = []
    for r in routers:
        if r.datacentre not in {c.datacentre for c in routers if c.name in chosen}:
            chosen.append(r.name)
        if len(chosen) == 2:
            break
    if len(chosen) < 2:  # one datacentre: its first two routers
        chosen = [r.name for r in routers[:2]]
    return [r.model_copy(update={"route_reflector": r.name in chosen}) for r in routers]


def _by_datacentre(machines: list[_M]) -> dict[str, list[_M]]:
    groups: dict[str, list[_M]] = {}
    for m in machines:
        groups.setdefault(m.datacentre, []).append(m)
    return groups


def _with_node_routes(nodes: list[NodePlan], lans: dict[str, IPv4Network],
                      direct: bool) -> list[NodePlan]:
    by_dc = _by_datacentre(nodes)
    # A node's route to a neighbour's PodCIDR is the same for every node leaving by the same
    # device: make each once (routes are immutable) — this keeps big labs linear.
    cache: dict[tuple[str, str], ExpectedRoute] = {}

    def shared_direct(other: NodePlan, dev: str) -> ExpectedRoute:
        key = (other.name, dev)
        if key not in cache:
            cache[key] = direct_route(other, dev)
        return cache[key]

    return [
        n.model_copy(update={"routes": node_routes(
            n, lans[n.datacentre], shared_direct if direct else None, by_dc[n.datacentre])})
        for n in nodes
    ]


def _with_router_routes(routers: list[RouterPlan], lans: dict[str, IPv4Network],
                        peering: IPv4Network, nodes: list[NodePlan]) -> list[RouterPlan]:
    routers_by_dc, nodes_by_dc = _by_datacentre(routers), _by_datacentre(nodes)
    # What a datacentre announces over iBGP is the same for every router outside it.
    cache: dict[tuple[str, str], tuple[ExpectedRoute, ...]] = {}

    def remote(dc: str, dev: str) -> tuple[ExpectedRoute, ...]:
        if (dc, dev) not in cache:
            cache[(dc, dev)] = remote_routes(dc, lans[dc], routers_by_dc[dc],
                                             nodes_by_dc.get(dc, []), dev)
        return cache[(dc, dev)]

    out = []
    for r in routers:
        dev = r.interface("peering").name
        others = (remote(dc, dev) for dc in lans if dc != r.datacentre)
        routes = router_routes(r, lans[r.datacentre], peering,
                               nodes_by_dc.get(r.datacentre, []), others)
        out.append(r.model_copy(update={"routes": routes}))
    return out


def _sessions(topo: Topology, routers: list[RouterPlan], nodes: list[NodePlan]) -> list[BgpSession]:
    bgp = topo.bgp
    common = dict(hold_time=bgp.hold_time, keepalive_time=bgp.keepalive_time,
                  connect_retry=bgp.connect_retry, md5=bgp.md5 or bgp.password_file is not None)
    sessions: list[BgpSession] = []
    reflectors = [r for r in routers if r.route_reflector]
    for i, a in enumerate(routers):
        for b in routers[i + 1:]:
            if reflectors and not (a.route_reflector or b.route_reflector):
                continue  # clients peer only with reflectors
            sessions.append(BgpSession(
                name=f"{a.name}--{b.name}", kind=BgpKind.ibgp,
                a=BgpEndpoint(machine=a.name, address=a.peering_address.ip, asn=a.asn,
                              reflector_client=bool(reflectors) and not a.route_reflector),
                b=BgpEndpoint(machine=b.name, address=b.peering_address.ip, asn=b.asn,
                              reflector_client=bool(reflectors) and not b.route_reflector),
                **common,
            ))
    for router in routers:
        for node in (n for n in nodes if n.datacentre == router.datacentre):
            sessions.append(BgpSession(
                name=f"{router.name}--{node.name}", kind=BgpKind.ebgp,
                a=BgpEndpoint(machine=router.name, address=router.lan_address.ip,
                              asn=router.asn, accepts=(node.pod_cidr,)),
                b=BgpEndpoint(machine=node.name, address=node.address.ip, asn=node.asn,
                              accepts=(), listens=False),
                **common,
            ))
    return sessions
