"""Which disk each node installs Talos to: the one its hypervisor attaches.

The hypervisor says what disk bus it gives a machine (``system_disk``: libvirt's virtio-blk
is /dev/vda, Proxmox's scsi0 on virtio-scsi is /dev/sda). A user's ``install_disk`` wins,
and validation refuses one that differs from the hypervisor's (``checks``). Without a
hypervisor that says (``nativek8s render`` of the netns backend), /dev/vda, virtio's first
disk.
"""

from __future__ import annotations

from collections.abc import Callable

from nativek8s.api import Hypervisor, NodePlan, Plan, RenderContext, Unsupported

from .options import node_options

DEFAULT_DISK = "/dev/vda"

Disks = dict[str, str]  # node name → device path
HypervisorFor = Callable[[str], Hypervisor | None]  # datacentre → its hypervisor plugin


def hypervisor_disk(hypervisor: Hypervisor | None, plan: Plan, node: NodePlan) -> str | None:
    if hypervisor is None:
        return None
    try:
        return str(hypervisor.system_disk(plan, node).device)
    except Unsupported:  # it runs no real machines (netns)
        return None


def install_disk(plan: Plan, node: NodePlan, hypervisor: Hypervisor | None) -> str:
    return (node_options(plan, node).install_disk or hypervisor_disk(hypervisor, plan, node)
            or DEFAULT_DISK)


def install_disks(plan: Plan, hypervisor_for: HypervisorFor | None = None) -> Disks:
    find = hypervisor_for or (lambda dc: None)
    return {n.name: install_disk(plan, n, find(n.datacentre)) for n in plan.nodes}


def disks_of(ctx: RenderContext) -> Disks:
    """From a RenderContext or a LabContext (a RenderContext too)."""
    return install_disks(ctx.plan, ctx.hypervisor_for)
