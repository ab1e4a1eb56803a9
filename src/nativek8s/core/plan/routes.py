"""Expected routing tables: the article's closing diagram, for every machine."""

from __future__ import annotations

from ipaddress import IPv4Network

from .models import ExpectedRoute, NodePlan, RouteOrigin, RouterPlan

DEFAULT = IPv4Network("0.0.0.0/0")


def node_routes(
    node: NodePlan, lan: IPv4Network, neighbours: list[NodePlan], direct: bool
) -> tuple[ExpectedRoute, ...]:
    dev = node.interface(node.datacentre).name
    routes = [
        ExpectedRoute(
            prefix=DEFAULT, via=(node.gateway,), dev=dev, origin=RouteOrigin.gateway,
            why=f"default route to its datacentre router ({node.datacentre})",
        ),
        ExpectedRoute(prefix=lan, dev=dev, origin=RouteOrigin.connected,
                      why=f"LAN of {node.datacentre}"),
        ExpectedRoute(prefix=node.pod_cidr, origin=RouteOrigin.local,
                      why="its own PodCIDR, delivered to local pods"),
    ]
    if direct:
        routes += [
            ExpectedRoute(
                prefix=other.pod_cidr, via=(other.address.ip,), dev=dev,
                origin=RouteOrigin.direct, why=f"PodCIDR of {other.name} on the same LAN",
            )
            for other in neighbours
            if other.name != node.name
        ]
    return tuple(routes)


def router_routes(
    router: RouterPlan,
    lan: IPv4Network,
    peering: IPv4Network,
    local_nodes: list[NodePlan],
    remote: list[tuple[str, IPv4Network, list[RouterPlan], list[NodePlan]]],
) -> tuple[ExpectedRoute, ...]:
    """remote: (datacentre, its LAN, its routers, its nodes) for every other datacentre."""
    lan_dev = router.interface(router.datacentre).name
    peer_dev = router.interface("peering").name
    routes = [
        ExpectedRoute(prefix=lan, dev=lan_dev, origin=RouteOrigin.connected,
                      why=f"LAN of {router.datacentre}"),
        ExpectedRoute(prefix=peering, dev=peer_dev, origin=RouteOrigin.connected,
                      why="peering network"),
    ]
    routes += [
        ExpectedRoute(
            prefix=node.pod_cidr, via=(node.address.ip,), dev=lan_dev, origin=RouteOrigin.bgp,
            why=f"PodCIDR of {node.name}, learned over eBGP from the node",
        )
        for node in local_nodes
    ]
    for dc, remote_lan, routers, nodes in remote:
        hops = tuple(r.peering_address.ip for r in routers)
        names = ", ".join(r.name for r in routers)
        routes.append(ExpectedRoute(
            prefix=remote_lan, via=hops, dev=peer_dev, origin=RouteOrigin.bgp,
            why=f"LAN of {dc}, learned over iBGP from {names}",
        ))
        routes += [
            ExpectedRoute(
                prefix=node.pod_cidr, via=hops, dev=peer_dev, origin=RouteOrigin.bgp,
                why=f"PodCIDR of {node.name} ({dc}), learned over iBGP from {names}",
            )
            for node in nodes
        ]
    return tuple(routes)
