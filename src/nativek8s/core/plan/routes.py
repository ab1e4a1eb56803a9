"""Expected routing tables: the article's closing diagram, for every machine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Network

from .models import ExpectedRoute, NodePlan, RouteOrigin, RouterPlan

DEFAULT = IPv4Network("0.0.0.0/0")


def node_routes(
    node: NodePlan, lan: IPv4Network, direct: Callable[[NodePlan, str], ExpectedRoute] | None,
    neighbours: list[NodePlan],
) -> tuple[ExpectedRoute, ...]:
    """direct: makes the route to a neighbour's PodCIDR (None: no direct node routes)."""
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
    if direct is not None:
        routes += [direct(other, dev) for other in neighbours if other.name != node.name]
    return tuple(routes)


def direct_route(other: NodePlan, dev: str) -> ExpectedRoute:
    """The route a node of other's LAN, leaving by dev, has to other's PodCIDR."""
    return ExpectedRoute(
        prefix=other.pod_cidr, via=(other.address.ip,), dev=dev,
        origin=RouteOrigin.direct, why=f"PodCIDR of {other.name} on the same LAN",
    )


def remote_routes(
    dc: str, lan: IPv4Network, routers: list[RouterPlan], nodes: list[NodePlan], dev: str
) -> tuple[ExpectedRoute, ...]:
    """What a router outside dc learns over iBGP about dc: its LAN and its nodes' PodCIDRs.

    The same for every router that leaves by ``dev``, so the plan builds it once per
    datacentre and shares the (immutable) routes.
    """
    hops = tuple(r.peering_address.ip for r in routers)
    names = ", ".join(r.name for r in routers)
    return (
        ExpectedRoute(prefix=lan, via=hops, dev=dev, origin=RouteOrigin.bgp,
                      why=f"LAN of {dc}, learned over iBGP from {names}"),
        *(
            ExpectedRoute(
                prefix=node.pod_cidr, via=hops, dev=dev, origin=RouteOrigin.bgp,
                why=f"PodCIDR of {node.name} ({dc}), learned over iBGP from {names}",
            )
            for node in nodes
        ),
    )


def router_routes(
    router: RouterPlan,
    lan: IPv4Network,
    peering: IPv4Network,
    local_nodes: list[NodePlan],
    remote: Iterable[tuple[ExpectedRoute, ...]],
) -> tuple[ExpectedRoute, ...]:
    """remote: :func:`remote_routes` of every other datacentre, in topology order."""
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
    for dc_routes in remote:
        routes += dc_routes
    return tuple(routes)
