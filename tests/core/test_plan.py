"""The plan: goldens, JSON round trip, determinism, MACs, sessions, expected routes."""

from __future__ import annotations

import pytest

from nativek8s.core.load import load_topology
from nativek8s.core.plan import BgpKind, Plan, build_plan
from tests.support.golden import Golden

from .conftest import DATA, run_cli
from .plans import check_expected_routes, plan_of, topology

GOLDEN = DATA / "golden" / "plan"
THREE_DC = DATA / "topologies" / "three-dc.yaml"
GOLDEN_CASES = [("reference", []), ("three-dc", ["-f", str(THREE_DC)])]


@pytest.mark.parametrize(("name", "args"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_plan_json_golden(name: str, args: list[str], builtin_registry, isolated, golden: Golden):
    result = run_cli(["plan", *args, "-o", "json"])
    assert result.exit_code == 0, result.output
    golden.check(GOLDEN / f"{name}.json", result.stdout)
    assert isolated.untouched()


@pytest.mark.parametrize("path", [None, str(THREE_DC)], ids=["reference", "three-dc"])
def test_plan_round_trips_through_json(path: str | None):
    plan = build_plan(load_topology(path)[0])
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert again.model_dump_json() == plan.model_dump_json()


def test_reference_plan_is_the_article_lab():
    plan = build_plan(load_topology(None)[0])
    assert [m.name for m in plan.machines] == ["router-1", "router-2", "node-1", "node-2"]
    node1, node2 = plan.machine("node-1"), plan.machine("node-2")
    assert (str(node1.address), str(node2.address)) == ("10.1.0.10/24", "10.2.0.10/24")
    assert node1.role == "controlplane" and node2.role == "worker"
    assert plan.machine("router-2").peering_address.compressed == "10.255.0.2/24"
    assert plan.cluster.endpoint == "https://10.1.0.10:6443"
    assert (plan.router_asn, plan.cluster.asn) == (65000, 65001)
    assert [s.name for s in plan.sessions] == [
        "router-1--router-2", "router-1--node-1", "router-2--node-2"]


def test_plan_is_deterministic():
    topo = topology(4, 3, name="det")
    first, second = build_plan(topo), build_plan(topo)
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()


def test_macs_are_locally_administered_unicast_and_unique():
    plan = plan_of(20, 5)
    macs = [i.mac for m in plan.machines for i in m.interfaces]
    assert len(macs) == len(set(macs)) == 20 * 3 + 100
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0b10, f"{mac} is not locally administered"
        assert not first & 0b1, f"{mac} is multicast"
        assert len(mac.split(":")) == 6


def test_macs_are_stable_per_lab_and_machine():
    small, bigger = plan_of(2, 1, name="a"), plan_of(3, 2, name="a")
    for name in ("router-1", "n1-1"):
        assert small.machine(name).interfaces == bigger.machine(name).interfaces
    other_lab = plan_of(2, 1, name="b")
    assert other_lab.machine("n1-1").interfaces[0].mac != small.machine("n1-1").interfaces[0].mac


def test_names_are_prefixed_and_unique():
    plan = plan_of(3, 2, name="pfx")
    names = [m.resource_name for m in plan.machines] + [n.resource_name for n in plan.networks]
    assert len(names) == len(set(names))
    assert all(n.startswith("pfx-") for n in names)
    assert all(len(n.resource_name) <= 15 for n in plan.networks)  # bridge names
    short = [n.short_id for n in plan.networks]
    assert len(short) == len(set(short)) and all(len(s) <= 8 for s in short)


def test_pod_cidrs_are_distinct_and_inside_the_cluster_range():
    plan = plan_of(5, 4, networks={"pods": "10.244.0.0/16", "pod_mask": 26})
    cidrs = [n.pod_cidr for n in plan.nodes]
    assert len(set(cidrs)) == 20
    assert all(c.prefixlen == 26 and c.subnet_of(plan.cluster.pods) for c in cidrs)
    assert all(n.probe_pod in n.pod_cidr for n in plan.nodes)


@pytest.mark.parametrize("shape", [
    {"dcs": 2, "nodes_per_dc": 1},
    {"dcs": 3, "nodes_per_dc": 2},
    {"dcs": 3, "nodes_per_dc": 3, "routers": 2},
    {"dcs": 6, "nodes_per_dc": 1},
    {"dcs": 4, "nodes_per_dc": 3, "networks": {"direct_node_routes": False}},
], ids=["2x1", "3x2", "3x3-two-routers", "6x1-reflectors", "4x3-no-direct"])
def test_expected_routes(shape):
    check_expected_routes(plan_of(**shape))


def test_expected_routes_of_the_goldens():
    for path in (None, str(THREE_DC)):
        check_expected_routes(build_plan(load_topology(path)[0]))


def test_two_routers_are_both_next_hops():
    plan = plan_of(2, 1, routers=2)
    route = next(r for r in plan.machine("r1-1").routes if str(r.prefix) == "10.2.0.0/24")
    assert [str(v) for v in route.via] == ["10.255.0.3", "10.255.0.4"]


def test_direct_node_routes_between_nodes_on_one_lan():
    plan = plan_of(1, 3)
    n1 = plan.machine("n1-1")
    direct = {str(r.prefix): str(r.via[0]) for r in n1.routes if r.origin == "direct"}
    assert direct == {"10.244.1.0/24": "10.1.0.11", "10.244.2.0/24": "10.1.0.12"}


def test_full_mesh_up_to_the_limit():
    plan = plan_of(4, 1)
    ibgp = [s for s in plan.sessions if s.kind == BgpKind.ibgp]
    assert len(ibgp) == 6 and not any(r.route_reflector for r in plan.routers)
    assert not any(s.a.reflector_client or s.b.reflector_client for s in ibgp)


def test_route_reflectors_above_the_limit():
    plan = plan_of(6, 1)
    reflectors = {r.name for r in plan.routers if r.route_reflector}
    assert reflectors == {"router-1", "router-2"}
    ibgp = [s for s in plan.sessions if s.kind == BgpKind.ibgp]
    pairs = {frozenset((s.a.machine, s.b.machine)) for s in ibgp}
    clients = [r.name for r in plan.routers if r.name not in reflectors]
    expected = {frozenset(reflectors)} | {frozenset((c, rr)) for c in clients for rr in reflectors}
    assert pairs == expected  # client-reflector and reflector-reflector only
    for s in ibgp:
        for end in (s.a, s.b):
            assert end.reflector_client == (end.machine not in reflectors)


def test_route_reflectors_in_one_datacentre():
    plan = plan_of(1, 1, routers=5)
    assert [r.name for r in plan.routers if r.route_reflector] == ["r1-1", "r1-2"]


def test_full_mesh_limit_is_configurable():
    plan = plan_of(6, 1, bgp={"full_mesh_max_routers": 6})
    assert len([s for s in plan.sessions if s.kind == BgpKind.ibgp]) == 15


def test_ebgp_sessions_each_router_with_its_own_nodes():
    plan = plan_of(2, 2, routers=2)
    ebgp = [s for s in plan.sessions if s.kind == BgpKind.ebgp]
    assert len(ebgp) == 2 * 2 * 2
    for s in ebgp:
        router, node = plan.machine(s.a.machine), plan.machine(s.b.machine)
        assert router.datacentre == node.datacentre
        assert s.a.accepts == (node.pod_cidr,) and s.b.accepts == ()
        assert (s.a.asn, s.b.asn) == (plan.router_asn, plan.cluster.asn)
        assert not s.b.listens  # Cilium's agent does not listen on 179


def test_md5_flag_reaches_every_session():
    plan = build_plan(load_topology(str(THREE_DC))[0])
    assert plan.md5 and all(s.md5 for s in plan.sessions)


def test_plan_table_lists_every_route_of_every_machine(builtin_registry):
    result = run_cli(["plan", "-f", str(THREE_DC)])
    assert result.exit_code == 0, result.output
    plan = build_plan(load_topology(str(THREE_DC))[0])
    section = result.stdout.split("\nexpected routes\n", 1)[1]
    blocks = _blocks(section)
    assert list(blocks) == [m.name for m in plan.machines]
    for machine in plan.machines:
        lines = blocks[machine.name]
        assert len(lines) == len(machine.routes)
        for line, route in zip(lines, machine.routes, strict=True):
            assert line.split()[0] == str(route.prefix)
            assert line.endswith(route.why)
            for hop in route.via:
                assert str(hop) in line


def _blocks(section: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in section.splitlines()[1:]:  # after the column header
        if line.startswith("    "):
            blocks[current].append(line.strip())
        elif line.startswith("  "):
            current = line.strip()
            blocks[current] = []
    return blocks
