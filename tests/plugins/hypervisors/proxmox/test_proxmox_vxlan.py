"""Datacentres on different Proxmox nodes: a VXLAN zone spans them, each datacentre's VMs
land on its node, and each node gets its own copy of the installer (storage not shared)."""

from __future__ import annotations

import pytest

from nativek8s.api import NativeK8sError

from .pve_lab import requests_matching


def test_two_nodes_use_a_vxlan_zone(pve2, make_lab):
    lab = make_lab(pve2, nodes={"dc1": "pve1", "dc2": "pve2"})
    lab.deploy()
    state = pve2.state
    (zone,) = state.sdn_running.zones.values()
    assert zone["type"] == "vxlan"
    assert set(zone["nodes"].split(",")) == {"pve1", "pve2"}
    assert set(zone["peers"].split(",")) == {"127.0.0.1", "127.0.0.2"}  # from /cluster/status
    tags = [v["tag"] for v in state.sdn_running.vnets.values()]
    assert len(set(tags)) == 3 and all(1 <= t <= 16_777_215 for t in tags)
    where = {vm.config["name"]: vm.node for vm in state.vms.values()}
    router = next(vm.config for vm in state.vms.values()
                  if vm.config["name"] == "reference-router-1")
    # vnet NICs take the VXLAN bridge's smaller MTU; the WAN NIC keeps its bridge's
    assert router["net0"].endswith(",mtu=1") and router["net2"].endswith(",mtu=1")
    assert "mtu" not in router["net1"]
    for m in lab.plan.machines:
        assert where[m.resource_name] == {"dc1": "pve1", "dc2": "pve2"}[m.datacentre]
    isos = requests_matching(pve2, "POST", lambda p: p.endswith("/storage/local/upload"))
    assert sorted(p.split("/")[2] for p in isos) == ["pve1", "pve1", "pve2", "pve2"]


def test_vxlan_peers_from_options_and_vnis_avoid_taken_ones(pve2, make_lab):
    api = pve2.client()
    api.cluster.sdn.zones.post(zone="other", type="vxlan", peers="192.0.2.1")
    lab = make_lab(pve2, nodes={"dc1": "pve1", "dc2": "pve2"},
                   vxlan_peers={"pve1": "192.0.2.11", "pve2": "192.0.2.12"})
    wanted = int(lab.plan.network("dc1").short_id[2:], 16)  # noqa: FURB166 ("nk" prefix)
    api.cluster.sdn.vnets.post(vnet="othernet", zone="other", tag=wanted)
    lab.deploy()
    zone = pve2.state.sdn_running.zones[next(z for z in pve2.state.sdn.zones if z != "other")]
    assert zone["peers"] == "192.0.2.11,192.0.2.12"
    ours = pve2.state.sdn_running.vnets[lab.plan.network("dc1").short_id]
    assert ours["tag"] == wanted + 1
    assert pve2.state.sdn_running.vnets["othernet"]["tag"] == wanted


def test_a_datacentre_must_name_its_node_on_a_cluster(pve2, make_lab):
    lab = make_lab(pve2, nodes={"dc1": "pve1"})
    with pytest.raises(NativeK8sError) as err:
        lab.deploy()
    assert "datacentres.dc2.options.proxmox.node: the cluster has several nodes" in str(err.value)
    assert pve2.state.vms == {} and pve2.state.sdn.zones == {}


def test_moving_a_datacentre_to_another_node_is_refused(pve2, make_lab):
    make_lab(pve2, nodes={"dc1": "pve1", "dc2": "pve1"}).deploy()
    lab = make_lab(pve2, nodes={"dc1": "pve1", "dc2": "pve2"})
    with pytest.raises(NativeK8sError) as err:
        lab.deploy()
    assert "is a simple zone but the lab now needs vxlan" in str(err.value)
    assert "nativek8s destroy" in str(err.value)
