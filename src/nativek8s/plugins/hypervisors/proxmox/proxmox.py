"""The `proxmox` hypervisor: the lab on a Proxmox VE cluster, each datacentre on the node
its options name, networks as SDN vnets, machines as VMs booted from their OS plugin's media.
"""

from __future__ import annotations

from typing import ClassVar

from nativek8s.core.engine.context import LabContext
from nativek8s.core.engine.steps import Step
from nativek8s.core.kinds import RenderContext, RenderedFile

from . import destroy, preflight, render
from .deploy import Deployment
from .observer import ProxmoxObserver
from .site import connect, gather
from .vms import Vms


class Proxmox:
    name = "proxmox"
    emulates: frozenset[str] = frozenset()  # real machines: node OS and CNI deploy on them
    optional: ClassVar[tuple[str, ...]] = ()

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
        main = next(iter(options.values()))
        return ProxmoxObserver(Vms(conn, ctx.plan, ctx.state, main.task_timeout),
                               main.command_timeout)
