"""Network XML: isolated LAN and peering bridges, the NAT WAN."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..specs import NetworkSpec
from . import owner_element, sealed, sub

MTU = "1500"  # the plan's links are plain Ethernet: no overlay, no reduced MTU


def network_xml(spec: NetworkSpec) -> str:
    root = ET.Element("network")
    sub(root, "name", spec.name)
    extra = {"cidr": str(spec.cidr)} if spec.cidr is not None else {}
    owner = owner_element(root, spec.lab, "network", spec.key, **extra)
    if spec.nat:
        sub(root, "forward", mode="nat")
    # No <forward>: isolated. No <ip>: the host gets no address on a lab LAN, libvirt runs
    # no dnsmasq there, and the router serves DHCP itself.
    sub(root, "bridge", name=spec.bridge, stp="off", delay="0")
    sub(root, "mtu", size=MTU)
    if spec.nat and spec.cidr is not None:
        hosts = list(spec.cidr.hosts())
        ip = sub(root, "ip", address=str(hosts[0]), prefix=str(spec.cidr.prefixlen))
        dhcp = sub(ip, "dhcp")
        sub(dhcp, "range", start=str(hosts[len(hosts) // 2]), end=str(hosts[-1]))
    return sealed(root, owner)
