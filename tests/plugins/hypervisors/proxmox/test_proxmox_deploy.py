"""The reference lab deployed on the stand-in through the plugin's steps, as the engine runs
them: SDN, uploads, VMs wired to the plan, started; a second run writes nothing."""

from __future__ import annotations

import hashlib

from nativek8s.api import NetworkKind

from .pve_lab import CALLS, ROUTER_IMAGE_BYTES, requests_matching, writes


def test_reference_lab_deploys(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    plan, state = lab.plan, pve.state
    vms = {vm.config["name"]: vm for vm in state.vms.values()}
    assert sorted(vms) == sorted(m.resource_name for m in plan.machines)
    assert all(vm.status == "running" and vm.node == "pve" for vm in vms.values())
    vnets = {n.key: n.short_id for n in plan.networks if n.kind != NetworkKind.wan}
    for m in plan.machines:
        cfg = vms[m.resource_name].config
        assert set(cfg["tags"].split(";")) == {"nativek8s", plan.lab}
        assert cfg["serial0"] == "socket" and cfg["agent"] == "enabled=1"
        nets = [cfg[f"net{i}"] for i in range(len(m.interfaces))]
        assert f"net{len(m.interfaces)}" not in cfg
        for iface, net in zip(m.interfaces, nets, strict=True):
            bridge = "vmbr0" if iface.network == "wan" else vnets[iface.network]
            assert net == f"virtio={iface.mac.upper()},bridge={bridge},firewall=0"
    # Routers boot the disk imported from their own image; nodes the shared installer ISO.
    for r in plan.routers:
        cfg = vms[r.resource_name].config
        assert cfg["boot"] == "order=virtio0" and cfg["vga"] == "serial0"
        disk = state.volume("pve", cfg["virtio0"].split(",")[0])
        image = (lab.root / "labs" / plan.lab / "backend" / "tinywrt" / f"{r.name}.img")
        assert disk.sha256 == hashlib.sha256(image.read_bytes()).hexdigest()
        assert disk.size == ROUTER_IMAGE_BYTES
    for n in plan.nodes:
        cfg = vms[n.resource_name].config
        assert cfg["boot"] == "order=scsi0;ide2" and "size=8G" in cfg["scsi0"]
        assert cfg["ide2"].startswith("local:iso/nk8s-tinyos-installer-")
    # One simple zone with a vnet per LAN and the peering network, applied.
    assert [z["type"] for z in state.sdn_running.zones.values()] == ["simple"]
    assert sorted(state.sdn_running.vnets) == sorted(vnets.values())
    uploads = requests_matching(pve, "POST", lambda p: p.endswith("/upload"))
    assert len(uploads) == 3  # two router disks and one ISO for both nodes
    assert "✓ start VM [node-2]" in "\n".join(lab.lines)


def test_second_run_writes_nothing_and_prepares_no_image(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    before = {m.name: CALLS.get(m.name, 0) for m in lab.plan.machines}
    pve.api.requests.clear()
    lab.deploy()
    assert writes(pve) == []
    assert {m.name: CALLS.get(m.name, 0) for m in lab.plan.machines} == before
    assert len(pve.state.vms) == 4
