"""Cluster checks (bgp_status.py, running_config.py, probes.py, cluster_checks.py) against
the stand-in API server: BGP sessions per node, Cilium's running configuration, and the
source address pods in other datacentres see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from nativek8s.core.plan import Plan
from nativek8s.plugins.cni.cilium.apply import apply_bgp
from nativek8s.plugins.cni.cilium.bgp_status import (
    cilium_cli_reader,
    node_config_reader,
    wait_bgp,
)
from nativek8s.plugins.cni.cilium.cluster_checks import bgp_checks, source_checks
from nativek8s.plugins.cni.cilium.install import choose_installer, ensure_installed
from nativek8s.plugins.cni.cilium.kube import kubeconfig_path
from nativek8s.plugins.cni.cilium.options import options_of
from nativek8s.plugins.cni.cilium.probes import IMAGE, PROBE
from nativek8s.plugins.cni.cilium.readiness import wait_cilium_ready
from nativek8s.plugins.cni.cilium.running_config import config_checks
from nativek8s.shared.waiting import WaitTimeout
from tests.plugins.cni.cilium.cilium_plans import make_plan, three_dc
from tests.plugins.cni.cilium.kube_lab import Ctx, cluster, connect, make_ctx
from tests.standins.kube_api import KubeApiServer, crds_or_skip

V2 = "cilium.io/v2"


@contextmanager
def bgp_lab(tmp_path: Path, plan: Plan | None = None,
            labelled: bool = True) -> Iterator[tuple[Ctx, KubeApiServer]]:
    """Cilium 1.18 running (operator ready), the plan's BGP resources applied."""
    crds_or_skip("1.18")
    ctx = make_ctx(plan or make_plan(), tmp_path / "state")
    with cluster(ctx, labelled=labelled, cilium_crds="1.18") as srv:
        srv.install_cilium("1.18.0")
        kube = connect(ctx)
        wait_cilium_ready(kube, timeout=10, interval=0)
        apply_bgp(kube, ctx.plan, ctx.secrets)
        yield ctx, srv


def test_wait_bgp_until_every_node_is_established(tmp_path: Path) -> None:
    with bgp_lab(tmp_path) as (ctx, srv):
        srv.set_bgp_peer_state("reference-node-1", "established")
        srv.set_bgp_peer_state("reference-node-2", "established")
        read = node_config_reader(connect(ctx), V2)
        note = wait_bgp(ctx.plan, read, "node configs", timeout=10, interval=0)
    assert note == ("reference-node-1: 10.1.0.1 established, advertising 1; "
                    "reference-node-2: 10.2.0.1 established, advertising 1")


def test_wait_bgp_deadline_says_which_session_is_down(tmp_path: Path) -> None:
    with bgp_lab(tmp_path) as (ctx, srv):
        srv.set_bgp_peer_state("reference-node-1", "established")
        srv.set_bgp_peer_state("reference-node-2", "active")
        read = node_config_reader(connect(ctx), V2)
        with pytest.raises(WaitTimeout) as err:
            wait_bgp(ctx.plan, read, "CiliumBGPNodeConfig status", timeout=0)
    assert ("every node's BGP sessions Established, announcing its planned PodCIDR: not done "
            "after 0 s; polled CiliumBGPNodeConfig status 1 time; last answer: "
            "reference-node-1: 10.1.0.1 established, advertising 1; reference-node-2: "
            "10.2.0.1 active") in str(err.value)


def test_unselected_nodes_have_no_bgp_state(tmp_path: Path) -> None:
    with bgp_lab(tmp_path, labelled=False) as (ctx, _):
        read = node_config_reader(connect(ctx), V2)
        with pytest.raises(WaitTimeout, match=r"reference-node-1: no BGP state \(is it labelled"):
            wait_bgp(ctx.plan, read, "node configs", timeout=0)
        results = bgp_checks(ctx.plan, read)
    assert [r.ok for r in results] == [False, False]
    assert results[0].observed == "no BGP state for reference-node-1: is it labelled dc=dc1?"


def test_bgp_checks_per_session(tmp_path: Path) -> None:
    with bgp_lab(tmp_path, three_dc()) as (ctx, srv):
        for node in ("threedc-node-1", "threedc-node-2", "threedc-node-3", "threedc-node-5"):
            srv.set_bgp_peer_state(node, "established", advertised=1)
        srv.set_bgp_peer_state("threedc-node-4", "idle")
        srv.set_bgp_peer_state("threedc-node-1", "connect", peer="router-1b")
        results = bgp_checks(ctx.plan, node_config_reader(connect(ctx), V2))
    failed = {r.subject: r.observed for r in results if not r.ok}
    assert len(results) == 7  # node-1 and node-2 peer with two routers each
    assert failed == {"node-1 → router-1b (10.1.0.2)": "connect (AS 65000)",
                      "node-4 → router-3 (10.3.0.1)": "idle (AS 65000)"}
    ok = next(r for r in results if r.subject == "node-3 → router-2 (10.2.0.1)")
    assert ok.observed == "established (AS 65000; ipv4/unicast 1 advertised 0 received)"


def test_node_config_sessions_carry_as_numbers_uptime_and_received(tmp_path: Path) -> None:
    with bgp_lab(tmp_path) as (ctx, srv):
        srv.set_bgp_peer_state("reference-node-1", "established", received=3)
        srv.set_bgp_peer_state("reference-node-2", "active")
        read = node_config_reader(connect(ctx), V2)
        (up,), (down,) = read("reference-node-1"), read("reference-node-2")
    assert (up.local_as, up.peer_as, up.received, up.accepted) == (65001, 65000, 3, None)
    assert up.uptime_seconds is not None and up.uptime_seconds >= 0 and up.since
    assert (down.peer_as, down.uptime_seconds, down.received) == (65000, None, None)


def test_cilium_cli_reads_the_same_sessions(tmp_path: Path, tools: Path) -> None:
    with bgp_lab(tmp_path) as (ctx, srv):
        srv.set_bgp_peer_state("reference-node-1", "established")
        srv.set_bgp_peer_state("reference-node-2", "active")
        read = cilium_cli_reader(choose_installer("cilium-cli").executable, kubeconfig_path(ctx))
        sessions = read("reference-node-2")
    assert sessions is not None
    assert [(s.peer, s.state) for s in sessions] == [("10.2.0.1", "active")]
    assert (sessions[0].local_as, sessions[0].peer_as) == (65001, 65000)
    assert sessions[0].uptime_seconds is None and sessions[0].received is None


def test_running_config_from_the_installed_chart(tmp_path: Path, tools: Path,
                                                 upstream_file) -> None:
    upstream_file("cilium/values.schema.1.18.0-dev.json")  # helm checks 1.18 values against it
    plan = make_plan()
    ctx = make_ctx(plan, tmp_path / "state")
    with cluster(ctx) as srv:
        kube = connect(ctx)
        assert all(r.ok for r in config_checks(kube, plan)) is False  # nothing installed yet
        ensure_installed(kube, choose_installer("helm"), plan, options_of(plan),
                         kubeconfig_path(ctx), tmp_path / "values.yaml")
        results = config_checks(kube, plan)
        assert [(r.check, r.ok) for r in results] == [
            ("overlay", True), ("source", True), ("bgp", True), ("routes", True),
            ("routes", True)]
        srv.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "cilium-config", "namespace": "kube-system"},
                   "data": {"routing-mode": "tunnel", "enable-ipv4-masquerade": "true"}},
                  manager="kubectl", namespace="kube-system", force=True)
        failed = {r.subject: r.observed for r in config_checks(kube, plan) if not r.ok}
    assert failed == {"cilium-config routing-mode": "routing-mode: tunnel",
                      "cilium-config enable-ipv4-masquerade": "enable-ipv4-masquerade: true"}


def test_missing_config_map_is_reported(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx):
        results = config_checks(connect(ctx), ctx.plan)
    assert {r.observed for r in results} == {
        "no ConfigMap kube-system/cilium-config: is Cilium installed?"}


def probe_pods(srv: KubeApiServer) -> list[str]:
    return [p["metadata"]["name"] for p in srv.objects("v1", "Pod", "default")
            if PROBE in (p["metadata"].get("labels") or {})]


def test_far_pods_see_the_near_pods_own_address(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        results = source_checks(connect(ctx), ctx.plan, timeout=10, interval=0)
        assert probe_pods(srv) == []
    assert [(r.check, r.subject, r.ok) for r in results] == [
        ("tcp", "dc1→dc2 (10.244.0.2 → 10.244.1.2)", True),
        ("source", "dc1→dc2 (10.244.0.2 → 10.244.1.2)", True),
        ("tcp", "dc2→dc1 (10.244.1.2 → 10.244.0.2)", True),
        ("source", "dc2→dc1 (10.244.1.2 → 10.244.0.2)", True)]
    assert results[1].expected == "the far pod sees 10.244.0.2"
    assert results[1].observed == "it saw 10.244.0.2"


def test_masquerade_and_unreachable_pods_fail_their_checks(tmp_path: Path) -> None:
    ctx = make_ctx(three_dc(), tmp_path)
    with cluster(ctx) as srv:
        srv.network.masquerade["threedc-node-1"] = "10.1.0.10"
        srv.network.blocked.add(("threedc-node-3", "threedc-node-4"))
        results = source_checks(connect(ctx), ctx.plan, timeout=10, interval=0)
        assert probe_pods(srv) == []
    failed = {(r.check, r.subject.split(" ")[0]): r.observed for r in results if not r.ok}
    assert sorted(failed) == [("source", "dc1→dc2"), ("source", "dc1→dc3"), ("tcp", "dc2→dc3")]
    assert failed[("source", "dc1→dc2")] == failed[("source", "dc1→dc3")] == "it saw 10.1.0.10"
    assert failed[("tcp", "dc2→dc3")].startswith(
        'error trying: Get "http://10.244.3.2:8080/clientip": dial tcp 10.244.3.2:8080: '
        "i/o timeout")
    assert len(results) == 6 + 5  # six pairs; the unanswered one has no source check


def test_probe_pods_that_cannot_run_fail_every_pair_and_are_removed(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        srv.kubelet.failing_images.add(IMAGE)
        results = source_checks(connect(ctx), ctx.plan, timeout=0)
        assert probe_pods(srv) == []
    assert [(r.check, r.subject, r.ok) for r in results] == [
        ("tcp", "dc1→dc2", False), ("tcp", "dc2→dc1", False)]
    assert "probe pods running: not done after 0 s" in results[0].observed
    assert "ImagePullBackOff: Back-off pulling image" in results[0].observed


def test_leftover_probe_pods_are_removed_first(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        srv.create("v1", "Pod", {"metadata": {"name": "nk8s-probe-dc1-old", "labels": {
            "nativek8s.io/lab": "reference", PROBE: "dc1"}},
            "spec": {"containers": [{"name": "c", "image": IMAGE}]}}, namespace="default")
        srv.create("v1", "Pod", {"metadata": {"name": "unrelated"},
                                 "spec": {"containers": [{"name": "c", "image": IMAGE}]}},
                   namespace="default")
        source_checks(connect(ctx), ctx.plan, timeout=10, interval=0)
        assert [p["metadata"]["name"] for p in srv.objects("v1", "Pod", "default")] == \
            ["unrelated"]
