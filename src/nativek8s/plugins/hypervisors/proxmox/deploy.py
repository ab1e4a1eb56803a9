"""The deploy steps on Proxmox, each an ensure: SDN zone and vnets (applied), then per
machine its boot image (uploaded unless already there), its VM, and starting it.

The OS plugins make the boot media (``boot_media``): a router gives a bootable disk with its
configuration baked in, a node an installer ISO. The node OS's and CNI's own deploy steps
run after these (the engine adds them: this hypervisor emulates nothing).
"""

from __future__ import annotations

from functools import partial

from nativek8s.api import (
    BootMedia,
    LabContext,
    Machine,
    NativeK8sError,
    NodePlan,
    RouterPlan,
    Step,
    Unsupported,
    os_plugin_of,
)

from .images import Uploader, disk_upload, iso_upload
from .management import KUBERNETES_API, TALOS_API, check_paths
from .sdn import ensure_sdn
from .site import Site
from .vmconfig import Media, is_router, net_params, vm_params
from .vms import Vms

SDN_STEP = "proxmox:sdn"
MANAGEMENT_STEP = "proxmox:management"
PORTS = f"Talos API {TALOS_API}, Kubernetes API {KUBERNETES_API}"


class Deployment:
    def __init__(self, ctx: LabContext, site: Site):
        self.ctx, self.site, self.plan = ctx, site, ctx.plan
        timeout = site.main.task_timeout
        self.vms = Vms(site.conn, ctx.plan, ctx.state, timeout)
        self.uploader = Uploader(site.conn, ctx.state, timeout)
        self.media: dict[str, Media] = {}  # machine → uploaded media, from its media step
        self.vxlan = site.sdn.type == "vxlan"

    def steps(self) -> list[Step]:
        steps = [Step(SDN_STEP, "create SDN zone and vnets", self.ensure_sdn)]
        started = tuple(f"proxmox:start:{r}" for dc in self.plan.datacentres
                        if dc.name in self.site.options for r in dc.routers)
        for m in self.plan.machines:
            if m.datacentre not in self.site.options:
                continue
            media, vm = f"proxmox:media:{m.name}", f"proxmox:vm:{m.name}"
            steps += [
                Step(media, "upload boot image", partial(self.ensure_media, m), m.name),
                Step(vm, "create VM", partial(self.ensure_vm, m), m.name,
                     after=(SDN_STEP, media)),
                Step(f"proxmox:start:{m.name}", "start VM", partial(self.ensure_started, m),
                     m.name, after=(vm,)),
            ]
        if started:
            steps.append(Step(MANAGEMENT_STEP, "check this host's way into the LANs",
                              self.check_management, after=started))
        return steps

    # --- steps ------------------------------------------------------------------------
    def ensure_sdn(self) -> str:
        return ensure_sdn(self.site.conn, self.plan, self.site.sdn, self.ctx.state,
                          self.ctx.echo, self.site.main.task_timeout)

    def boot_media(self, machine: Machine) -> BootMedia:
        # Proxmox cannot boot a kernel directly for API tokens: ask for self-booting media.
        try:
            if isinstance(machine, RouterPlan):
                return self.ctx.plugins.router.boot_media(self.ctx, machine, kernel_boot=False)
            assert isinstance(machine, NodePlan)
            return self.ctx.plugins.nodeos.boot_media(self.ctx, machine, kernel_boot=False)
        except Unsupported as exc:
            raise NativeK8sError(f"{exc}; the proxmox hypervisor needs it") from exc

    def ensure_media(self, machine: Machine) -> str:
        if self.vms.find(machine) is not None:
            return "the VM exists; no image needed"
        media = self.boot_media(machine)
        opts = self.site.options_of(machine.datacentre)
        node = self.site.layout.node_of(machine.datacentre)
        plugin = os_plugin_of(self.ctx.plugins, machine).name
        if media.disk is not None:
            upload = disk_upload(self.plan, machine, media.disk)
        elif media.iso is not None:
            upload = iso_upload(media.iso)
        elif media.kernel is not None:
            raise NativeK8sError(f"the {plugin} plugin gave a kernel to boot directly, which "
                                 "Proxmox cannot do for API tokens (only root@pam may set a "
                                 "VM's args); it must give a disk image or an ISO")
        else:
            raise NativeK8sError(f"the {plugin} plugin gave {machine.name} nothing to boot")
        volid, uploaded = self.uploader.ensure(node, opts.image_storage, upload)
        if upload.content == "iso":
            self.media[machine.name] = Media(iso=volid, disk_size_gib=media.disk_size_gib)
        else:
            self.media[machine.name] = Media(disk=volid)
        return f"{'uploaded' if uploaded else 'already on the storage:'} {volid}"

    def ensure_vm(self, machine: Machine) -> str:
        opts = self.site.options_of(machine.datacentre)
        node = self.site.layout.node_of(machine.datacentre)
        vm = self.vms.find(machine)
        if vm is not None:
            if vm.node != node:
                raise NativeK8sError(f"VM {vm.vmid} ({machine.resource_name}) is on node "
                                     f"{vm.node} but {machine.datacentre} now belongs on "
                                     f"{node}; migrate it, or destroy the lab and deploy again")
            changed = self.vms.reconcile_nics(vm, net_params(self.plan, machine, opts,
                                                             self.vxlan),
                                              agent=is_router(machine))
            note = f"vmid {vm.vmid} exists on {node}"
            nics = [c for c in changed if c != "agent"]
            if nics:
                note += f"; NICs set to the plan: {', '.join(nics)}"
            if "agent" in changed:
                note += "; guest agent turned on (it comes with the VM's next start)"
            return note
        media = self.media.get(machine.name)
        if media is None:
            raise NativeK8sError(f"no boot image was prepared for {machine.name} (its VM "
                                 "vanished during the run); run the deploy again")
        # Machines take vmid_start, vmid_start+1, ... in plan order, unless those are taken.
        position = [m.name for m in self.plan.machines].index(machine.name)
        vm = self.vms.create(machine, node, opts.vmid_start + position,
                             partial(vm_params, self.plan, machine, opts, self.vxlan, media))
        return f"vmid {vm.vmid} on {node}"

    def check_management(self) -> str:
        """Warn (never fail: the host may reach the LANs some other way) when this host has
        no route to a LAN via its router's WAN address; the node OS dials in next."""
        machines = {m.name: m for m in self.plan.machines}
        problems = check_paths(self.site.conn, self.plan,
                               lambda name: self.vms.find(machines[name], adopt=False),
                               self.site.main.boot_timeout)
        if not problems:
            return "this host reaches every LAN through its router's WAN address"
        for problem in problems:
            self.ctx.echo(f"warning: {problem}")
        self.ctx.echo(f"warning: the node OS and CNI steps dial the nodes next ({PORTS}); "
                      "each router must also forward those ports from this host, WAN to LAN "
                      "(docs/hypervisors/proxmox.md, 'Reaching the lab')")
        return f"{len(problems)} LAN(s) not reachable from this host yet; see the warnings"

    def ensure_started(self, machine: Machine) -> str:
        vm = self.vms.find(machine)
        if vm is None:
            raise NativeK8sError(f"the VM of {machine.name} is gone; run the deploy again")
        return "started" if self.vms.start(vm) else "already running"
