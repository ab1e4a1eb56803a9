"""`render`: the SDN objects, every VM's create parameters and the routes this host needs into
the LANs, without a cluster -- the same parameters deploy sends (checked against what the
stand-in stored)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from nativek8s.api import RenderContext, SecretStore
from nativek8s.core.cli.main import cli
from nativek8s.core.registry import reset_registry

from .pve_lab import registry

DISKS = ("virtio0", "scsi0", "ide2")


def rendered(lab, tmp_path) -> dict[str, dict]:
    ctx = RenderContext(plan=lab.plan, secrets=SecretStore(tmp_path / "secrets"))
    return {f.path: json.loads(f.content) for f in lab.plugin().render(ctx)}


def test_render_matches_what_deploy_creates(pve, make_lab, tmp_path):
    lab = make_lab(pve)
    files = rendered(lab, tmp_path)
    assert sorted(files) == ["management.json", "sdn.json",
                             *sorted(f"vms/{m.name}.json" for m in lab.plan.machines)]
    management = files["management.json"]
    assert [p["route"] for p in management["host_needs"]] == [
        "10.1.0.0/24 via <WAN address of router-1, known once it booted>",
        "10.2.0.0/24 via <WAN address of router-2, known once it booted>"]
    assert management["host_needs"][0]["dialled"] == [
        "10.1.0.10:50000 (node-1, Talos API)", "10.1.0.10:6443 (node-1, Kubernetes API)"]
    assert management["host_needs"][1]["dialled"] == ["10.2.0.10:50000 (node-2, Talos API)"]
    sdn = files["sdn.json"]
    assert sdn["zone"]["POST /cluster/sdn/zones"]["type"] == "simple"
    assert [v["network"] for v in sdn["vnets"]] == ["dc1", "dc2", "peering"]
    lab.deploy()
    stored = {vm.config["name"]: vm.config for vm in pve.state.vms.values()}
    for m in lab.plan.machines:
        (call,) = [k for k in files[f"vms/{m.name}.json"] if k.startswith("POST")]
        params = files[f"vms/{m.name}.json"][call]
        config = stored[params["name"]]
        same = {k: str(v) for k, v in params.items() if k not in (*DISKS, "vmid")}
        assert {k: str(config[k]) for k in same} == same  # PVE keeps config values as text
        assert set(DISKS) & set(params) == set(DISKS) & set(config)
    for v in sdn["vnets"]:
        params = v["POST /cluster/sdn/vnets"]
        assert pve.state.sdn.vnets[params["vnet"]]["alias"] == params["alias"]


def test_render_of_a_lab_on_two_nodes_shows_a_vxlan_zone(pve2, make_lab, tmp_path):
    lab = make_lab(pve2, nodes={"dc1": "pve1", "dc2": "pve2"},
                   vxlan_peers={"pve1": "10.0.0.1"})
    files = rendered(lab, tmp_path)
    zone = files["sdn.json"]["zone"]["POST /cluster/sdn/zones"]
    assert zone["type"] == "vxlan" and zone["nodes"] == "pve1,pve2"
    assert zone["peers"] == "10.0.0.1,<address of pve2 from /cluster/status>"
    assert "POST /nodes/pve2/qemu" in files["vms/node-2.json"]


def test_render_command_writes_the_proxmox_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path / "state"))
    reset_registry(registry())
    try:
        result = CliRunner().invoke(cli, ["render", "--hypervisor", "proxmox", "--router",
                                          "tinywrt", "--nodeos", "tinyos", "--out",
                                          str(tmp_path / "out")])
    finally:
        reset_registry(None)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "proxmox"
    assert sorted(p.name for p in (out / "vms").iterdir()) == [
        "node-1.json", "node-2.json", "router-1.json", "router-2.json"]
    router = json.loads((out / "vms" / "router-1.json").read_text())
    params = router["POST /nodes/(the cluster's only node)/qemu"]
    assert params["virtio0"].startswith("local-lvm:0,import-from=local:import/nk8s-reference-")
    assert params["net1"].endswith("bridge=vmbr0,firewall=0")
    assert json.loads((out / "sdn.json").read_text())["apply"] == "PUT /cluster/sdn"
