"""Domain XML: routers and nodes booted from the OS plugins' media."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..specs import GUEST_AGENT, DomainSpec
from . import owner_element, q, sealed, sub


def domain_xml(spec: DomainSpec) -> str:
    root = ET.Element("domain", type=spec.domain_type)
    sub(root, "name", spec.name)
    owner = owner_element(root, spec.lab, "domain", spec.machine, role=spec.kind,
                          datacentre=spec.datacentre)
    for vol in spec.volumes:  # the volumes this domain owns: destroy removes them with it
        sub(owner, q("volume"), pool=vol.pool, name=vol.name)
    for note in spec.notes:
        root.append(ET.Comment(f" {note} "))
    sub(root, "memory", str(spec.memory_mib), unit="MiB")
    sub(root, "vcpu", str(spec.cpus))
    _os(root, spec)
    features = sub(root, "features")
    sub(features, "acpi")
    sub(features, "apic")
    # KVM: the host's CPU as is. TCG: every feature QEMU can emulate (x86-64-v2 and up,
    # which current kernels and Talos expect), not the ancient qemu64 default.
    sub(root, "cpu", mode="host-passthrough" if spec.domain_type == "kvm" else "maximum")
    sub(root, "clock", offset="utc")
    sub(root, "on_poweroff", "destroy")
    sub(root, "on_reboot", "restart")
    sub(root, "on_crash", "destroy")
    _devices(sub(root, "devices"), spec)
    return sealed(root, owner)


def _os(root: ET.Element, spec: DomainSpec) -> None:
    os_el = sub(root, "os")
    sub(os_el, "type", "hvm", arch="x86_64", machine=spec.machine_type)
    if spec.kernel is not None:
        sub(os_el, "kernel", spec.kernel)
        if spec.initrd is not None:
            sub(os_el, "initrd", spec.initrd)
        sub(os_el, "cmdline", spec.cmdline or "")
    else:
        for dev in spec.boot:
            sub(os_el, "boot", dev=dev)


def _devices(devices: ET.Element, spec: DomainSpec) -> None:
    for disk in spec.disks:
        if disk.cdrom:
            el = sub(devices, "disk", type="file", device="cdrom")
            sub(el, "driver", name="qemu", type="raw")
            sub(el, "source", file=str(disk.path))
            sub(el, "target", dev=disk.target, bus="sata")
            sub(el, "readonly")
            continue
        assert disk.volume is not None
        el = sub(devices, "disk", type="volume", device="disk")
        sub(el, "driver", name="qemu", type="qcow2", discard="unmap")
        sub(el, "source", pool=disk.volume.pool, volume=disk.volume.name)
        sub(el, "target", dev=disk.target, bus="virtio")
    for nic in spec.nics:  # in the plan's order: the guest names them eth0, eth1, ...
        el = sub(devices, "interface", type=nic.type)
        sub(el, "mac", address=nic.mac)
        if nic.type == "network":
            sub(el, "source", network=nic.source)
        elif nic.type == "bridge":
            sub(el, "source", bridge=nic.source)
        else:
            sub(el, "source", dev=nic.source, mode="bridge")
        sub(el, "model", type="virtio")
    # A pty, so `virsh console` can attach (`nativek8s console`), still logged to a file.
    serial = sub(devices, "serial", type="pty")
    sub(serial, "log", file=spec.console_log, append="on")
    sub(serial, "target", port="0")
    console = sub(devices, "console", type="pty")
    sub(console, "target", type="serial", port="0")
    if spec.guest_agent:
        channel = sub(devices, "channel", type="unix")
        sub(channel, "target", type="virtio", name=GUEST_AGENT)
    rng = sub(devices, "rng", model="virtio")
    sub(rng, "backend", "/dev/urandom", model="random")
    sub(devices, "memballoon", model="none")
