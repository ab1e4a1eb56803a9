"""Which disk each node installs Talos to: the one its hypervisor attaches.

The hypervisor says what disk bus it gives a machine (``system_disk``: libvirt's virtio-blk
is /dev/vda, Proxmox's scsi0 on virtio-scsi is /dev/sda). A user's ``install_disk`` wins,
and validation refuses one that differs from the hypervisor's (``checks``). Without a
hypervisor that says (``nativek8s render`` of the netns backend), /dev/vda, virtio's first
disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nativek8s.core.plan import NodePlan, Plan

from .options import node_options

DEFAULT_DISK = "/dev/vda"

Disks = dict[str, str]  # node name → device path
HypervisorFor = Callable[[str], Any]  # datacentre → hypervisor plugin object (or None)


def hypervisor_disk(hypervisor: Any, plan: Plan, node: NodePlan) -> str | None:
    if hypervisor is None or not hasattr(hypervisor, "system_disk"):
        return None
    return str(hypervisor.system_disk(plan, node).device)


def install_disk(plan: Plan, node: NodePlan, hypervisor: Any) -> str:
    return (node_options(plan, node).install_disk or hypervisor_disk(hypervisor, plan, node)
            or DEFAULT_DISK)


def install_disks(plan: Plan, hypervisor_for: HypervisorFor | None = None) -> Disks:
    find = hypervisor_for or (lambda dc: None)
    return {n.name: install_disk(plan, n, find(n.datacentre)) for n in plan.nodes}


def disks_of(ctx: Any) -> Disks:
    """From a RenderContext or a LabContext (both have ``hypervisor_for``)."""
    return install_disks(ctx.plan, getattr(ctx, "hypervisor_for", None))
