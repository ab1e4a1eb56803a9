"""Minimal libvirt XML for the tier-2 tests: isolated networks and direct-kernel-boot TCG
guests (the shape the libvirt plugin will render, kept independent of it on purpose)."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Nic:
    network: str
    mac: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def network_xml(name: str, bridge: str, address: str | None = None) -> str:
    """An isolated network (no ``<forward>``). ``address`` (``ADDR/PREFIX``) gives the bridge
    an address (libvirt then also runs dnsmasq for DNS, but no DHCP is configured)."""
    if len(bridge) > 15:
        raise ValueError(f"bridge name longer than 15 characters: {bridge}")
    root = ET.Element("network")
    _sub(root, "name", name)
    _sub(root, "bridge", name=bridge, stp="off", delay="0")
    if address is not None:
        iface = ipaddress.ip_interface(address)
        _sub(root, "ip", address=str(iface.ip), prefix=str(iface.network.prefixlen))
    return ET.tostring(root, encoding="unicode")


def domain_xml(name: str, kernel: Path, initrd: Path, cmdline: str, nics: Sequence[Nic],
               disk: Path, console_log: Path, memory_mib: int = 256, vcpus: int = 1) -> str:
    """A TCG guest booted straight from kernel + initrd, console on ttyS0 into a file."""
    root = ET.Element("domain", type="qemu")
    _sub(root, "name", name)
    _sub(root, "memory", str(memory_mib), unit="MiB")
    _sub(root, "vcpu", str(vcpus))
    os_el = _sub(root, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine="pc")
    _sub(os_el, "kernel", str(kernel))
    _sub(os_el, "initrd", str(initrd))
    _sub(os_el, "cmdline", cmdline)
    for event in ("on_poweroff", "on_reboot", "on_crash"):
        _sub(root, event, "destroy")  # a panicking guest stops instead of looping
    devices = _sub(root, "devices")
    disk_el = _sub(devices, "disk", type="file", device="disk")
    _sub(disk_el, "driver", name="qemu", type="qcow2")
    _sub(disk_el, "source", file=str(disk))
    _sub(disk_el, "target", dev="vda", bus="virtio")
    for nic in nics:
        iface = _sub(devices, "interface", type="network")
        _sub(iface, "mac", address=nic.mac)
        _sub(iface, "source", network=nic.network)
        _sub(iface, "model", type="virtio")
    serial = _sub(devices, "serial", type="file")
    _sub(serial, "source", path=str(console_log), append="off")
    _sub(serial, "target", port="0")
    _sub(devices, "memballoon", model="none")
    return ET.tostring(root, encoding="unicode")
