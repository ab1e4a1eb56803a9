"""Topologies built in memory for plan tests, and checks every plan must pass."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

from nativek8s.core.plan import Plan, RouteOrigin, build_plan
from nativek8s.core.topology import Topology
from nativek8s.core.validate import check_topology


def topology(dcs: int, nodes_per_dc: int = 1, name: str = "lab", routers: int = 1,
             **sections: Any) -> Topology:
    """dcs datacentres dc1.. with LAN 10.N.0.0/24, routers rN-1.. and nodes nN-1..; the first
    node is the control plane. Extra keyword arguments are top-level sections."""
    datacentres = {}
    for d in range(1, dcs + 1):
        spec: dict[str, Any] = {
            "lan": f"10.{d}.0.0/24",
            "nodes": {f"n{d}-{k}": {"role": "controlplane" if d == k == 1 else "worker"}
                      for k in range(1, nodes_per_dc + 1)},
        }
        if routers != 1:
            spec["routers"] = {f"r{d}-{j}": {} for j in range(1, routers + 1)}
        datacentres[f"dc{d}"] = spec
    topo = Topology.model_validate({"name": name, "datacentres": datacentres, **sections})
    errors, _ = check_topology(topo)
    assert not errors, errors
    return topo


def plan_of(*args: Any, **kwargs: Any) -> Plan:
    return build_plan(topology(*args, **kwargs))


def check_expected_routes(plan: Plan) -> None:
    """The article's closing diagram, for any plan: what each machine's table must hold."""
    lans = {dc.name: plan.network(dc.lan).cidr for dc in plan.datacentres}
    peering = plan.network("peering").cidr
    for router in plan.routers:
        table = {r.prefix: r for r in router.routes}
        assert len(table) == len(router.routes), f"{router.name}: a prefix appears twice"
        lan_dev = router.interface(router.datacentre).name
        peer_dev = router.interface("peering").name
        assert table[lans[router.datacentre]].origin == RouteOrigin.connected
        assert table[lans[router.datacentre]].dev == lan_dev
        assert table[peering].origin == RouteOrigin.connected
        expected = {lans[router.datacentre], peering}
        for dc in plan.datacentres:
            nodes = [plan.machine(n) for n in dc.nodes]
            if dc.name == router.datacentre:
                for node in nodes:  # learned over eBGP from the node itself
                    route = table[node.pod_cidr]
                    assert route.via == (node.address.ip,) and route.dev == lan_dev
                    assert route.origin == RouteOrigin.bgp
                    expected.add(node.pod_cidr)
                continue
            hops = {plan.machine(r).peering_address.ip for r in dc.routers}
            for prefix in [lans[dc.name], *(n.pod_cidr for n in nodes)]:
                route = table[prefix]  # a remote LAN or PodCIDR, via that dc's routers
                assert set(route.via) == hops, (router.name, prefix, route.via)
                assert route.dev == peer_dev and route.origin == RouteOrigin.bgp
                expected.add(prefix)
        assert set(table) == expected, f"{router.name}: unexpected routes"
    for node in plan.nodes:
        table = {r.prefix: r for r in node.routes}
        assert len(table) == len(node.routes)
        dc = plan.datacentre(node.datacentre)
        first_router = plan.machine(dc.routers[0])
        default = table[IPv4Network("0.0.0.0/0")]
        assert default.via == (first_router.lan_address.ip,) == (node.gateway,)
        assert default.origin == RouteOrigin.gateway
        assert table[lans[dc.name]].origin == RouteOrigin.connected
        assert table[node.pod_cidr].origin == RouteOrigin.local
        neighbours = [plan.machine(n) for n in dc.nodes if n != node.name]
        direct = {r.prefix: r for r in node.routes if r.origin == RouteOrigin.direct}
        if plan.cluster.direct_node_routes:
            assert set(direct) == {n.pod_cidr for n in neighbours}
            for n in neighbours:
                assert direct[n.pod_cidr].via == (n.address.ip,)
        else:
            assert direct == {}
        assert len(table) == 3 + len(direct)
