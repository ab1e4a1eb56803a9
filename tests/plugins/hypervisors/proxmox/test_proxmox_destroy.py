"""destroy removes the lab's VMs, uploaded disks, vnets and zone -- and nothing else: not a
foreign VM, not one that took over a recorded vmid, not one with the lab's name but not its
tags, not foreign SDN objects."""

from __future__ import annotations

import time

from .pve_lab import writes


def wait(api, node, upid):
    for _ in range(1000):
        if api.nodes(node).tasks(upid).status.get()["status"] == "stopped":
            return
        time.sleep(0.005)
    raise AssertionError(upid)


def test_destroy_spares_what_is_not_the_labs(pve, make_lab):
    api = pve.client()
    wait(api, "pve", api.nodes("pve").qemu.post(vmid=100, name="someone-elses", memory=512))
    # Same name as a lab machine, but without the lab's tags: not ours.
    wait(api, "pve", api.nodes("pve").qemu.post(vmid=101, name="reference-node-1",
                                                  tags="other"))
    api.cluster.sdn.zones.post(zone="theirs", type="simple")
    api.cluster.sdn.vnets.post(vnet="theirnet", zone="theirs", alias="not a lab")
    lab = make_lab(pve)
    lab.deploy()
    vmids = {vm.config["name"]: vm.vmid for vm in pve.state.vms.values()}
    assert vmids["reference-node-1"] not in (100, 101)
    # router-1's VM is replaced behind the lab's back by somebody else's VM with its vmid.
    taken = vmids["reference-router-1"]
    wait(api, "pve", api.nodes("pve").qemu(taken).status.stop.post())
    wait(api, "pve", api.nodes("pve").qemu(taken).delete())
    wait(api, "pve", api.nodes("pve").qemu.post(vmid=taken, name="squatter", tags="nativek8s"))

    removed = lab.destroy()

    assert sorted(vm.config["name"] for vm in pve.state.vms.values()) == [
        "reference-node-1", "someone-elses", "squatter"]
    assert pve.state.vms[101].config["tags"] == "other"
    assert sorted(pve.state.sdn.zones) == ["theirs"] and sorted(pve.state.sdn.vnets) == [
        "theirnet"]
    assert sorted(pve.state.sdn_running.vnets) == ["theirnet"]  # the removal was applied
    volumes = [v for st in pve.state.nodes["pve"].storages.values() for v in st.volumes]
    assert volumes == [v for v in volumes if "iso/nk8s-tinyos" in v]  # shared ISO stays
    assert len([r for r in removed if r.startswith("VM ")]) == 3
    assert f"kept VM {taken}" in "\n".join(lab.lines)
    assert any(r.startswith("SDN zone") for r in removed)


def test_destroy_twice_is_harmless(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    assert lab.destroy()
    pve.api.requests.clear()
    assert lab.destroy() == []
    assert writes(pve) == []


def test_a_foreign_vnet_in_the_labs_zone_keeps_the_zone(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    zone = next(iter(pve.state.sdn.zones))
    pve.client().cluster.sdn.vnets.post(vnet="guest", zone=zone, alias="someone")
    lab.destroy()
    assert list(pve.state.sdn.vnets) == ["guest"] and list(pve.state.sdn.zones) == [zone]
    assert f"kept SDN zone {zone}: it still holds vnets guest" in lab.lines


def test_a_lab_whose_state_was_lost_is_found_again_by_its_marks(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    resources = lab.ctx().state.resources_file
    resources.unlink()
    pve.api.requests.clear()
    lab.deploy()  # VMs found by name and tags, SDN by alias: nothing created twice
    assert writes(pve) == [] and len(pve.state.vms) == 4
    removed = lab.destroy()
    assert pve.state.vms == {} and pve.state.sdn.zones == {} and pve.state.sdn.vnets == {}
    assert len(removed) == 4 + 2 + 3 + 1  # VMs, router disks (by their names), vnets, zone
    volumes = [v for st in pve.state.nodes["pve"].storages.values() for v in st.volumes]
    assert [v.split(":")[1].split("/")[0] for v in volumes] == ["iso"]


def test_destroy_without_state_goes_by_the_marks(pve, make_lab):
    """The state folder is lost: given the topology's plan, the lab's VMs (tags) and SDN
    objects (aliases) are removed; a foreign VM stays."""
    import shutil

    api = pve.client()
    wait(api, "pve", api.nodes("pve").qemu.post(vmid=100, name="someone-elses", memory=512))
    lab = make_lab(pve)
    lab.deploy()
    shutil.rmtree(lab.root)
    removed = lab.plugin().destroy_marked(lab.plan.lab, lab.plan, lab.lines.append)
    assert [vm.config["name"] for vm in pve.state.vms.values()] == ["someone-elses"]
    assert len([r for r in removed if r.startswith("VM ")]) == 4
    assert not pve.state.sdn.zones and not pve.state.sdn.vnets
    assert not lab.root.exists()  # nothing written where the state was
