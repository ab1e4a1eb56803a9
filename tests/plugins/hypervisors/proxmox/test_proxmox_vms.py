"""VMs: ids that avoid every existing VM (even ones the token cannot see), NICs brought
back to the plan on a re-run, and boot media Proxmox cannot use refused with the reason."""

from __future__ import annotations

import time

import pytest

from nativek8s.core.engine.steps import StepFailed

from .pve_lab import TinyRouter, requests_matching


def wait(api, upid, node="pve"):
    for _ in range(1000):
        if api.nodes(node).tasks(upid).status.get()["status"] == "stopped":
            return
        time.sleep(0.005)
    raise AssertionError(upid)


def test_vmids_avoid_existing_vms_even_hidden_ones(pve, make_lab):
    api = pve.client()
    for vmid in (1000, 1001):
        wait(api, api.nodes("pve").qemu.post(vmid=vmid, name=f"other-{vmid}"))
    pve.token.acl.grant("/vms/1001", "VM.Allocate")  # deepest ACL wins: 1001 is hidden
    assert [v["vmid"] for v in api.cluster.resources.get(type="vm")] == [1000]
    lab = make_lab(pve)
    lab.deploy()
    ours = sorted(vm.vmid for vm in pve.state.vms.values() if vm.config.get("tags"))
    assert ours == [1002, 1003, 1004, 1005]
    assert pve.state.vms[1001].config["name"] == "other-1001"
    creates = [s for m, p, s in pve.api.requests if (m, p) == ("POST", "/nodes/pve/qemu")]
    assert creates == [200] * 6  # /cluster/nextid found 1001 taken: no create was refused


def test_nics_are_brought_back_to_the_plan(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    router = lab.plan.machine("router-1")
    vm = next(v for v in pve.state.vms.values() if v.config["name"] == router.resource_name)
    api = pve.client()
    wait(api, api.nodes("pve").qemu(vm.vmid).config.post(
        net2="virtio=02:00:00:00:00:01,bridge=vmbr0", net3="virtio,bridge=vmbr0"))
    pve.api.requests.clear()
    lab.deploy()
    peering = router.interface("peering")
    assert vm.config["net2"].startswith(f"virtio={peering.mac.upper()},bridge="
                                        f"{lab.plan.network('peering').short_id}")
    assert "net3" not in vm.config
    assert len(requests_matching(pve, "POST", lambda p: p.endswith("/config"))) == 1
    assert "NICs set to the plan: net2, -net3" in "\n".join(lab.lines)


def test_direct_kernel_boot_is_refused_with_the_reason(pve, make_lab, monkeypatch):
    monkeypatch.setattr(TinyRouter, "kernel_only", True)
    with pytest.raises(StepFailed) as err:
        make_lab(pve).deploy()
    assert "only root@pam may set a VM's args" in str(err.value)
    assert "must give a disk image or an ISO" in str(err.value)


def test_an_os_plugin_without_boot_media_is_named(pve, make_lab, monkeypatch):
    from .pve_lab import TinyNodeOS

    monkeypatch.delattr(TinyNodeOS, "boot_media")
    with pytest.raises(StepFailed) as err:
        make_lab(pve).deploy()
    assert ("the node OS plugin 'tinyos' cannot provide boot media for virtual machines (it "
            "does not implement boot_media); the proxmox hypervisor needs it") in str(err.value)


def test_two_vms_claiming_one_machine_are_not_guessed_between(pve, make_lab):
    api = pve.client()
    for vmid in (500, 501):
        wait(api, api.nodes("pve").qemu.post(vmid=vmid, name="reference-node-2",
                                              tags="nativek8s;reference"))
    with pytest.raises(StepFailed) as err:
        make_lab(pve).deploy()
    assert "several VMs are named reference-node-2 with lab reference's tags (500, 501)" in str(
        err.value)
