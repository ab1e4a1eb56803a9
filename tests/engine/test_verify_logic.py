"""Verify's comparisons, on observations made up from the plan (no lab needed)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from nativek8s.core.load import load_topology
from nativek8s.core.observe import KernelRoute
from nativek8s.core.plan import RouteOrigin, build_plan
from nativek8s.core.verify import _compare_table, expected_path, probe_pairs


def plan():
    return build_plan(load_topology(None)[0])


def table_from_plan(machine):
    out = []
    for r in machine.routes:
        kind = "blackhole" if r.origin == RouteOrigin.local else "unicast"
        proto = "bird" if r.origin == RouteOrigin.bgp else "kernel"
        out.append(KernelRoute(r.prefix, r.via[:1], r.dev, proto, kind))
    return out


def test_the_planned_table_passes():
    for m in plan().machines:
        assert all(r.ok for r in _compare_table(m, table_from_plan(m)))


def test_missing_wrong_hop_and_unexpected_routes_fail_with_details():
    p = plan()
    r1 = p.machine("router-1")
    seen = [r for r in table_from_plan(r1) if str(r.prefix) != "10.244.1.0/24"]
    seen = [KernelRoute(r.prefix, (IPv4Address("10.255.0.9"),), r.dev, r.protocol)
            if str(r.prefix) == "10.2.0.0/24" else r for r in seen]
    seen.append(KernelRoute(IPv4Network("10.244.9.0/24"), (IPv4Address("10.1.0.10"),),
                            "br-lan", "bird"))
    failed = {r.subject: r for r in _compare_table(r1, seen, frozenset({"bird"})) if not r.ok}
    assert set(failed) == {"router-1 10.244.1.0/24", "router-1 10.2.0.0/24",
                           "router-1 10.244.9.0/24"}
    assert failed["router-1 10.244.1.0/24"].observed == "no route"
    assert "PodCIDR of node-2 (dc2)" in failed["router-1 10.244.1.0/24"].expected
    assert "via 10.255.0.9" in failed["router-1 10.2.0.0/24"].observed
    assert "not in the plan" in failed["router-1 10.244.9.0/24"].expected


def test_kernel_route_from_ip_json():
    r = KernelRoute.from_ip_json({"dst": "default", "gateway": "10.1.0.1", "dev": "eth0",
                                  "protocol": "boot"})
    assert str(r.prefix) == "0.0.0.0/0" and r.via == (IPv4Address("10.1.0.1"),)
    ecmp = KernelRoute.from_ip_json({"dst": "10.244.1.0/24", "protocol": "bird", "nexthops": [
        {"gateway": "10.255.0.2"}, {"gateway": "10.255.0.3"}]})
    assert len(ecmp.via) == 2
    host = KernelRoute.from_ip_json({"dst": "10.244.0.10", "dev": "pod0"})
    assert str(host.prefix) == "10.244.0.10/32"


def test_probe_pairs_and_paths():
    p = plan()
    pairs = [(a.name, b.name) for a, b in probe_pairs(p)]
    assert pairs == [("node-1", "node-2"), ("node-2", "node-1")]
    path = expected_path(p, p.machine("node-1"), p.machine("node-2"))
    assert path == [{"node-1"}, {"router-1"}, {"router-2"}, {"node-2"}, {"pod@node-2"}]
