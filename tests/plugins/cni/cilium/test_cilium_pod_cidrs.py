"""Every node gets the PodCIDR the plan gives it (pod_cidrs.py), whatever order the nodes
register in, through the stand-in API server (which, like kube-apiserver, lets a Node's
PodCIDR be set once and never changed); verify and the BGP wait see a node that has another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("kubernetes")

from nativek8s.plugins.cni.cilium.bgp_status import node_config_reader, wait_bgp
from nativek8s.plugins.cni.cilium.kube import KubeError
from nativek8s.plugins.cni.cilium.pod_cidrs import (
    PodCidrMismatch,
    ensure_pod_cidrs,
    live_pod_cidrs,
    pod_cidr_checks,
)
from nativek8s.shared.waiting import WaitTimeout
from tests.plugins.cni.cilium.cilium_plans import make_plan
from tests.plugins.cni.cilium.kube_lab import cluster, connect, make_ctx, register
from tests.standins.kube_api import KubeApiServer, crds_or_skip

NODE1, NODE2 = "reference-node-1", "reference-node-2"
PLANNED = {NODE1: "10.244.0.0/24", NODE2: "10.244.1.0/24"}


def cidrs(srv: KubeApiServer) -> dict[str, list[str]]:
    return {n["metadata"]["name"]: n["spec"].get("podCIDRs", []) for n in srv.objects("v1", "Node")}


def test_wrong_order_and_a_late_node_still_get_the_plans_pod_cidrs(tmp_path: Path) -> None:
    """node-2 (across two routers) registers first; node-1 only once node-2 has its PodCIDR,
    i.e. while deploy already waits: first come does not mean first /24."""
    ctx = make_ctx(make_plan(), tmp_path / "state")
    node1, node2 = ctx.plan.nodes
    with cluster(ctx, pod_cidrs=False) as srv:
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE1)
        seen: list[str] = []

        def late(event: str, rtype: Any, obj: dict[str, Any]) -> None:
            if rtype.kind == "Node":
                seen.append(f"{event} {obj['metadata']['name']}")
            if (rtype.kind, event, obj["metadata"]["name"]) == ("Node", "MODIFIED", NODE2) \
                    and srv.node(NODE1) is None:
                register(srv, ctx, node1)
        srv.store.hooks.append(late)
        note = ensure_pod_cidrs(connect(ctx), ctx.plan, timeout=30, interval=0)
        assert cidrs(srv) == {NODE1: [PLANNED[NODE1]], NODE2: [PLANNED[NODE2]]}
        assert srv.node(NODE1)["spec"]["podCIDR"] == PLANNED[NODE1]
        assert seen[:2] == [f"MODIFIED {NODE2}", f"ADDED {NODE1}"]  # node-1 came late
        assert note == "2 set from the plan, 0 already right"
        assert all(r.ok for r in pod_cidr_checks(connect(ctx), ctx.plan))


def test_a_node_that_rejoins_gets_its_pod_cidr_again(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path / "state")
    node1, _ = ctx.plan.nodes
    with cluster(ctx, pod_cidrs=False) as srv:
        ensure_pod_cidrs(connect(ctx), ctx.plan, timeout=5, interval=0)
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE1)  # removed, then re-registers
        register(srv, ctx, node1)
        failed = [r for r in pod_cidr_checks(connect(ctx), ctx.plan) if not r.ok]
        assert [(r.subject, r.observed) for r in failed] == [
            (f"node-1 ({NODE1})", f"node {NODE1} has no PodCIDR")]
        assert "nativek8s deploy" in failed[0].hint
        note = ensure_pod_cidrs(connect(ctx), ctx.plan, timeout=5, interval=0)
        assert note == "1 set from the plan, 1 already right"
        assert cidrs(srv) == {NODE1: [PLANNED[NODE1]], NODE2: [PLANNED[NODE2]]}


def test_a_node_never_registering_times_out_naming_it(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path / "state")
    with cluster(ctx, pod_cidrs=False) as srv:
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE2)
        with pytest.raises(WaitTimeout, match=f"last answer: not registered: {NODE2}"):
            ensure_pod_cidrs(connect(ctx), ctx.plan, timeout=0, interval=0)
        assert cidrs(srv) == {NODE1: [PLANNED[NODE1]]}  # the registered one got its own


def test_a_different_pod_cidr_fails_verify_naming_the_node(tmp_path: Path) -> None:
    """PodCIDRs swapped, as the controller-manager's registration race leaves them."""
    ctx = make_ctx(make_plan(), tmp_path / "state")
    with cluster(ctx, pod_cidrs=False) as srv:
        node1, node2 = ctx.plan.nodes
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE1)
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE2)
        register(srv, ctx, node1, pod_cidr=PLANNED[NODE2])
        register(srv, ctx, node2, pod_cidr=PLANNED[NODE1])
        kube = connect(ctx)
        results = pod_cidr_checks(kube, ctx.plan)
        assert [(r.check, r.subject, r.ok, r.expected) for r in results] == [
            ("podcidr", f"node-1 ({NODE1})", False, PLANNED[NODE1]),
            ("podcidr", f"node-2 ({NODE2})", False, PLANNED[NODE2])]
        assert results[0].observed.startswith(f"{PLANNED[NODE2]} (its router accepts only "
                                              f"{PLANNED[NODE1]} from it")
        assert f"kubectl delete node {NODE1}" in results[0].hint
        with pytest.raises(PodCidrMismatch) as err:
            ensure_pod_cidrs(kube, ctx.plan, timeout=30, interval=0)
        assert (f"node {NODE1} has PodCIDR {PLANNED[NODE2]} but the plan gives it "
                f"{PLANNED[NODE1]}") in str(err.value)
        assert f"node {NODE2} has PodCIDR {PLANNED[NODE1]}" in str(err.value)
        # and it cannot be fixed in place: the API refuses to change a set PodCIDR
        with pytest.raises(KubeError) as refused:
            kube.merge_patch("v1", "Node", NODE1, {"spec": {"podCIDRs": [PLANNED[NODE1]]}})
        assert refused.value.status == 422
        assert 'may not change podCIDR except from "" to valid' in refused.value.message
        assert live_pod_cidrs(kube, NODE1) == [PLANNED[NODE2]]


def test_bgp_wait_needs_the_planned_prefix_not_just_sessions(tmp_path: Path) -> None:
    crds_or_skip("1.18")
    from nativek8s.plugins.cni.cilium.apply import apply_bgp
    from nativek8s.plugins.cni.cilium.readiness import wait_cilium_ready

    ctx = make_ctx(make_plan(), tmp_path / "state")
    with cluster(ctx, pod_cidrs=False, cilium_crds="1.18") as srv:
        node1, node2 = ctx.plan.nodes
        srv.store.delete(srv.rtype("v1", "Node"), "", NODE2)
        register(srv, ctx, node2, pod_cidr="10.244.7.0/24")  # not the plan's
        srv.install_cilium("1.18.0")
        kube = connect(ctx)
        wait_cilium_ready(kube, timeout=10, interval=0)
        apply_bgp(kube, ctx.plan, ctx.secrets)
        srv.set_bgp_peer_state(NODE1, "established")  # node-1 has no PodCIDR: announces none
        srv.set_bgp_peer_state(NODE2, "established")
        read = node_config_reader(kube, "cilium.io/v2")
        with pytest.raises(WaitTimeout) as err:
            wait_bgp(ctx.plan, read, "node configs", timeout=0, interval=0,
                     cidrs=lambda node: live_pod_cidrs(kube, node))
        assert (f"{NODE1}: PodCIDR none, the router accepts only {PLANNED[NODE1]}; "
                f"{NODE2}: PodCIDR 10.244.7.0/24, the router accepts only {PLANNED[NODE2]}"
                ) in str(err.value)
        # without the PodCIDR reader, node-1's empty announcement is still caught
        with pytest.raises(WaitTimeout, match=f"{NODE1}: 10.1.0.1 established, but "
                                              "advertising nothing"):
            wait_bgp(ctx.plan, read, "node configs", timeout=0, interval=0,
                     cidrs=None)
