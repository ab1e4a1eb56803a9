"""The lab's VMs on the API: find (only ours: name and lab tags), create with a free vmid,
bring NICs back to the plan, start, and remove.

A vmid is recorded in the lab's state before the VM is created, so an interrupted run finds
it again; a recorded vmid that now holds somebody else's VM is never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nativek8s.api import LabState, Machine, NativeK8sError, Plan

from .connection import ApiError, Connection
from .names import has_lab_tags
from .tasks import TaskFailed, wait_task
from .vmconfig import AGENT_ON, agent_enabled, parse_net

CREATE_ATTEMPTS = 5  # another client may take the vmid we chose between listing and create
VMID_MAX = 999_999_999


def vm_key(machine: str) -> str:
    return f"proxmox:vm:{machine}"


@dataclass(frozen=True)
class VmRef:
    vmid: int
    node: str
    status: str = ""

    @property
    def path(self) -> str:
        return f"/nodes/{self.node}/qemu/{self.vmid}"


class Vms:
    def __init__(self, conn: Connection, plan: Plan, state: LabState, timeout: float):
        self.conn, self.plan, self.state, self.timeout = conn, plan, state, timeout
        self._alloc = threading.Lock()  # one vmid choice at a time in this process

    # --- finding ------------------------------------------------------------------------
    def guests(self) -> list[dict[str, Any]]:
        """Every VM and container the token may see (containers take vmids too)."""
        return list(self.conn.get("/cluster/resources", type="vm") or [])

    def cluster_vms(self) -> list[dict[str, Any]]:
        return [v for v in self.guests() if v.get("type", "qemu") == "qemu"]

    def ours(self, entry: dict[str, Any], machine: Machine) -> bool:
        return entry.get("name") == machine.resource_name and has_lab_tags(
            self.plan, entry.get("tags"))

    def ours_any(self, entry: dict[str, Any]) -> bool:
        return any(self.ours(entry, m) for m in self.plan.machines)

    def find(self, machine: Machine, vms: list[dict[str, Any]] | None = None,
             adopt: bool = True) -> VmRef | None:
        """The machine's VM: the recorded vmid if it is still ours, else the one VM with its
        name and the lab's tags (recorded then, unless ``adopt`` is False)."""
        vms = self.cluster_vms() if vms is None else vms
        rec = self.state.resources().get(vm_key(machine.name), {})
        by_id = {int(v["vmid"]): v for v in vms}
        entry = by_id.get(int(rec["vmid"])) if "vmid" in rec else None
        if entry is None or not self.ours(entry, machine):
            matches = [v for v in vms if self.ours(v, machine)]
            if len(matches) > 1:
                ids = ", ".join(str(v["vmid"]) for v in matches)
                raise NativeK8sError(f"several VMs are named {machine.resource_name} with lab "
                                     f"{self.plan.lab}'s tags ({ids}); remove the extra ones")
            entry = matches[0] if matches else None
            if entry is not None and adopt:
                self.state.record(vm_key(machine.name), vmid=int(entry["vmid"]),
                                  node=entry["node"], name=machine.resource_name)
        if entry is None:
            return None
        return VmRef(int(entry["vmid"]), str(entry["node"]), str(entry.get("status", "")))

    # --- creating -----------------------------------------------------------------------
    def _free_vmid(self, vms: list[dict[str, Any]], machine: Machine, start: int,
                   skip: set[int]) -> int:
        taken = {int(v["vmid"]) for v in vms} | skip
        taken |= {int(r["vmid"]) for k, r in self.state.resources().items()
                  if k.startswith("proxmox:vm:") and k != vm_key(machine.name) and "vmid" in r}
        vmid = start
        while vmid <= VMID_MAX:
            if vmid not in taken:
                # The listing shows only VMs the token may audit; nextid knows them all.
                try:
                    self.conn.get("/cluster/nextid", vmid=vmid)
                    return vmid
                except ApiError as exc:
                    if exc.status != 400:
                        raise
                    skip.add(vmid)
            vmid += 1
        raise NativeK8sError(f"no free vmid from {start} on; lower vmid_start")

    def create(self, machine: Machine, node: str, start: int,
               params: Callable[[int], dict[str, Any]]) -> VmRef:
        """Create the VM with the first free vmid from ``start``; wait for the task."""
        skip: set[int] = set()
        for _ in range(CREATE_ATTEMPTS):
            with self._alloc:
                vmid = self._free_vmid(self.guests(), machine, start, skip)
                self.state.record(vm_key(machine.name), vmid=vmid, node=node,
                                  name=machine.resource_name)
                try:
                    upid = self.conn.post(f"/nodes/{node}/qemu", **params(vmid))
                except ApiError as exc:
                    if "already exists" in exc.pve_message:
                        skip.add(vmid)
                        continue
                    raise
            try:
                wait_task(self.conn, upid, f"creating VM {vmid} ({machine.resource_name})",
                          self.timeout)
            except TaskFailed as exc:
                if "already exists" in (exc.exitstatus or ""):
                    skip.add(vmid)
                    continue
                raise
            return VmRef(vmid, node, "stopped")
        raise NativeK8sError(f"could not create {machine.resource_name}: every vmid tried was "
                             "taken meanwhile by another client; run again")

    # --- healing and power --------------------------------------------------------------
    def reconcile_nics(self, vm: VmRef, wanted: dict[str, str], agent: bool = False
                       ) -> list[str]:
        """Set NICs that differ from the plan (bridge or MAC) and drop extra ones; with
        ``agent``, also turn the guest agent on if it is off (verify runs commands through
        it; PVE adds the device when the VM next starts)."""
        config = self.conn.get(f"{vm.path}/config")
        if config.get("lock"):
            raise NativeK8sError(f"VM {vm.vmid} is locked ({config['lock']}): a task on it "
                                 "is still running or was interrupted; wait for it (or "
                                 f"`qm unlock {vm.vmid}` on {vm.node}) and run again")
        changes = {k: v for k, v in wanted.items()
                   if parse_net(config.get(k, "")) != parse_net(v)}
        if agent and not agent_enabled(config.get("agent")):
            changes["agent"] = AGENT_ON
        extra = sorted(k for k in config if k.startswith("net") and k[3:].isdigit()
                       and k not in wanted)
        if not changes and not extra:
            return []
        params: dict[str, Any] = dict(changes)
        if extra:
            params["delete"] = ",".join(extra)
        upid = self.conn.post(f"{vm.path}/config", **params)
        if upid:
            wait_task(self.conn, upid, f"updating the NICs of VM {vm.vmid}", self.timeout)
        return sorted(changes) + [f"-{k}" for k in extra]

    def status(self, vm: VmRef) -> str:
        return str(self.conn.get(f"{vm.path}/status/current").get("status", ""))

    def start(self, vm: VmRef) -> bool:
        """Start the VM unless it runs; True when it was started."""
        if self.status(vm) == "running":
            return False
        upid = self.conn.post(f"{vm.path}/status/start")
        wait_task(self.conn, upid, f"starting VM {vm.vmid}", self.timeout)
        return True

    # --- removing -----------------------------------------------------------------------
    def remove(self, machine: Machine, echo: Callable[[str], None],
               vms: list[dict[str, Any]]) -> str | None:
        """Stop and delete the machine's VM if it is ours; the removed VM, or None."""
        rec = self.state.resources().get(vm_key(machine.name), {})
        vm = self.find(machine, vms, adopt=False)
        if vm is None:
            if "vmid" in rec and any(int(v["vmid"]) == int(rec["vmid"]) for v in vms):
                echo(f"kept VM {rec['vmid']}: it is not {machine.resource_name} of lab "
                     f"{self.plan.lab} any more (other name or tags)")
            self.state.forget(vm_key(machine.name))
            return None
        if vm.status == "running" or self.status(vm) == "running":
            upid = self.conn.post(f"{vm.path}/status/stop")
            wait_task(self.conn, upid, f"stopping VM {vm.vmid}", self.timeout)
        upid = self.conn.delete(vm.path, purge=1, **{"destroy-unreferenced-disks": 1})
        wait_task(self.conn, upid, f"deleting VM {vm.vmid}", self.timeout)
        self.state.forget(vm_key(machine.name))
        return f"VM {vm.vmid} {machine.resource_name} on {vm.node}"
