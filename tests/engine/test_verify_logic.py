"""Verify's comparisons, on observations made up from the plan (no lab needed)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from nativek8s.core.load import load_topology
from nativek8s.core.observe import KernelRoute, Observer
from nativek8s.core.plan import RouteOrigin, build_plan
from nativek8s.core.verify import _compare_table, expected_path, guarded_prefixes, probe_pairs


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
    failed = {r.subject: r for r in _compare_table(r1, seen, learned=frozenset({"bird"})) if not r.ok}
    assert set(failed) == {"router-1 10.244.1.0/24", "router-1 10.2.0.0/24",
                           "router-1 10.244.9.0/24"}
    assert failed["router-1 10.244.1.0/24"].observed == "no route"
    assert "PodCIDR of node-2 (dc2)" in failed["router-1 10.244.1.0/24"].expected
    assert "via 10.255.0.9" in failed["router-1 10.2.0.0/24"].observed
    assert "not in the plan" in failed["router-1 10.244.9.0/24"].expected


def test_the_route_in_use_is_checked_not_any_route():
    """A lower-metric route to a planned prefix (a static route by hand) overrides the one
    BGP installed: the kernel uses it, so verify fails even though the BGP route is there."""
    p = plan()
    r1 = p.machine("router-1")
    seen = table_from_plan(r1)
    bgp = next(r for r in seen if str(r.prefix) == "10.244.1.0/24")
    seen = [KernelRoute(r.prefix, r.via, r.dev, r.protocol, r.kind, 32) if r is bgp else r
            for r in seen]
    loop = KernelRoute(bgp.prefix, (IPv4Address("10.1.0.10"),), "br-lan", "static", metric=10)
    failed = [r for r in _compare_table(r1, [*seen, loop]) if not r.ok]
    assert [r.subject for r in failed] == ["router-1 10.244.1.0/24"]
    assert failed[0].observed.startswith("unicast 10.244.1.0/24 via 10.1.0.10 dev br-lan "
                                         "proto static metric 10 (in use; it overrides ")
    higher = KernelRoute(bgp.prefix, (IPv4Address("10.1.0.10"),), "br-lan", "static",
                         metric=100)  # a worse route beside it changes nothing
    assert all(r.ok for r in _compare_table(r1, [*seen, higher]))


def test_unexpected_routes_into_pods_or_lans_are_reported_whatever_their_protocol():
    p = plan()
    guarded = guarded_prefixes(p)
    assert [str(g) for g in guarded] == ["10.244.0.0/16", "10.1.0.0/24", "10.2.0.0/24"]
    n1 = p.machine("node-1")
    seen = table_from_plan(n1)
    extra = [KernelRoute(IPv4Network("10.244.1.0/25"), (IPv4Address("10.1.0.1"),), "eth0",
                         "static"),  # steals half of node-2's pods
             KernelRoute(IPv4Network("10.2.0.128/25"), (IPv4Address("10.1.0.1"),), "eth0",
                         "boot"),
             KernelRoute(IPv4Network("10.244.0.10/32"), (), "pod0", "boot"),  # its own pod
             KernelRoute(IPv4Network("192.168.7.0/24"), (IPv4Address("10.1.0.1"),), "eth0",
                         "boot")]  # not the lab's business
    failed = [r.subject for r in _compare_table(n1, [*seen, *extra], guarded) if not r.ok]
    assert failed == ["node-1 10.244.1.0/25", "node-1 10.2.0.128/25"]


def test_policy_rules_other_than_the_kernels_defaults_fail():
    from nativek8s.core.verify import _rule_results

    m = plan().machine("router-1")
    defaults = [{"priority": 0, "src": "all", "table": "local"},
                {"priority": 32766, "src": "all", "table": "main"},
                {"priority": 32767, "src": "all", "table": "default"}]
    assert _rule_results(m, defaults) == []
    extra = {"priority": 100, "src": "all", "dst": "10.244.1.0", "dstlen": 24, "table": "100"}
    (bad,) = _rule_results(m, [*defaults, extra])
    assert (bad.subject, bad.ok) == ("router-1 rule 100", False)
    assert bad.observed == "priority 100 src all dst 10.244.1.0 dstlen 24 table 100"
    main_with_selector = {"priority": 32766, "src": "all", "iif": "eth0", "table": "main"}
    assert len(_rule_results(m, [main_with_selector])) == 1


def test_kernel_route_from_ip_json():
    r = KernelRoute.from_ip_json({"dst": "default", "gateway": "10.1.0.1", "dev": "eth0",
                                  "protocol": "boot"})
    assert str(r.prefix) == "0.0.0.0/0" and r.via == (IPv4Address("10.1.0.1"),)
    ecmp = KernelRoute.from_ip_json({"dst": "10.244.1.0/24", "protocol": "bird", "nexthops": [
        {"gateway": "10.255.0.2"}, {"gateway": "10.255.0.3"}]})
    assert len(ecmp.via) == 2
    host = KernelRoute.from_ip_json({"dst": "10.244.0.10", "dev": "pod0"})
    assert str(host.prefix) == "10.244.0.10/32" and host.metric == 0
    assert KernelRoute.from_ip_json({"dst": "10.0.0.0/8", "metric": 32}).metric == 32


def test_probe_pairs_and_paths():
    p = plan()
    pairs = [(a.name, b.name) for a, b in probe_pairs(p)]
    assert pairs == [("node-1", "node-2"), ("node-2", "node-1")]
    path = expected_path(p, p.machine("node-1"), p.machine("node-2"))
    assert path == [{"node-1"}, {"router-1"}, {"router-2"}, {"node-2"}, {"pod@node-2"}]


class _BrokenLab(Observer):
    """An observer of a lab whose router-2 daemon died: nothing answers, and it says so."""

    def __init__(self, faults):
        self._faults = faults

    def access(self, machine):
        from nativek8s.core.errors import NativeK8sError

        class Access:
            bgp_control_socket = None

            def run(self, argv, timeout=10.0):
                raise NativeK8sError(f"{machine}: nothing answers")
        return Access()

    def node_bgp_sessions(self, node):
        from nativek8s.core.errors import NativeK8sError
        raise NativeK8sError("not running")

    def ping(self, src, dst):
        from nativek8s.core.observe import ProbeResult
        return ProbeResult(False, "100% loss")

    client_address = ping

    def trace(self, src, dst):
        return []

    def link_kinds(self, machine):
        return {}

    def faults(self):
        return self._faults


class _Router:
    def bgp_sessions(self, router, access):
        return access.run(["birdc"])


def test_verify_gives_up_waiting_on_a_fault_it_cannot_heal():
    from nativek8s.core.verify import verify

    polls = []

    def on_wait(results):
        polls.append(results)
        assert len(polls) < 3, "kept waiting for a lab that cannot converge"

    observer = _BrokenLab([("router-2", "bird is not running (log: x)")])
    results = verify(plan(), observer, _Router(), wait=3600, on_wait=on_wait)
    assert polls == []
    (fault,) = [r for r in results if r.check == "fault"]
    assert (fault.subject, fault.observed, fault.ok) == ("router-2", "bird is not running (log: x)",
                                                         False)
    assert fault.datacentre == "dc2"


def test_verify_keeps_waiting_while_nothing_is_known_to_be_broken():
    from nativek8s.core.verify import verify

    polls = []
    observer = _BrokenLab([])
    verify(plan(), observer, _Router(), wait=3600,
           on_wait=lambda r: polls.append(r) if len(polls) < 2 else observer._faults.append(
               ("node-1", "gobgpd is not running")))
    assert len(polls) == 2  # waited until a fault appeared


def test_a_verify_without_waiting_names_the_fault_behind_its_failures():
    """`nativek8s verify` (no wait) after a daemon died: its effects fail, and the plain
    cause is a check of its own."""
    from nativek8s.core.verify import verify

    results = verify(plan(), _BrokenLab([("router-2", "bird is not running")]), _Router())
    assert [(r.check, r.subject, r.observed) for r in results if r.check == "fault"] == [
        ("fault", "router-2", "bird is not running")]
    healthy = verify(plan(), _BrokenLab([]), _Router())
    assert not any(r.check == "fault" for r in healthy)


def _lab(tmp_path, datacentres: int, nodes: int = 1):
    from nativek8s.core.init_template import topology_text

    path = tmp_path / f"lab{datacentres}.yaml"
    path.write_text(topology_text(datacentres, nodes, f"v{datacentres}"))
    return build_plan(load_topology(str(path))[0])


def test_up_to_ten_datacentres_every_pair_is_probed(tmp_path):
    from nativek8s.core.verify import probe_sample

    sample = probe_sample(_lab(tmp_path, 10))
    assert (len(sample.pairs), sample.of, sample.how) == (90, 90, "every pair")


def test_a_big_lab_probes_a_stated_sample_linear_in_its_datacentres(tmp_path):
    from collections import Counter

    from nativek8s.core.verify import probe_sample

    p = _lab(tmp_path, 50, 2)
    sample = probe_sample(p)
    assert (len(sample.pairs), sample.of) == (100, 2450)
    assert "100 of 2450 datacentre pairs" in sample.line() and "--all-pairs" in sample.how
    sources = Counter(a.datacentre for a, _ in sample.pairs)
    targets = Counter(b.datacentre for _, b in sample.pairs)
    assert set(sources.values()) == set(targets.values()) == {2}  # each twice, both ways
    assert all(a.datacentre != b.datacentre for a, b in sample.pairs)
    assert len(set((a.name, b.name) for a, b in sample.pairs)) == 100  # no pair twice
    assert len(probe_sample(p, all_pairs=True).pairs) == 2450


def test_an_odd_number_of_datacentres_is_sampled_without_repeats(tmp_path):
    from nativek8s.core.verify import probe_sample

    sample = probe_sample(_lab(tmp_path, 11))
    assert len(sample.pairs) == 22
    assert len({(a.name, b.name) for a, b in sample.pairs}) == 22
