"""The `libvirt` hypervisor: the lab's networks and VMs on libvirt/QEMU, local or remote.

Networks: an isolated bridge per datacentre LAN and one for the peering network (no
libvirt DHCP: routers serve it), the routers' WAN as a NAT network, a host bridge or a
macvtap. VMs boot the media the router and node OS plugins prepare. Everything the lab
creates carries its metadata (``<nk8s:lab>``) and is recorded in its state; destroy removes
only that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from nativek8s.api import (
    BootMedia,
    Hypervisor,
    LabContext,
    NodePlan,
    Plan,
    RenderContext,
    RenderedFile,
    RouterPlan,
    Step,
    SystemDisk,
    UsageError,
    os_plugin_of,
)

from . import capabilities, console, domains, networks, preflight, storage
from .connection import Connections, is_remote, is_test_driver
from .hostnet import HostNetwork
from .media import boot_media, media_problems, require_files
from .observer import LibvirtObserver
from .options import options_of
from .render import PLUGIN, render
from .specs import (
    FIRST_DISK,
    DomainSpec,
    NetworkSpec,
    PoolSpec,
    domain_spec,
    machine_uri,
    network_specs,
    pool_spec,
)

READY = "libvirt:ready"  # every VM defined and started: later plugins' steps may follow it


def _nothing() -> None:
    return None


def machine_key(machine: str) -> str:
    return f"libvirt:machine:{machine}"


class Libvirt(Hypervisor):
    name = PLUGIN
    kernel_boot = True  # direct kernel boot: kernel + initramfs

    def __init__(self, connections: Connections | None = None,
                 host: HostNetwork | None = None):
        self.connections = connections or Connections()
        self.host = host or HostNetwork()
        self._media: dict[str, BootMedia] = {}
        self._types: dict[str, str] = {}  # uri → kvm | qemu, once known
        self._lock = threading.Lock()
        self.preflight_notes: list[str] = []  # from the last preflight, for doctor

    # --- render ---------------------------------------------------------------------------
    def system_disk(self, plan: Plan, machine: RouterPlan | NodePlan) -> SystemDisk:
        """Every machine's first disk is virtio-blk (``vda``): the guest's /dev/vda."""
        return SystemDisk(bus="virtio-blk", device=f"/dev/{FIRST_DISK}")

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return render(ctx)

    # --- preflight ------------------------------------------------------------------------
    def _state_dir(self, ctx: LabContext) -> Path:
        return ctx.state.backend_dir(PLUGIN)

    def _host_for(self, uri: str) -> HostNetwork | None:
        """This host's network, for URIs whose guests run here."""
        return None if is_remote(uri) or is_test_driver(uri) else self.host

    def preflight(self, ctx: LabContext) -> None:
        found = preflight.check(ctx.plan, self.connections, self._state_dir(ctx),
                                media_problems(ctx), self._host_for)
        with self._lock:  # doctor's checks report the notes (e.g. TCG) as warnings
            self._types.update(found.domain_types)
            self.preflight_notes = list(found.notes)
        if found.problems:
            problems = list(dict.fromkeys(found.problems))
            raise UsageError("cannot deploy on libvirt:\n  " + "\n  ".join(problems))

    @property
    def domain_types(self) -> dict[str, str]:
        """URI → kvm | qemu, as the last preflight found them."""
        with self._lock:
            return dict(self._types)

    def _domain_type(self, ctx: LabContext, uri: str) -> str:
        with self._lock:
            known = self._types.get(uri)
        if known:
            return known
        wanted = next((options_of(ctx.plan, m.datacentre).domain_type
                       for m in ctx.plan.machines if machine_uri(ctx.plan, m) == uri), "auto")
        kind, note = capabilities.resolve(self.connections.get(uri), uri, wanted)
        if note:
            ctx.echo(f"libvirt: {note}")
        with self._lock:
            self._types[uri] = kind
        return kind

    # --- deploy ---------------------------------------------------------------------------
    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        plan = ctx.plan
        state_dir = self._state_dir(ctx)
        specs = network_specs(plan)
        steps: list[Step] = []
        pools: dict[str, PoolSpec] = {}
        for m in plan.machines:
            uri = machine_uri(plan, m)
            pools.setdefault(uri, pool_spec(plan, uri, state_dir))
        for uri, pool in pools.items():
            steps.append(Step(f"libvirt:pool:{uri}", f"storage pool {pool.name}",
                              partial(self._ensure_pool, ctx, pool)))
        for spec in specs:  # independent of each other and of the pool: run in parallel
            steps.append(Step(self._net_key(spec), f"network {spec.name}",
                              partial(self._ensure_network, ctx, spec)))
        for m in plan.machines:
            uri = machine_uri(plan, m)
            used = {i.network for i in m.interfaces}
            after = [f"libvirt:pool:{uri}", f"libvirt:media:{m.name}"]
            after += [self._net_key(s) for s in specs if s.key in used and s.uri == uri]
            steps.append(Step(f"libvirt:media:{m.name}", "boot media",
                              partial(self._prepare_media, ctx, m), machine=m.name))
            steps.append(Step(machine_key(m.name), "VM", partial(self._ensure_machine, ctx, m),
                              machine=m.name, after=tuple(after)))
        steps.append(Step(READY, f"VMs ({len(plan.machines)})", _nothing,
                          after=tuple(machine_key(m.name) for m in plan.machines)))
        return steps

    def _ensure_pool(self, ctx: LabContext, pool: PoolSpec) -> str:
        return storage.ensure_pool(self.connections.get(pool.uri), pool, ctx.state)

    def _ensure_network(self, ctx: LabContext, spec: NetworkSpec) -> str:
        return networks.ensure(self.connections.get(spec.uri), spec, ctx.state)

    @staticmethod
    def _net_key(spec: NetworkSpec) -> str:
        return f"libvirt:network:{spec.name}@{spec.uri}"

    def _prepare_media(self, ctx: LabContext, machine: RouterPlan | NodePlan) -> str | None:
        media = boot_media(ctx, machine)
        with self._lock:
            self._media[machine.name] = media
        parts = [p.name for p in (media.kernel, media.disk, media.iso) if p is not None]
        return ", ".join(parts) or None

    def _spec(self, ctx: LabContext, machine: RouterPlan | NodePlan,
              boot_disk: bool) -> tuple[DomainSpec, BootMedia]:
        with self._lock:
            media = self._media.get(machine.name)
        if media is None:
            media = boot_media(ctx, machine)
        uri = machine_uri(ctx.plan, machine)
        spec = domain_spec(ctx.plan, machine, media, self._domain_type(ctx, uri),
                           self._state_dir(ctx), boot_disk)
        return spec, media

    def _boots_from_disk(self, ctx: LabContext, machine: RouterPlan | NodePlan) -> bool:
        key = domains.state_key(machine_uri(ctx.plan, machine), machine.resource_name)
        return ctx.state.resources().get(key, {}).get("boot") == "disk"

    def _ensure_machine(self, ctx: LabContext, machine: RouterPlan | NodePlan) -> str:
        spec, media = self._spec(ctx, machine, self._boots_from_disk(ctx, machine))
        if not is_remote(spec.uri):  # a remote host's files are its own business
            require_files(media, machine, os_plugin_of(ctx.plugins, machine).name)
        conn = self.connections.get(spec.uri)
        notes = [n for v in spec.volumes
                 if (n := storage.ensure_volume(conn, spec.uri, v, ctx.state))]
        notes.append(domains.ensure(conn, spec, ctx.state))
        return ", ".join(notes)

    def boot_from_disk(self, ctx: LabContext, machine: str, restart: bool = False) -> str:
        """After the OS installed itself to disk: boot the domain from its disk from now on
        (its kernel, installer ISO and command line are dropped). ``restart`` power-cycles
        it now; otherwise the change applies at its next power cycle."""
        node = ctx.plan.machine(machine)
        uri = machine_uri(ctx.plan, node)
        ctx.state.record(domains.state_key(uri, node.resource_name), boot="disk")
        spec, _ = self._spec(ctx, node, boot_disk=True)
        conn = self.connections.get(uri)
        domains.ensure(conn, spec, ctx.state, start=False)
        if restart:
            domains.restart(conn, spec.name)
            return "boots from disk (restarted)"
        return "boots from disk from its next power cycle"

    # --- destroy --------------------------------------------------------------------------
    def destroy(self, ctx: LabContext) -> list[str]:
        lab = ctx.plan.lab
        removed: list[str] = []
        res = ctx.state.resources()

        def each(prefix: str) -> list[tuple[str, dict[str, Any]]]:
            return sorted((k, v) for k, v in res.items() if k.startswith(prefix))

        volumes: dict[tuple[str, str, str], None] = {}
        for key, rec in each("libvirt:domain:"):
            owner, note = domains.destroy(self.connections.get(rec["uri"]), rec["name"], lab)
            self._report(ctx, removed, owner is not None, note)
            if owner is not None:
                volumes.update({(rec["uri"], p, n): None for p, n in owner.volumes})
            ctx.state.forget(key)
        for _key, rec in each("libvirt:volume:"):
            volumes[(rec["uri"], rec["pool"], rec["name"])] = None
        for uri, pool, name in volumes:
            conn = self.connections.get(uri)
            self._report(ctx, removed, *storage.destroy_volume(conn, pool, name, lab))
            ctx.state.forget(storage.volume_key(uri, pool, name))
        for key, rec in each("libvirt:pool:"):
            if rec.get("created"):
                conn = self.connections.get(rec["uri"])
                self._report(ctx, removed, *storage.destroy_pool(conn, rec["name"],
                                                                 rec.get("path")))
            ctx.state.forget(key)
        for key, rec in each("libvirt:network:"):
            conn = self.connections.get(rec["uri"])
            self._report(ctx, removed, *networks.destroy(conn, rec["name"], lab))
            ctx.state.forget(key)
        return removed

    def destroy_marked(self, lab: str, plan: Plan | None,
                       echo: Callable[[str], None]) -> list[str]:
        """Without state: what the lab's hosts hold with this lab's metadata. Which hosts
        only the topology says, so without a plan (no -f FILE) there is nothing to look at."""
        if plan is None:
            return []
        from .marked import destroy_marked

        removed, notes = destroy_marked(self.connections, lab, plan)
        for note in notes:
            echo(f"libvirt: {note}")
        return removed

    @staticmethod
    def _report(ctx: LabContext, removed: list[str], gone: bool, note: str) -> None:
        if gone:
            removed.append(note)
        elif not note.endswith("already gone"):
            ctx.echo(f"libvirt: {note}")

    # --- observe --------------------------------------------------------------------------
    def observer(self, ctx: LabContext) -> LibvirtObserver:
        return LibvirtObserver(ctx.plan, self.connections, self._state_dir(ctx))

    def console_command(self, ctx: LabContext, machine: str) -> list[str]:
        """`virsh console` on the machine's pty serial port."""
        return console.attach_command(ctx.plan, self.connections, self._state_dir(ctx), machine)


__all__ = ["READY", "Libvirt", "machine_key"]
