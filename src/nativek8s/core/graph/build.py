"""The picture of a plan: no observation, every route and session as planned."""

from __future__ import annotations

import re
from dataclasses import replace

from ..plan import ExpectedRoute, Interface, NetworkKind, NodePlan, Plan, RouterPlan
from .model import (
    Address,
    DatacentreBox,
    LabGraph,
    Link,
    MachineBox,
    NetworkBox,
    RouteRow,
    SessionEdge,
)

SHOWN_NETWORKS = (NetworkKind.lan, NetworkKind.peering)  # the WAN is the hypervisor's NAT


def ident(prefix: str, name: str) -> str:
    """An identifier DOT and Mermaid both take unquoted."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def machine_id(name: str) -> str:
    return ident("m", name)


def network_id(key: str) -> str:
    return ident("net", key)


def planned_row(route: ExpectedRoute) -> RouteRow:
    return RouteRow(prefix=str(route.prefix), via=" | ".join(map(str, route.via)),
                    dev=route.dev or "", origin=route.origin.value)


def _box(m: RouterPlan | NodePlan) -> MachineBox:
    addresses = tuple(Address(i.name, i.network, str(i.address) if i.address else "dhcp")
                      for i in m.interfaces)
    box = MachineBox(id=machine_id(m.name), name=m.name, kind=m.kind, datacentre=m.datacentre,
                     asn=m.asn, router_id=str(m.router_id), addresses=addresses,
                     routes=tuple(planned_row(r) for r in m.routes))
    if isinstance(m, NodePlan):
        return replace(box, role=m.role.value, pod_cidr=str(m.pod_cidr))
    return replace(box, route_reflector=m.route_reflector)


def _link_label(iface: Interface) -> str:
    return f"{iface.name} {iface.address.ip}" if iface.address else iface.name


def graph_of_plan(plan: Plan) -> LabGraph:
    c, comp = plan.cluster, plan.composition
    summary = (f"{comp.hypervisor}: routers {comp.router} AS {plan.router_asn}, nodes "
               f"{comp.nodeos} AS {c.asn}, {comp.cni}; pods {c.pods} (/{c.pod_mask} per node)")
    networks = [NetworkBox(network_id(n.key), n.key, n.kind.value, str(n.cidr),
                           n.datacentre or "")
                for n in plan.networks if n.kind in SHOWN_NETWORKS]
    shown = {n.key for n in networks}
    links = [Link(machine_id(m.name), network_id(i.network), _link_label(i))
             for m in plan.machines for i in m.interfaces if i.network in shown]
    sessions = [SessionEdge(s.name, s.kind.value, machine_id(s.a.machine),
                            machine_id(s.b.machine), s.a.asn, s.b.asn)
                for s in plan.sessions]
    dcs = [DatacentreBox(dc.name, dc.hypervisor,
                         tuple(machine_id(n) for n in (*dc.routers, *dc.nodes)),
                         network_id(dc.lan))
           for dc in plan.datacentres]
    return LabGraph(lab=plan.lab, summary=summary, datacentres=dcs, networks=networks,
                    machines=[_box(m) for m in plan.machines], links=links,
                    sessions=sessions)
