"""Fast checks (no root, no daemon) of the pieces behind the tier-2 tests: the guest's command
line and report protocol, the XML against libvirt's own schemas, and the built initramfs."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

import pytest

from . import initramfs as cpio
from .console import kernel_cmdline, parse_report
from .domain_xml import Nic, domain_xml, network_xml
from .guest import StandinGuest
from .kernel import has_pvh_entry, modinfo


def test_cmdline_keys_addresses_by_name_or_mac() -> None:
    line = kernel_cmdline({"eth0": "10.1.0.10/24", "52:54:00:aa:bb:01": "10.2.0.10/24"},
                          ping=["10.1.0.1"], ping_timeout=30)
    assert line.split()[-3:] == ["nk8s.addr=eth0:10.1.0.10/24,52:54:00:aa:bb:01:10.2.0.10/24",
                                 "nk8s.ping=10.1.0.1", "nk8s.ping_timeout=30"]


@pytest.mark.parametrize("addrs", [{"eth0": "10.1.0.10"}, {"eth0": "10.1.0.300/24"},
                                   {"52:54:00:AA:BB:01": "10.1.0.10/24"},  # init compares lower case
                                   {"eth 0": "10.1.0.10/24"}])
def test_cmdline_rejects_what_the_guest_cannot_apply(addrs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        kernel_cmdline(addrs)


def test_report_parser_ignores_noise_and_keeps_the_last_boot() -> None:
    text = "\n".join([
        "NK8S BEGIN kernel=old", "NK8S NIC name=eth9 mac=52:54:00:00:00:99",
        "[    0.000000] ACPI BIOS Error (bug): A valid RSDP was not found",
        "NK8S BEGIN kernel=6.1.0-56-amd64",
        "NK8S NIC name=eth0 mac=52:54:00:4E:B2:0A",
        "random: crng init done NK8S NIC name=eth7 mac=00:00:00:00:00:07",
        "NK8S DISK name=vda bytes=67108864",
        "NK8S ADDR key=eth0 name=eth0 addr=10.1.0.10/24 result=ok",
        "NK8S PING peer=10.1.0.11 result=fail tries=3",
    ])
    partial = parse_report(text)
    assert not partial.complete
    assert partial.kernel == "6.1.0-56-amd64"
    assert partial.nics == {"eth0": "52:54:00:4e:b2:0a"}
    assert partial.disks == {"vda": 67108864}
    assert partial.pings["10.1.0.11"]["result"] == "fail"
    done = parse_report(text + "\nNK8S END status=0 uptime=4.52\n")
    assert done.complete and done.status == 0 and done.uptime == 4.52


def test_xml_passes_libvirt_schema_validation(tmp_path: Path) -> None:
    libvirt = pytest.importorskip("libvirt", reason="pip install libvirt-python")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open("test:///default")
    try:
        net = conn.networkDefineXMLFlags(network_xml("nk8s-t2-v", "nk8st2v", "10.9.0.1/24"),
                                         libvirt.VIR_NETWORK_DEFINE_VALIDATE)
        xml = domain_xml("nk8s-t2-v", tmp_path / "vmlinux", tmp_path / "initrd.img",
                         kernel_cmdline({"eth0": "10.9.0.10/24"}),
                         [Nic("nk8s-t2-v", "52:54:00:4e:b2:ff")], tmp_path / "d.qcow2",
                         tmp_path / "console.log")
        dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        assert "52:54:00:4e:b2:ff" in dom.XMLDesc()
        dom.undefine()
        net.undefine()
        with pytest.raises(libvirt.libvirtError):  # the validator is live, not a no-op
            conn.defineXMLFlags(xml.replace("<vcpu>", "<vcpus>").replace("</vcpu>", "</vcpus>"),
                                libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    finally:
        conn.close()
    with pytest.raises(ValueError):
        network_xml("x", "a-bridge-name-too-long")


def test_cpio_members_are_aligned_and_typed() -> None:
    archive = cpio.write_newc([cpio.directory("dev"), cpio.char_device("dev/console", 5, 1),
                               cpio.regular("init", b"#!/bin/sh\n", 0o755)])
    assert len(archive) % 4 == 0
    assert b"TRAILER!!!\0" in archive[-128:]
    entries = {e.path: e for e in cpio.read_newc(archive)}
    assert stat.S_ISCHR(entries["dev/console"].mode) and entries["dev/console"].rdev == (5, 1)
    assert entries["init"].data == b"#!/bin/sh\n" and entries["init"].mode & 0o111
    with pytest.raises(ValueError):
        cpio.write_newc([cpio.regular("/", b"")])


def test_built_initramfs_loads_every_dependency_first(standin_guest: StandinGuest) -> None:
    entries = {e.path: e for e in cpio.read_newc(gzip.decompress(standin_guest.initrd.read_bytes()))}
    assert entries["dev/console"].rdev == (5, 1)
    assert entries["init"].mode & 0o111 and entries["bin/busybox"].data[:4] == b"\x7fELF"
    order = entries["etc/nk8s/modules"].data.decode().split()
    assert {"virtio_pci", "virtio_net", "virtio_blk"} <= set(order)
    for position, name in enumerate(order):
        info = modinfo(entries[f"lib/modules/{name}.ko"].data)
        assert info["name"] == name
        for dep in filter(None, info.get("depends", "").split(",")):
            assert order.index(dep.replace("-", "_")) < position, f"{dep} after {name}"
    if standin_guest.kernel != standin_guest.bzimage:
        assert has_pvh_entry(standin_guest.kernel.read_bytes())
