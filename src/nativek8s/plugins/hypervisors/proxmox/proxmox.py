"""The `proxmox` hypervisor: the lab on a Proxmox VE cluster, each datacentre on the node
its options name, networks as SDN vnets, machines as VMs booted from their OS plugin's media.
"""

from __future__ import annotations

from typing import ClassVar

from nativek8s.core.engine.context import LabContext
from nativek8s.core.engine.steps import Step
from nativek8s.core.kinds import RenderContext, RenderedFile, SystemDisk
from nativek8s.core.plan import Machine, Plan

from . import destroy, preflight, render, vmconfig
from .deploy import Deployment
from .observer import ProxmoxObserver
from .site import connect, gather
from .vms import Vms


class Proxmox:
    name = "proxmox"
    kernel_boot = False  # API tokens cannot set a kernel: ISOs and whole disks
    emulates: frozenset[str] = frozenset()  # real machines: node OS and CNI deploy on them
    optional: ClassVar[tuple[str, ...]] = ()

    def system_disk(self, plan: Plan, machine: Machine) -> SystemDisk:
        """Nodes install to scsi0 on virtio-scsi (/dev/sda); routers boot virtio0."""
        return vmconfig.system_disk(machine)

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return render.render(ctx)

    def preflight(self, ctx: LabContext) -> None:
        preflight.check(ctx.plan)

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        return Deployment(ctx, gather(ctx.plan)).steps()

    def destroy(self, ctx: LabContext) -> list[str]:
        return destroy.destroy(ctx)

    def observer(self, ctx: LabContext) -> ProxmoxObserver:
        conn, options = connect(ctx.plan)
        timeout = next(iter(options.values())).task_timeout
        return ProxmoxObserver(Vms(conn, ctx.plan, ctx.state, timeout))
