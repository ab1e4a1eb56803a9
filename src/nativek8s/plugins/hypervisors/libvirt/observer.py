"""Observing a libvirt lab: domain states, console logs, addresses libvirt can report.

Inside the guests (routes, BGP, probes) libvirt sees nothing: those observations need the
router OS (SSH) and the CNI (Kubernetes); until they provide them, they fail with a reason.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from nativek8s.api import (
    MachineStatus,
    NativeK8sError,
    NodePlan,
    Observer,
    Plan,
    ProbeResult,
)

from . import domains
from .connection import Connections, binding, is_remote, is_test_driver, lookup
from .options import options_of
from .specs import console_log, machine_uri

_NOT_YET = ("is not observable through libvirt; it needs access inside the guest (the "
            "router OS over SSH, or the CNI through Kubernetes), which is not available yet")


class LibvirtObserver(Observer):
    unverifiable = f"BGP, routes and pod traffic inside the guests {_NOT_YET}"

    def __init__(self, plan: Plan, conns: Connections, state_dir: Path):
        self.plan, self.conns, self.state_dir = plan, conns, state_dir

    # --- what libvirt knows ---------------------------------------------------------------
    def machines(self) -> list[MachineStatus]:
        out = []
        for m in self.plan.machines:
            uri = machine_uri(self.plan, m)
            try:
                state, _ = domains.state_of(self.conns.get(uri), m.resource_name)
            except NativeK8sError as exc:
                out.append(MachineStatus(m.name, m.kind, "unknown", str(exc)))
                continue
            detail = ""
            if state != "running":
                tail = self.console_tail(m.name, 1)
                detail = f"console: {tail[-1]}" if tail else ""
            out.append(MachineStatus(m.name, m.kind, state, detail))
        return out

    def console_log(self, machine: str) -> Path:
        m = self.plan.machine(machine)
        return Path(console_log(self.plan, options_of(self.plan, m.datacentre), m,
                                self.state_dir))

    def console_tail(self, machine: str, lines: int = 20) -> list[str]:
        """The last lines of a machine's serial console (local hosts only)."""
        m = self.plan.machine(machine)
        if is_remote(machine_uri(self.plan, m)):
            raise NativeK8sError(f"{machine}: its console log is on the remote libvirt host "
                                 f"({self.console_log(machine)})")
        try:
            with self.console_log(machine).open(errors="replace") as f:
                return [ln.rstrip("\n") for ln in deque(f, maxlen=lines)]
        except FileNotFoundError:
            return []

    def addresses(self, machine: str) -> dict[str, list[str]]:
        """MAC → addresses, from the DHCP leases of libvirt's NAT network (the WAN)."""
        m = self.plan.machine(machine)
        uri = machine_uri(self.plan, m)
        if is_test_driver(uri):  # the test driver crashes on NICs of networks without <ip>
            raise NativeK8sError("libvirt's test driver reports no addresses")
        libvirt = binding()
        dom = lookup(self.conns.get(uri).lookupByName, m.resource_name)
        if dom is None or not dom.isActive():
            return {}
        found = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0)
        return {v["hwaddr"]: [a["addr"] for a in v.get("addrs") or []]
                for v in found.values() if v.get("hwaddr")}

    # --- inside the guests: not through libvirt -------------------------------------------
    def access(self, machine: str) -> Any:
        raise NativeK8sError(f"{machine}: running commands {_NOT_YET}")

    def node_bgp_sessions(self, node: NodePlan) -> list:
        raise NativeK8sError(f"{node.name}: its BGP sessions {_NOT_YET}")

    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, f"pod-to-pod ping {_NOT_YET}")

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, f"pod-to-pod TCP {_NOT_YET}")

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        return []

    def link_kinds(self, machine: str) -> dict[str, str]:
        raise NativeK8sError(f"{machine}: its network devices {_NOT_YET}")
