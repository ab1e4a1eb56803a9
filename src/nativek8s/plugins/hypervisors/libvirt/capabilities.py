"""What a libvirt host offers: KVM or only QEMU's emulation (TCG)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from nativek8s.api import NativeK8sError

ARCH = "x86_64"


def domain_types(conn: Any, arch: str = ARCH) -> set[str]:
    """Domain types the host offers for hvm guests of this architecture."""
    caps = ET.fromstring(conn.getCapabilities())
    found: set[str] = set()
    for guest in caps.iterfind("guest"):
        if guest.findtext("os_type") != "hvm":
            continue
        for arch_el in guest.iterfind("arch"):
            if arch_el.get("name") == arch:
                found |= {d.get("type", "") for d in arch_el.iterfind("domain")}
    return found


def resolve(conn: Any, uri: str, wanted: str) -> tuple[str, str | None]:
    """(domain type to use, a note for the user or None)."""
    offered = domain_types(conn)
    if wanted == "kvm":
        if "kvm" not in offered:
            raise NativeK8sError(
                f"KVM is not usable on {uri} (libvirt offers {', '.join(sorted(offered)) or 'no'}"
                f" {ARCH} domain types): enable virtualisation in the firmware, load kvm_intel "
                f"or kvm_amd, or set options.libvirt.domain_type: qemu (slow emulation)")
        return "kvm", None
    if wanted == "qemu":
        return "qemu", None
    if "kvm" in offered:
        return "kvm", None
    return "qemu", (f"KVM is not usable on {uri}; falling back to QEMU emulation (TCG): "
                    f"VMs will be much slower")
