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
        sub(root, "forward", mode="nat", **({"dev": spec.nat_dev} if spec.nat_dev else {}))
    # No <forward>: isolated. No <ip>: the host gets no address on a lab LAN, libvirt runs
    # no dnsmasq there, and the router serves DHCP itself.
    sub(root, "bridge", name=spec.bridge, stp="off", delay="0")
    sub(root, "mtu", size=MTU)
    if spec.nat and spec.cidr is not None and spec.gateway and spec.dhcp_range:
        ip = sub(root, "ip", address=spec.gateway, prefix=str(spec.cidr.prefixlen))
        dhcp = sub(ip, "dhcp")
        sub(dhcp, "range", start=spec.dhcp_range[0], end=spec.dhcp_range[1])
        for mac, address in spec.dhcp_hosts:  # the routers' fixed WAN addresses
            sub(dhcp, "host", mac=mac, ip=address)
    # The management path: the lab's LANs via their routers, on the host while the network
    # runs (libvirt adds and removes these routes with it).
    for prefix, gateway in spec.routes:
        net, length = prefix.split("/")
        sub(root, "route", address=net, prefix=length, gateway=gateway)
    return sealed(root, owner)
