"""BGP resources per datacentre, validated against the CRDs of the matching Cilium."""

from __future__ import annotations

import pytest

from nativek8s.api import BgpEndpoint, PluginError
from nativek8s.plugins.cni.cilium.bgp_resources import dc_resources
from nativek8s.plugins.cni.cilium.peering import dc_peerings
from nativek8s.plugins.cni.cilium.versions import bgp_api, parse_version
from tests.plugins.cni.cilium.cilium_plans import make_plan, three_dc, with_cilium
from tests.plugins.cni.cilium.cilium_upstream import crd_errors, crd_index, snapshot_for

LABS = {
    "reference": lambda version, **o: make_plan(with_cilium(version, **o)),
    "three-dc": lambda version, **o: three_dc(**with_cilium(version, **o)),
    "three-dc-md5": lambda version, **o: three_dc(md5=True, **with_cilium(version, **o)),
}


def _resources(plan, peering_policy=False):
    api = bgp_api(plan.versions["cilium"], peering_policy)
    return {dc.datacentre: dc_resources(dc, api, plan.lab) for dc in dc_peerings(plan)}


def _snapshot(version):
    return snapshot_for(parse_version(version).minor_version)


@pytest.mark.parametrize("lab", LABS)
@pytest.mark.parametrize("version", ["1.16.0", "1.17.0", "1.18.0", "1.19.0"])
def test_bgpv2_resources_validate(lab, version):
    plan = LABS[lab](version)
    resources = _resources(plan)
    assert set(resources) == {dc.name for dc in plan.datacentres if dc.nodes}
    for docs in resources.values():
        assert [d["kind"] for d in docs][0] == "CiliumBGPAdvertisement"
        for doc in docs:
            assert crd_errors(doc, _snapshot(version)) == [], doc


@pytest.mark.parametrize("lab", LABS)
@pytest.mark.parametrize("version", ["1.16.0", "1.17.0", "1.18.0"])
def test_peering_policies_validate(lab, version):
    plan = LABS[lab](version, peering_policy=True)
    for docs in _resources(plan, peering_policy=True).values():
        assert [d["kind"] for d in docs] == ["CiliumBGPPeeringPolicy"]
        assert crd_errors(docs[0], _snapshot(version)) == []


def test_bgpv2_api_version_follows_cilium():
    for version, group in [("1.16.2", "cilium.io/v2alpha1"), ("1.17.0", "cilium.io/v2alpha1"),
                           ("1.18.0", "cilium.io/v2")]:
        plan = make_plan(with_cilium(version))
        assert {d["apiVersion"] for docs in _resources(plan).values() for d in docs} == {group}


def _by_kind(docs):
    out: dict[str, list[dict]] = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def test_three_dc_resources_carry_the_plan():
    plan = three_dc(md5=True)
    resources = _resources(plan)
    for dc in plan.datacentres:
        if not dc.nodes:
            assert dc.name not in resources
            continue
        kinds = _by_kind(resources[dc.name])
        (cc,) = kinds["CiliumBGPClusterConfig"]
        (pc,) = kinds["CiliumBGPPeerConfig"]
        (adv,) = kinds["CiliumBGPAdvertisement"]
        assert cc["spec"]["nodeSelector"] == {"matchLabels": {"dc": dc.name}}
        (instance,) = cc["spec"]["bgpInstances"]
        assert instance["localASN"] == plan.cluster.asn == 65001
        routers = [plan.machine(r) for r in dc.routers]
        assert [(p["name"], p["peerAddress"], p["peerASN"]) for p in instance["peers"]] == [
            (r.name, str(r.lan_address.ip), r.asn) for r in sorted(routers, key=lambda r: r.name)]
        assert {p["peerConfigRef"]["name"] for p in instance["peers"]} == {pc["metadata"]["name"]}
        assert pc["spec"]["timers"] == {"holdTimeSeconds": 9, "keepAliveTimeSeconds": 3,
                                        "connectRetryTimeSeconds": 5}
        assert pc["spec"]["authSecretRef"] == "nativek8s-bgp-md5"
        (family,) = pc["spec"]["families"]
        assert (family["afi"], family["safi"]) == ("ipv4", "unicast")
        selected = family["advertisements"]["matchLabels"]
        assert selected.items() <= adv["metadata"]["labels"].items()
        assert adv["spec"]["advertisements"] == [{"advertisementType": "PodCIDR"}]
    assert len(resources["dc1"][-1]["spec"]["bgpInstances"][0]["peers"]) == 2


def test_peering_policy_is_the_articles():
    plan = make_plan(with_cilium("1.17.0", peering_policy=True))
    (policy,) = _resources(plan, peering_policy=True)["dc2"]
    assert policy["apiVersion"] == "cilium.io/v2alpha1"
    assert policy["metadata"]["name"] == "dc2"
    assert policy["spec"]["nodeSelector"] == {"matchLabels": {"dc": "dc2"}}
    assert policy["spec"]["virtualRouters"] == [{
        "localASN": 65001, "exportPodCIDR": True,
        "neighbors": [{"peerAddress": "10.2.0.1/32", "peerASN": 65000, "holdTimeSeconds": 9,
                       "keepAliveTimeSeconds": 3, "connectRetryTimeSeconds": 5}]}]


def test_md5_only_when_sessions_have_it():
    docs = [d for ds in _resources(three_dc()).values() for d in ds]
    assert not any("authSecretRef" in d["spec"] for d in docs)
    policy = _resources(three_dc(md5=True, **with_cilium("1.16.0", peering_policy=True)),
                        peering_policy=True)["dc1"][0]
    assert {n["authSecretRef"] for n in policy["spec"]["virtualRouters"][0]["neighbors"]} == {
        "nativek8s-bgp-md5"}


def test_distinct_timers_get_distinct_peer_configs():
    # Two different settings within one datacentre: two peer configs, each referenced.
    plan2 = three_dc()
    dc1 = [s for s in plan2.sessions if s.b.machine == "node-1"]
    dc1b = [s for s in plan2.sessions if s.b.machine == "node-2"]
    changed = {s.name: s.model_copy(update={"hold_time": 30}) for s in (dc1[1], dc1b[1])}
    plan2 = plan2.model_copy(update={"sessions": tuple(changed.get(s.name, s)
                                                       for s in plan2.sessions)})
    kinds = _by_kind(_resources(plan2)["dc1"])
    names = [pc["metadata"]["name"] for pc in kinds["CiliumBGPPeerConfig"]]
    assert names == ["dc1-peer", "dc1-peer-2"]
    refs = {p["name"]: p["peerConfigRef"]["name"]
            for p in kinds["CiliumBGPClusterConfig"][0]["spec"]["bgpInstances"][0]["peers"]}
    assert refs == {dc1[0].a.machine: "dc1-peer", dc1[1].a.machine: "dc1-peer-2"}
    for doc in _resources(plan2)["dc1"]:
        assert crd_errors(doc, _snapshot("1.18.0")) == []


def test_nodes_of_one_datacentre_must_share_peers():
    plan = three_dc()
    drop = next(s for s in plan.sessions if s.b.machine == "node-2")
    plan = plan.model_copy(update={"sessions": tuple(s for s in plan.sessions if s != drop)})
    with pytest.raises(PluginError, match="node-1 peers with .* and node-2 with"):
        dc_peerings(plan)


def test_node_outside_the_cluster_as_is_refused():
    plan = make_plan()
    s = plan.sessions[-1]
    odd = s.model_copy(update={"b": BgpEndpoint(machine=s.b.machine, address=s.b.address,
                                                 asn=65123, listens=False)})
    plan = plan.model_copy(update={"sessions": (*plan.sessions[:-1], odd)})
    with pytest.raises(PluginError, match="one local AS for the cluster"):
        dc_peerings(plan)


# The validation above must be able to fail: the same objects, broken as the API server
# would refuse them.
def test_crd_check_refuses_what_the_api_server_refuses():
    plan = make_plan()
    docs = _resources(plan)["dc1"]
    adv, pc, cc = docs
    v2 = _snapshot("1.18.0")
    assert crd_errors(cc, _snapshot("1.16.0")) == [
        "cilium.io/v2 CiliumBGPClusterConfig is not served by the CRDs of v1.16-branchpoint"]
    broken = {**cc, "spec": {**cc["spec"], "bgpInstances": [
        {**cc["spec"]["bgpInstances"][0],
         "peers": [{**p, "peerConfigRef": {"name": "x", "group": "cilium.io"}}
                   for p in cc["spec"]["bgpInstances"][0]["peers"]]}]}}
    assert any("'group' was unexpected" in e for e in crd_errors(broken, v2))
    dup = {**cc, "spec": {**cc["spec"], "bgpInstances": cc["spec"]["bgpInstances"] * 2}}
    assert any("same list-map key" in e for e in crd_errors(dup, v2))
    zero_hold = {**pc, "spec": {**pc["spec"], "timers": {"holdTimeSeconds": 0}}}
    assert any("less than the minimum of 3" in e for e in crd_errors(zero_hold, v2))
    bad_type = {**adv, "spec": {"advertisements": [{"advertisementType": "PodCidr"}]}}
    assert any("is not one of" in e for e in crd_errors(bad_type, v2))
    ns = {**adv, "metadata": {**adv["metadata"], "namespace": "kube-system", "name": "A_b"}}
    assert set(crd_errors(ns, v2)) == {"metadata.name 'A_b' is not a DNS-1123 subdomain",
                                        "metadata.namespace set on a cluster-scoped object"}
    policy = _resources(make_plan(with_cilium("1.17.0", peering_policy=True)), True)["dc1"][0]
    n = policy["spec"]["virtualRouters"][0]["neighbors"][0]
    no_prefix = {**policy, "spec": {**policy["spec"], "virtualRouters": [
        {**policy["spec"]["virtualRouters"][0], "neighbors": [{**n, "peerAddress": "10.1.0.1"}]}]}}
    assert any("is not a 'cidr'" in e for e in crd_errors(no_prefix, _snapshot("1.17.0")))


def test_peering_policy_crd_is_deprecated_in_the_1_18_snapshot():
    found = crd_index(_snapshot("1.18.0"))[("cilium.io/v2alpha1", "CiliumBGPPeeringPolicy")]
    assert found["deprecated"]
    assert not crd_index(_snapshot("1.17.0"))[("cilium.io/v2alpha1",
                                                "CiliumBGPPeeringPolicy")]["deprecated"]
