"""Node labels, the MD5 Secret and the BGP resources on the stand-in API server (apply.py):
server-side apply as `nativek8s`, idempotent re-runs, conflicts, absent CRDs, pruning."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.plan import MD5_SECRET
from nativek8s.plugins.cni.cilium.apply import apply_bgp, ensure_node_labels
from tests.plugins.cni.cilium.cilium_plans import THREE_DC, make_plan, three_dc, with_cilium
from tests.plugins.cni.cilium.kube_lab import cluster, connect, make_ctx
from tests.standins.kube_api import crds_or_skip

V2 = "cilium.io/v2"


def writes(srv) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in srv.requests if r.method in ("PATCH", "POST", "PUT",
                                                                      "DELETE")]


def managers(obj: dict) -> list[str]:
    return [e["manager"] for e in obj["metadata"]["managedFields"]]


def test_labels_are_applied_once(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, labelled=False) as srv:
        kube = connect(ctx)
        assert ensure_node_labels(kube, ctx.plan) == "2 changed"
        node = srv.node("reference-node-2")
        assert node["metadata"]["labels"]["dc"] == "dc2"
        assert "nativek8s" in managers(node)
        before = len(writes(srv))
        assert ensure_node_labels(kube, ctx.plan) == "2 unchanged"
        assert len(writes(srv)) == before


def test_labels_set_at_boot_are_left_alone(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, labelled=True) as srv:
        assert ensure_node_labels(connect(ctx), ctx.plan) == "2 unchanged"
        assert writes(srv) == []
        assert "nativek8s" not in managers(srv.node("reference-node-1"))


def test_a_node_labelled_for_another_datacentre_is_not_overwritten(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, labelled=False) as srv:
        srv.apply({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": "reference-node-1", "labels": {"dc": "dc2"}}},
                  manager="talos")
        with pytest.raises(NativeK8sError) as err:
            ensure_node_labels(connect(ctx), ctx.plan)
        assert "node reference-node-1 is labelled dc=dc2 (set by talos), but the plan puts " \
               "it in datacentre dc1" in str(err.value)
        assert srv.node("reference-node-1")["metadata"]["labels"]["dc"] == "dc2"


def test_unregistered_nodes_are_named(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv, pytest.raises(NativeK8sError) as err:
        ensure_node_labels(connect(ctx), three_dc())
    assert str(err.value).startswith(
        "nodes threedc-node-1, threedc-node-2, threedc-node-3, threedc-node-4, threedc-node-5 "
        "not registered in Kubernetes (it knows reference-node-1, reference-node-2)")
    assert not any(p.startswith("/api/v1/nodes/") for _, p in writes(srv))


def test_absent_crds_give_a_clear_error_and_write_nothing(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, cilium_crds=None) as srv:
        with pytest.raises(NativeK8sError) as err:
            apply_bgp(connect(ctx), ctx.plan, ctx.secrets)
        assert writes(srv) == []
    assert str(err.value).startswith("Cilium CRDs missing: is Cilium ≥1.16 installed? The API "
                                     "serves no CiliumBGPAdvertisement (cilium.io/v2)")


def test_crds_of_another_release_are_named(tmp_path: Path) -> None:
    crds_or_skip("1.17")
    ctx = make_ctx(make_plan(), tmp_path)  # versions.cilium 1.18.0
    with cluster(ctx, cilium_crds="1.17") as srv, pytest.raises(NativeK8sError) as err:
        apply_bgp(connect(ctx), ctx.plan, ctx.secrets)
    assert "the API serves CiliumBGPAdvertisement only as cilium.io/v2alpha1, but " \
           "versions.cilium 1.18.0 takes cilium.io/v2" in str(err.value)
    assert writes(srv) == []


def test_resources_are_applied_then_left_unchanged(tmp_path: Path) -> None:
    crds_or_skip("1.18")
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, cilium_crds="1.18") as srv:
        kube = connect(ctx)
        assert apply_bgp(kube, ctx.plan, ctx.secrets) == "6 created"
        configs = srv.objects(V2, "CiliumBGPClusterConfig")
        assert [c["metadata"]["name"] for c in configs] == ["dc1", "dc2"]
        assert all(managers(c) == ["nativek8s"] for c in configs)
        versions = {(o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
                    for kind in ("CiliumBGPClusterConfig", "CiliumBGPPeerConfig",
                                 "CiliumBGPAdvertisement") for o in srv.objects(V2, kind)}
        assert apply_bgp(kube, ctx.plan, ctx.secrets) == "6 unchanged"
        assert versions == {(o["kind"], o["metadata"]["name"]): o["metadata"]["resourceVersion"]
                            for kind in ("CiliumBGPClusterConfig", "CiliumBGPPeerConfig",
                                         "CiliumBGPAdvertisement") for o in srv.objects(V2, kind)}


def test_fields_changed_by_another_manager_are_taken_back(tmp_path: Path) -> None:
    crds_or_skip("1.18")
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx, cilium_crds="1.18") as srv:
        kube = connect(ctx)
        apply_bgp(kube, ctx.plan, ctx.secrets)
        edited = copy.deepcopy(srv.get(V2, "CiliumBGPPeerConfig", "dc1-peer"))
        body = {"apiVersion": V2, "kind": "CiliumBGPPeerConfig",
                "metadata": {"name": "dc1-peer"},
                "spec": {"timers": {**edited["spec"]["timers"], "holdTimeSeconds": 30}}}
        srv.apply(body, manager="kubectl", force=True)
        note = apply_bgp(kube, ctx.plan, ctx.secrets)
        assert note == ("1 changed, 5 unchanged, took back from other managers: kubectl: "
                        ".spec.timers.holdTimeSeconds of CiliumBGPPeerConfig dc1-peer")
        assert srv.get(V2, "CiliumBGPPeerConfig", "dc1-peer")["spec"]["timers"][
            "holdTimeSeconds"] == 9


def test_md5_secret_holds_the_lab_secret_and_never_shows_it(tmp_path: Path) -> None:
    crds_or_skip("1.18")
    ctx = make_ctx(three_dc(md5=True), tmp_path)
    password = ctx.secrets.get(MD5_SECRET)
    with cluster(ctx, cilium_crds="1.18") as srv:
        note = apply_bgp(connect(ctx), ctx.plan, ctx.secrets)
        secret = srv.get("v1", "Secret", "nativek8s-bgp-md5", "kube-system")
        assert base64.b64decode(secret["data"]["password"]).decode() == password
        assert managers(secret) == ["nativek8s"]
        peer = srv.get(V2, "CiliumBGPPeerConfig", "dc1-peer")
        assert peer["spec"]["authSecretRef"] == "nativek8s-bgp-md5"
    assert note == "10 created"
    assert password not in note


def test_resources_the_plan_no_longer_has_are_deleted(tmp_path: Path) -> None:
    crds_or_skip("1.18")
    ctx = make_ctx(three_dc(), tmp_path)
    without_dc3 = copy.deepcopy(THREE_DC["datacentres"])
    del without_dc3["dc3"]
    smaller = three_dc(datacentres=without_dc3)
    foreign = {"apiVersion": V2, "kind": "CiliumBGPAdvertisement",
               "metadata": {"name": "mine", "labels": {"nativek8s.io/lab": "otherlab"}},
               "spec": {"advertisements": [{"advertisementType": "PodCIDR"}]}}
    with cluster(ctx, cilium_crds="1.18") as srv:
        kube = connect(ctx)
        assert apply_bgp(kube, ctx.plan, ctx.secrets) == "9 created"
        srv.apply(foreign, manager="someone")
        assert apply_bgp(kube, smaller, ctx.secrets) == "6 unchanged, 3 deleted"
        assert [c["metadata"]["name"] for c in srv.objects(V2, "CiliumBGPClusterConfig")] == \
            ["dc1", "dc2"]
        assert srv.get(V2, "CiliumBGPAdvertisement", "mine") is not None


@pytest.mark.parametrize("peering_policy", [False, True])
def test_cilium_117_gets_its_v2alpha1_kinds(tmp_path: Path, peering_policy: bool) -> None:
    crds_or_skip("1.17")
    ctx = make_ctx(make_plan(with_cilium("1.17.3", peering_policy=peering_policy)), tmp_path)
    with cluster(ctx, cilium_crds="1.17") as srv:
        note = apply_bgp(connect(ctx), ctx.plan, ctx.secrets)
        kind = "CiliumBGPPeeringPolicy" if peering_policy else "CiliumBGPClusterConfig"
        assert [o["metadata"]["name"] for o in srv.objects("cilium.io/v2alpha1", kind)] == \
            ["dc1", "dc2"]
    assert note == ("2 created" if peering_policy else "6 created")
