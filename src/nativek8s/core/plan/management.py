"""The management path: how the host that runs nativek8s reaches the lab's machines.

talosctl, helm and the Kubernetes client dial the nodes' LAN addresses (Talos 50000,
Kubernetes 6443), and the router OS is reached over SSH. On a VM hypervisor the host sits
on the routers' WAN (its NAT network): it reaches each datacentre's LAN through that
datacentre's first router, at a fixed WAN address, and each router's strict firewall lets
exactly the host's WAN address in on exactly these ports.

The hypervisor chooses the WAN subnet (it owns that network); the addresses, routes and
ports follow from it and the plan here, so no plugin computes them.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from .models import Plan, _Frozen

NODE_PORTS = (50000, 6443)  # Talos API (talosctl, maintenance mode too), Kubernetes API
ROUTER_PORTS = (22,)  # the router OS over SSH


class ManagementRoute(_Frozen):
    prefix: IPv4Network  # a datacentre's LAN
    via: IPv4Address  # its first router's WAN address
    router: str
    datacentre: str


class Management(_Frozen):
    wan: IPv4Network  # the routers' uplink subnet, the host on it
    host: IPv4Address  # the host's address there: the routers' gateway
    routers: dict[str, IPv4Interface]  # router → its fixed WAN address
    routes: tuple[ManagementRoute, ...]  # on the host: each LAN via its router
    node_ports: tuple[int, ...] = NODE_PORTS
    router_ports: tuple[int, ...] = ROUTER_PORTS
    dhcp_range: tuple[IPv4Address, IPv4Address]  # for anything else on the WAN

    def lines(self) -> list[str]:
        """For `nativek8s plan` and humans."""
        out = [f"host {self.host} on the routers' WAN {self.wan}"]
        out += [f"{r} WAN {a} (fixed, DHCP host entry)" for r, a in self.routers.items()]
        out += [f"route on the host: {r.prefix} via {r.via} ({r.router})" for r in self.routes]
        nodes = " ".join(map(str, self.node_ports))
        routers = " ".join(map(str, self.router_ports))
        out.append(f"router firewall: from {self.host} only, tcp {nodes} to the LAN, "
                   f"tcp {routers} to the router; no other way in from the WAN")
        return out


def management_plan(plan: Plan, wan: IPv4Network) -> Management:
    """The management path over a WAN subnet: the host takes the first address, the routers
    the next ones in plan order; the upper half is left to DHCP."""
    hosts = list(wan.hosts())
    if len(hosts) < 2 * (len(plan.routers) + 1):
        raise ValueError(f"WAN subnet {wan} is too small for {len(plan.routers)} routers")
    host = hosts[0]
    routers = {r.name: IPv4Interface(f"{hosts[1 + i]}/{wan.prefixlen}")
               for i, r in enumerate(plan.routers)}
    routes = []
    for dc in plan.datacentres:
        if not dc.routers:
            continue
        lan = plan.network(dc.lan).cidr
        assert lan is not None
        first = dc.routers[0]
        routes.append(ManagementRoute(prefix=lan, via=routers[first].ip, router=first,
                                      datacentre=dc.name))
    return Management(wan=wan, host=host, routers=routers, routes=tuple(routes),
                      dhcp_range=(hosts[len(hosts) // 2], hosts[-1]))


def management_of(plugins: Any, plan: Plan) -> Management | None:
    """The lab's management path, from its hypervisor (``Hypervisor.management``); None
    when the hypervisor needs none (netns: the host is inside the lab already) or has
    no WAN of its own (a host bridge: the user's network decides). ``plugins``: a
    context's plugin set (``.hypervisors``)."""
    from ..errors import NativeK8sError

    try:
        hypervisors = dict(getattr(plugins, "hypervisors", {}))
    except NativeK8sError:  # a render context made without a composition (a plugin's test)
        return None
    for hyp in hypervisors.values():
        get = getattr(hyp, "management", None)
        found = get(plan) if get is not None else None
        if found is not None:
            return found
    return None
