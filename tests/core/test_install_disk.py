"""Talos installs to the disk the hypervisor attaches (Hypervisor.system_disk), not to a
constant: `render` shows the same disk in the node's patch and in the VM definition, for
libvirt (virtio-blk, /dev/vda) and Proxmox (scsi0 on virtio-scsi, /dev/sda); an explicit
install_disk still wins, and one the hypervisor does not attach is a validation error at
its YAML line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from nativek8s.core.load import reference_text

from .conftest import run_cli


def _patch(out: Path, node: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((out / "talos" / node / "patch.yaml").read_text()) if d]


def _talos_disk(docs: list[dict]) -> str:
    for doc in docs:
        if "machine" in doc:
            return doc["machine"]["install"]["disk"]
        if doc.get("kind") == "UnattendedInstallConfig":
            match = doc["provisioning"]["diskSelector"]["match"]
            return match.split('"')[1]
    raise AssertionError(f"no install disk in {docs}")


def _topology(tmp_path: Path, talos: dict | None = None, version: str | None = None) -> Path:
    data = yaml.safe_load(reference_text())
    if talos is not None:
        data.setdefault("options", {})["talos"] = talos
    if version:
        data["versions"]["talos"] = version
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("version", ["1.13.9", "1.14.0-rc.1"])
def test_render_proxmox_installs_to_the_scsi_disk_the_vm_has(builtin_registry, isolated,
                                                             tmp_path: Path, version: str):
    out = tmp_path / "out"
    result = run_cli(["render", "-f", str(_topology(tmp_path, version=version)),
                      "--hypervisor", "proxmox", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for node in ("node-1", "node-2"):
        vm = json.loads((out / "proxmox" / "vms" / f"{node}.json").read_text())
        (params,) = [v for k, v in vm.items() if k.startswith("POST")]
        disks = sorted(k for k in params if k.startswith(("scsi", "virtio", "sata", "ide"))
                       and k != "scsihw" and "cdrom" not in str(params[k]))
        assert disks == ["scsi0"] and params["scsihw"] == "virtio-scsi-single"
        assert _talos_disk(_patch(out, node)) == "/dev/sda"  # the guest's first SCSI disk


@pytest.mark.parametrize("version", ["1.13.9", "1.14.0-rc.1"])
def test_render_libvirt_installs_to_the_virtio_disk_the_domain_has(builtin_registry, isolated,
                                                                   tmp_path: Path, version: str):
    out = tmp_path / "out"
    result = run_cli(["render", "-f", str(_topology(tmp_path, version=version)),
                      "--hypervisor", "libvirt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for node in ("node-1", "node-2"):
        domain = ET.parse(out / "libvirt" / "domains" / f"reference-{node}.xml").getroot()
        targets = [(d.find("target").get("dev"), d.find("target").get("bus"))
                   for d in domain.iter("disk") if d.get("device") == "disk"]
        assert targets == [("vda", "virtio")]
        assert _talos_disk(_patch(out, node)) == "/dev/vda"


def test_explicit_install_disk_wins(builtin_registry, isolated, tmp_path: Path):
    out = tmp_path / "out"
    path = _topology(tmp_path, {"install_disk": "/dev/sda"})
    result = run_cli(["render", "-f", str(path), "--hypervisor", "proxmox", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _talos_disk(_patch(out, "node-1")) == "/dev/sda"


def test_install_disk_the_hypervisor_does_not_attach_is_refused_at_its_line(
        builtin_registry, isolated, tmp_path: Path):
    path = _topology(tmp_path, {"install_disk": "/dev/vda"})
    ok = run_cli(["validate", str(path), "--hypervisor", "libvirt"])
    assert ok.exit_code == 0, ok.output
    refused = run_cli(["validate", str(path), "--hypervisor", "proxmox"])
    assert refused.exit_code == 2
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "install_disk" in text)
    assert f"lab.yaml:{line}: options.talos.install_disk: " in refused.stderr
    assert ("/dev/vda does not exist on node-1, node-2: the proxmox hypervisor attaches their "
            "disks on "
            "virtio-scsi, which the guest sees as /dev/sda") in refused.stderr
    assert not isolated.state.exists()  # nothing created


def test_same_node_and_router_memory_on_every_hypervisor(builtin_registry, isolated,
                                                         tmp_path: Path):
    """One sensible default everywhere: 4 GiB per node (Talos recommends it for a control
    plane, which runs workloads too in a lab), 256 MiB per router."""
    memory: dict[str, dict[str, int]] = {}
    for hypervisor in ("libvirt", "proxmox"):
        out = tmp_path / hypervisor
        result = run_cli(["render", "-f", str(_topology(tmp_path)), "--hypervisor", hypervisor,
                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        for machine in ("node-1", "router-1"):
            if hypervisor == "libvirt":
                domain = ET.parse(out / "libvirt" / "domains" / f"reference-{machine}.xml")
                mib = int(domain.getroot().findtext("memory"))
            else:
                vm = json.loads((out / "proxmox" / "vms" / f"{machine}.json").read_text())
                (params,) = [v for k, v in vm.items() if k.startswith("POST")]
                mib = int(params["memory"])
            memory.setdefault(machine, {})[hypervisor] = mib
    assert memory == {"node-1": {"libvirt": 4096, "proxmox": 4096},
                      "router-1": {"libvirt": 256, "proxmox": 256}}
