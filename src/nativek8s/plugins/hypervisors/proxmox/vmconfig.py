"""A machine's VM configuration, as the parameters of ``POST /nodes/{node}/qemu`` (pure: the
same function feeds deploy and render).

Routers boot a disk imported from their image (virtio-blk, `virtio0`); nodes boot an
installer ISO (`ide2`) and install onto an empty disk (`scsi0` on virtio-scsi-single, which
the guest sees as /dev/sda). NICs follow the plan's order (routers: eth0 LAN, eth1 WAN,
eth2 peering; nodes: eth0 LAN) with the plan's MACs. The console is a serial socket
(`qm terminal`); no `args`: API tokens may not set them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nativek8s.api import Machine, NetworkKind, Plan, SystemDisk

from .names import tag_string, vm_description
from .options import ProxmoxOptions


@dataclass(frozen=True)
class Media:
    """What a VM boots, as volume ids on Proxmox storage."""

    disk: str | None = None  # an image (content 'import') to import as the boot disk
    iso: str | None = None  # an installer ISO (content 'iso')
    disk_size_gib: int | None = None  # size of the empty install disk beside the ISO


AGENT_ON = "enabled=1"  # the QEMU guest agent's virtio-serial channel (type virtio)


def agent_enabled(value: object) -> bool:
    """Whether a VM's ``agent`` option turns the agent on ('1', 'enabled=1,...')."""
    return re.match(r"(enabled=)?1(,|$)", str(value or "")) is not None


def is_router(machine: Machine) -> bool:
    return getattr(machine, "kind", "") == "router"


def nic_bridges(plan: Plan, machine: Machine, opts: ProxmoxOptions) -> list[str]:
    """Bridge of each NIC in order: the network's vnet, or the WAN bridge."""
    out = []
    for iface in machine.interfaces:
        net = plan.network(iface.network)
        out.append(opts.bridge if net.kind == NetworkKind.wan else net.short_id)
    return out


def net_value(mac: str, bridge: str, bridge_mtu: bool = False) -> str:
    # mtu=1: the virtio NIC tells the guest its bridge's MTU -- a VXLAN vnet's is 50 bytes
    # short of 1500, and a guest left at 1500 would lose full-size packets between nodes.
    return f"virtio={mac.upper()},bridge={bridge},firewall=0" + (",mtu=1" if bridge_mtu else "")


def net_params(plan: Plan, machine: Machine, opts: ProxmoxOptions,
               vxlan: bool = False) -> dict[str, str]:
    bridges = nic_bridges(plan, machine, opts)
    return {f"net{i}": net_value(iface.mac, bridge, vxlan and bridge != opts.bridge)
            for i, (iface, bridge) in enumerate(zip(machine.interfaces, bridges, strict=True))}


def parse_net(value: str) -> tuple[str, str]:
    """(MAC upper-case, bridge) of a PVE net value such as 'virtio=AA:..,bridge=x,...'."""
    mac = bridge = ""
    for part in str(value).split(","):
        key, _, val = part.partition("=")
        if key == "bridge":
            bridge = val
        elif key == "macaddr" or re.fullmatch(r"(virtio|e1000\S*|rtl8139|vmxnet3|i825\S*)",
                                              key):
            mac = val.upper()
    return mac, bridge


# What the guest sees: virtio-blk disks are /dev/vdX, disks on a SCSI controller /dev/sdX.
ROUTER_DISK = SystemDisk(bus="virtio-blk", device="/dev/vda")  # virtio0
NODE_DISK = SystemDisk(bus="virtio-scsi", device="/dev/sda")  # scsi0 on virtio-scsi-single


def system_disk(machine: Machine) -> SystemDisk:
    return ROUTER_DISK if is_router(machine) else NODE_DISK


def vm_params(plan: Plan, machine: Machine, opts: ProxmoxOptions, vxlan: bool, media: Media,
              vmid: int | str) -> dict[str, Any]:
    router = is_router(machine)
    params: dict[str, Any] = {
        "vmid": vmid,
        "name": machine.resource_name,
        "tags": tag_string(plan),
        "description": vm_description(plan, machine),
        "ostype": "l26",
        "memory": opts.router_memory if router else opts.node_memory,
        "cores": opts.router_cores if router else opts.node_cores,
        "serial0": "socket",
        "agent": AGENT_ON,  # routers: verify runs birdc and ip through it
        "onboot": 0,
    }
    if router:
        params["vga"] = "serial0"  # OpenWrt's console is ttyS0
    disk_key = "virtio0" if router else "scsi0"
    if not router:
        params["scsihw"] = "virtio-scsi-single"
    order = [disk_key]
    if media.disk:
        params[disk_key] = f"{opts.storage}:0,import-from={media.disk}"
    else:
        params[disk_key] = f"{opts.storage}:{media.disk_size_gib or opts.node_disk_gib}"
    if media.iso:
        params["ide2"] = f"{media.iso},media=cdrom"
        order.append("ide2")  # an empty disk does not boot: the installer runs first
    params["boot"] = "order=" + ";".join(order)
    params.update(net_params(plan, machine, opts, vxlan))
    return params
