"""The rendered bird.conf running in real BIRD 2 daemons in network namespaces, and the birdc
parsers tested on what those daemons print.

The lab: four datacentres, one router and one node each, TCP-MD5 on every session and at
most three routers in a full mesh, so router-1 and router-2 reflect routes for router-3 and
router-4. node-1 misbehaves: besides its own PodCIDR it announces another node's PodCIDR,
another datacentre's LAN, a default route and a more specific of its own PodCIDR.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network

import pytest

from nativek8s.api import MD5_SECRET, NativeK8sError, RenderContext, SecretStore
from nativek8s.plugins.routers.openwrt.openwrt import BIRD_CONF, Openwrt
from nativek8s.shared.bird import (
    BirdError,
    best_routes,
    birdc_argv,
    parse_protocols,
    parse_routes,
    uptime_of,
)

from .conftest import plan_of
from .netns_lab import (
    NetnsLab,
    SocketAccess,
    expected_kernel_routes,
    node_speaker_config,
    run,
    wait_for,
)

pytestmark = pytest.mark.netns

TOPOLOGY = """
name: owtlab
bgp: {md5: true, full_mesh_max_routers: 3}
datacentres:
  dc1: {nodes: {node-1: {role: controlplane}}}
  dc2: {nodes: {node-2: {}}}
  dc3: {nodes: {node-3: {}}}
  dc4: {nodes: {node-4: {}}}
"""


def _requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "bird", "birdc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install iproute2 bird2)"
    return None


class Lab:
    def __init__(self, netns: NetnsLab, plan, password: str):
        self.netns, self.plan, self.password = netns, plan, password
        self.hijack: list[IPv4Network] = []

    def access(self, router: str) -> SocketAccess:
        return SocketAccess(router, str(self.netns.daemons[router].socket))

    def birdc(self, router: str, *command: str, verbose: bool = False) -> str:
        argv = birdc_argv(str(self.netns.daemons[router].socket), *command)
        if verbose:
            argv.insert(1, "-v")
        return self.access(router).run(argv)

    def raw_birdc(self, router: str, *command: str) -> tuple[int, str]:
        """birdc -v's output and exit code, whatever they are."""
        argv = birdc_argv(str(self.netns.daemons[router].socket), *command)
        result = subprocess.run([argv[0], "-v", *argv[1:]], capture_output=True, text=True,
                                timeout=10)
        return result.returncode, result.stdout

    def agreeing(self, parse, router: str, *command: str):
        """parse(plain output), once it equals parse(verbose output) of the same command.

        Two birdc calls are two moments: a state change between them is retried, a parser
        that reads the two forms differently never agrees and fails the test.
        """
        seen = []

        def same() -> bool:
            plain = parse(self.birdc(router, *command))
            verbose = parse(self.birdc(router, *command, verbose=True))
            seen[:] = [plain, verbose]
            return plain == verbose

        assert wait_for(same, timeout=10), f"plain and verbose differ: {seen}"
        return seen[0]

    def converged(self) -> bool:
        return all(self.netns.kernel_routes(r.name) == expected_kernel_routes(self.plan, r.name)
                   for r in self.plan.routers)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if reason := _requirements():
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("owt-netns")
    plan = plan_of(tmp, TOPOLOGY)
    secrets = SecretStore(tmp / "secrets")
    files = Openwrt().render(RenderContext(plan=plan, secrets=secrets))
    netns = NetnsLab(tmp)
    try:
        lab = Lab(netns, plan, secrets.get(MD5_SECRET))
        _build(lab)
        for router in plan.routers:
            conf = next(f for f in files if f.machine == router.name and f.target == BIRD_CONF)
            netns.start_bird(router.name, conf.content)
        for node in plan.nodes:
            netns.start_bird(node.name, node_speaker_config(
                plan, node, [node.pod_cidr, *(lab.hijack if node.name == "node-1" else [])],
                lab.password))
        if not wait_for(lab.converged, timeout=30):
            logs = "\n".join(f"{d.machine}: {d.log.read_text()}" for d in netns.daemons.values())
            pytest.fail(f"the lab did not converge to the planned routes\n{logs}")
        yield lab
    finally:
        netns.close()


def _build(lab: Lab) -> None:
    netns, plan = lab.netns, lab.plan
    switch = "sw"
    netns.add_namespace(switch)
    netns.batch(switch, ["link add br0 type bridge", "link set br0 up"])
    for machine in plan.machines:
        netns.add_namespace(machine.name)
    for router in plan.routers:
        lan_if = router.interface(router.datacentre)
        peer_if = router.interface("peering")
        port = f"p{router.index}"
        run(["ip", "-n", netns.ns(router.name), "link", "add", peer_if.name, "type", "veth",
             "peer", "name", port, "netns", netns.ns(switch)])
        netns.batch(switch, [f"link set {port} master br0", f"link set {port} up"])
        for node in (n for n in plan.nodes if n.datacentre == router.datacentre):
            node_if = node.interface(node.datacentre)
            run(["ip", "-n", netns.ns(router.name), "link", "add", lan_if.name, "type", "veth",
                 "peer", "name", node_if.name, "netns", netns.ns(node.name)])
            netns.batch(node.name, [f"addr add {node.address} dev {node_if.name}",
                                    f"link set {node_if.name} up",
                                    f"route add default via {node.gateway}"])
        netns.batch(router.name, [f"addr add {lan_if.address} dev {lan_if.name}",
                                  f"addr add {peer_if.address} dev {peer_if.name}",
                                  f"link set {lan_if.name} up", f"link set {peer_if.name} up"])
    node1, node2 = plan.machine("node-1"), plan.machine("node-2")
    own = node1.pod_cidr
    lab.hijack = [node2.pod_cidr, plan.network("dc2").cidr, IPv4Network("0.0.0.0/0"),
                  next(own.subnets(prefixlen_diff=1))]


def test_every_router_kernel_table_is_the_planned_one(lab):
    # the fixture waited for exactly this; assert it again so a failure reads plainly
    for router in lab.plan.routers:
        assert lab.netns.kernel_routes(router.name) == expected_kernel_routes(lab.plan, router.name)
        for route in router.routes:
            if route.via:  # learned over BGP: the router's own address is the source
                assert lab.netns.prefsrc(router.name, route.prefix) == str(router.source_address)


def test_bgp_sessions_reports_every_planned_session_established(lab):
    plugin = Openwrt()
    for router in lab.plan.routers:
        states = plugin.bgp_sessions(router, lab.access(router.name))
        planned = {s.name: s.sides(router.name)[1].address
                   for s in lab.plan.sessions_of(router.name)}
        assert {s.name: IPv4Address(s.peer) for s in states} == planned
        assert all(s.established for s in states), states
        assert all(s.state == "Established" for s in states)


def test_session_states_carry_as_numbers_uptime_and_prefix_counts(lab):
    """What status shows per session, as the real BIRD reports it (node-1 announces its
    PodCIDR and four hijacks: five received, one accepted)."""
    plugin = Openwrt()
    router = lab.plan.machine("router-1")
    states = {s.name: s for s in plugin.bgp_sessions(router, lab.access("router-1"))}
    for session in lab.plan.sessions_of("router-1"):
        local, remote = session.sides("router-1")
        state = states[session.name]
        assert (state.local_as, state.peer_as) == (local.asn, remote.asn)
        assert state.uptime_seconds is not None and state.uptime_seconds >= 0
        assert state.since
    node = states["router-1--node-1"]
    assert (node.received, node.accepted, node.refused) == (1 + len(lab.hijack), 1,
                                                             len(lab.hijack))


def test_uptime_of_birds_since_formats():
    now = datetime(2026, 12, 4, 15, 0, 0)
    assert uptime_of("14:59:30.500", now) == 29.5
    assert uptime_of("23:00:00.000", now) == 16 * 3600  # a time of day after now: yesterday
    assert uptime_of("2026-12-04 14:00:00", now) == 3600
    assert uptime_of("2026-12-01", now) is None  # BIRD's date alone for older times


def test_show_protocols_plain_and_verbose_agree(lab):
    plain = lab.agreeing(parse_protocols, "router-1", "show", "protocols")
    kinds = {p.name: p.proto for p in plain}
    assert kinds.pop("kernel4") == "Kernel" and kinds.pop("lan_aggregate") == "Static"
    assert kinds.pop("device1") == "Device"
    assert set(kinds) == {s.name for s in lab.plan.sessions_of("router-1")}
    assert set(kinds.values()) == {"BGP"}
    bgp = [p for p in plain if p.proto == "BGP"]
    assert all(p.state == "up" and p.bgp_state == "Established" and p.last_error == "" for p in bgp)


def test_hijacking_node_gets_only_its_own_podcidr_in(lab):
    (status,) = parse_protocols(lab.birdc("router-1", "show", "protocols", "all",
                                          "'router-1--node-1'"))
    assert status.details["Description"] == "eBGP with node-1"
    assert status.neighbor_address == lab.plan.machine("node-1").address.ip
    assert status.import_updates["received"] == 1 + len(lab.hijack)
    assert status.import_updates["filtered"] == len(lab.hijack)
    assert status.import_updates["accepted"] == 1
    routes = parse_routes(lab.birdc("router-1", "show", "route", "protocol", "'router-1--node-1'"))
    assert [r.prefix for r in routes] == [lab.plan.machine("node-1").pod_cidr]
    # What the filter refuses now, by prefix (kept by `import keep filtered`).
    states = {s.name: s for s in Openwrt().bgp_sessions(lab.plan.machine("router-1"),
                                                        lab.access("router-1"))}
    hijack = states["router-1--node-1"]
    assert hijack.refused_prefixes == tuple(sorted(str(p) for p in lab.hijack))
    assert hijack.refused == len(lab.hijack)
    assert all(s.refused_prefixes == () for n, s in states.items() if n != "router-1--node-1")
    for router in lab.plan.routers:
        best = best_routes(parse_routes(lab.birdc(router.name, "show", "route")))
        for prefix in lab.hijack:
            route = best.get(prefix)
            assert route is None or "node-1" not in route.protocol, (router.name, route)


def test_show_route_matches_plan_and_verbose(lab):
    router = lab.plan.machine("router-2")
    plain = lab.agreeing(parse_routes, "router-2", "show", "route")
    best = best_routes(plain)
    expected_bgp = {r.prefix: r.via for r in router.routes if r.origin == "bgp"}
    assert {p: r.gateways for p, r in best.items() if r.protocol != "lan_aggregate"} == expected_bgp
    aggregate = best[lab.plan.network("dc2").cidr]
    assert (aggregate.dest, aggregate.protocol, aggregate.preference) == (
        "unreachable", "lan_aggregate", 200)
    node2 = lab.plan.machine("node-2")
    own = best[node2.pod_cidr]
    assert own.protocol == "router-2--node-2" and own.source_info == f"AS{node2.asn}i"
    assert own.nexthops[0].dev == router.interface("dc2").name
    assert {r.table for r in plain} == {"master4"}


def test_reflected_routes_keep_the_originating_routers_next_hop(lab):
    r3, r4 = lab.plan.machine("router-3"), lab.plan.machine("router-4")
    assert not r3.route_reflector and not r4.route_reflector
    reflectors = {r.peering_address.ip for r in lab.plan.routers if r.route_reflector}
    routes = parse_routes(lab.birdc("router-3", "show", "route", "all"))
    for prefix in (lab.plan.network("dc4").cidr, lab.plan.machine("node-4").pod_cidr):
        best = best_routes(routes)[prefix]
        assert best.gateways == (r4.peering_address.ip,)
        assert best.attributes["BGP.next_hop"] == str(r4.peering_address.ip)
        assert best.attributes["BGP.originator_id"] == str(r4.router_id)
        assert best.learned_from in reflectors  # came through a reflector, not from router-4
        # each reflector sent it: BIRD lists the second route without repeating the prefix
        both = [r for r in routes if r.prefix == prefix]
        assert {r.learned_from for r in both} == reflectors
        assert [r.primary for r in both].count(True) == 1
        assert all(r.gateways == (r4.peering_address.ip,) for r in both)


def test_long_time_format_of_a_node_speaker(lab):
    node = lab.plan.machine("node-1")
    access = SocketAccess("node-1", str(lab.netns.daemons["node-1"].socket))
    sock = access.bgp_control_socket
    protocols = parse_protocols(access.run(birdc_argv(sock, "show", "protocols")))
    (session,) = [p for p in protocols if p.proto == "BGP"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", session.since)
    assert (session.state, session.bgp_state, session.info) == ("up", "Established", "Established")
    routes = parse_routes(access.run(birdc_argv(sock, "show", "route")))
    assert {r.prefix for r in routes} == {node.pod_cidr, *lab.hijack}
    assert all(r.protocol == "announced" and r.dest == "unreachable" and " " in r.since
               for r in routes)


def test_unknown_network_and_bird_errors(lab):
    code, output = lab.raw_birdc("router-1", "show", "route", "for", "192.0.2.1")
    assert code != 0 and "8001 Network not found" in output
    assert parse_routes(output) == []
    code, output = lab.raw_birdc("router-1", "show", "protocols", "all", "nosuch")
    assert code != 0
    with pytest.raises(BirdError, match="syntax error"):
        parse_protocols(output)
    with pytest.raises(NativeK8sError):  # birdc exits non-zero: the access reports it
        lab.birdc("router-1", "show", "protocols", "all", "nosuch")


def test_disabled_session_reads_down_then_recovers(lab):
    name = "router-4--node-4"
    lab.birdc("router-4", "disable", f"'{name}'")
    try:
        (status,) = [s for s in Openwrt().bgp_sessions(lab.plan.machine("router-4"),
                                                      lab.access("router-4")) if s.name == name]
        assert status.state == "Down" and not status.established
        assert status.peer == str(lab.plan.machine("node-4").address.ip)
        (plain,) = [p for p in parse_protocols(lab.birdc("router-4", "show", "protocols"))
                    if p.name == name]
        assert (plain.state, plain.bgp_state) == ("down", "Down")
        # The node's side, from plain `show protocols`: BGP state first, then the last error.
        node = lab.netns.daemons["node-4"].socket

        def node_view():
            out = SocketAccess("node-4", str(node)).run(birdc_argv(str(node), "show", "protocols"))
            return next(p for p in parse_protocols(out) if p.name == name)

        assert wait_for(lambda: node_view().last_error != "")
        seen = node_view()
        assert seen.bgp_state in {"Idle", "Connect", "Active", "OpenSent", "OpenConfirm"}
        assert seen.info.startswith(seen.bgp_state) and seen.last_error in seen.info
    finally:
        lab.birdc("router-4", "enable", f"'{name}'")
    assert wait_for(lab.converged, timeout=30)
