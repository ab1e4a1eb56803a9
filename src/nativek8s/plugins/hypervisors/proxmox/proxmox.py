"""The `proxmox` hypervisor: the lab on a Proxmox VE cluster, each datacentre on the node
its options name, networks as SDN vnets, machines as VMs booted from their OS plugin's media.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from nativek8s.api import (
    Hypervisor,
    LabContext,
    LabState,
    NodePlan,
    Plan,
    RenderContext,
    RenderedFile,
    RouterPlan,
    Step,
    SystemDisk,
    UsageError,
)

from . import destroy, preflight, render, vmconfig
from .deploy import Deployment
from .observer import ProxmoxObserver
from .site import connect, gather
from .vms import Vms, vm_key


class Proxmox(Hypervisor):
    name = "proxmox"
    kernel_boot = False  # API tokens cannot set a kernel: ISOs and whole disks

    def system_disk(self, plan: Plan, machine: RouterPlan | NodePlan) -> SystemDisk:
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

    def console_command(self, ctx: LabContext, machine: str) -> list[str]:
        """No console through the API token: say where the VM's serial console is."""
        rec = ctx.state.resources().get(vm_key(machine), {})
        where = (f"`qm terminal {rec['vmid']}` on Proxmox node {rec.get('node', '?')}"
                 if "vmid" in rec else "`qm terminal <vmid>` on its Proxmox node (`nativek8s "
                 "status` shows the vmid)")
        raise UsageError(f"nativek8s cannot attach to consoles on Proxmox (its API gives "
                         f"tokens no terminal): use {where}, or the web UI's xterm.js console; "
                         "leave `qm terminal` with Ctrl+O")

    def destroy_marked(self, lab: str, plan: Plan | None,
                       echo: Callable[[str], None]) -> list[str]:
        """Without state: VMs by the lab's tags and SDN objects by their aliases, on the
        cluster the topology's plan names (without a plan there is no cluster to ask).
        Uploaded boot disks are known from the state only and stay."""
        if plan is None:
            return []
        with tempfile.TemporaryDirectory() as tmp:
            state = LabState(lab, root=Path(tmp))  # empty: every lookup goes by the marks
            ctx = LabContext(plan=plan, state=state, secrets=state.secrets(plan),
                             plugins=None, echo=echo)  # type: ignore[arg-type]
            return destroy.destroy(ctx)

    def observer(self, ctx: LabContext) -> ProxmoxObserver:
        conn, options = connect(ctx.plan)
        main = next(iter(options.values()))
        return ProxmoxObserver(Vms(conn, ctx.plan, ctx.state, main.task_timeout),
                               main.command_timeout)
