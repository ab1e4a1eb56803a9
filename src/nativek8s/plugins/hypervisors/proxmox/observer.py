"""What can be observed of a lab on Proxmox through its API: each VM's power state and
addresses, and -- through the guest agent's exec endpoints -- commands inside the routers
(BIRD's sessions, the kernel's routes), so verify checks the routers against the plan.

Nodes are not looked into this way: the node OS (Talos) has no shell for the agent to run
programs in; their BGP sessions and pods are checked through Kubernetes by the CNI plugin's
cluster checks. Pod probes (ping, TCP, traceroute from a pod) need the same and say so.
"""

from __future__ import annotations

from typing import Any

from nativek8s.api import (
    BgpSessionState,
    MachineStatus,
    NativeK8sError,
    NodePlan,
    Observer,
    ProbeResult,
)

from .agent import AgentAccess
from .connection import ApiError
from .management import address_on, lan_paths
from .vms import VmRef, Vms

NOT_HERE = ("{what}: not observable through the Proxmox guest agent (nodes run an OS "
            "without a shell, Talos); the CNI plugin checks nodes and pods through Kubernetes")


def _addresses(result: Any) -> list[str]:
    out = []
    for iface in (result or {}).get("result", []) or []:
        for addr in iface.get("ip-addresses", []) or []:
            ip = str(addr.get("ip-address", ""))
            if addr.get("ip-address-type") == "ipv4" and not ip.startswith("127."):
                out.append(ip)
    return out


class ProxmoxObserver(Observer):
    # Machine kinds this observer looks inside, and how; nodes and pods it cannot.
    inside = {"router": "the Proxmox guest agent (agent/exec)"}
    unverifiable = ("nodes and pods are not observable through the Proxmox guest agent "
                    "(the node OS has no shell)")

    def __init__(self, vms: Vms, command_timeout: float = 30.0):
        self.vms, self.command_timeout = vms, command_timeout

    def machines(self) -> list[MachineStatus]:
        listing = self.vms.cluster_vms()
        out = []
        for m in self.vms.plan.machines:
            vm = self.vms.find(m, listing, adopt=False)
            if vm is None:
                out.append(MachineStatus(m.name, m.kind, "missing", "no VM"))
                continue
            detail = f"vmid {vm.vmid} on {vm.node}"
            if vm.status == "running":
                try:
                    answer = self.vms.conn.get(f"{vm.path}/agent/network-get-interfaces")
                except ApiError:
                    detail += ", guest agent not answering"
                else:
                    ips = _addresses(answer)
                    detail += f", {' '.join(ips)}" if ips else ""
                    detail += self._way_in(m.name, answer or {})
            out.append(MachineStatus(m.name, m.kind, vm.status or "unknown", detail))
        return out

    def _way_in(self, machine: str, answer: dict[str, Any]) -> str:
        """For a router: the route this host needs to its LAN, via its WAN address."""
        for path in lan_paths(self.vms.plan):
            wan = address_on(answer, path.wan_mac) if path.router == machine else None
            if wan:
                return f"; route {path.lan} via its WAN {wan}"
        return ""

    def _locate(self, machine: str) -> VmRef:
        vm = self.vms.find(self.vms.plan.machine(machine), adopt=False)
        if vm is None:
            raise NativeK8sError(f"{machine} has no VM on the Proxmox cluster (lab "
                                 f"{self.vms.plan.lab}); run `nativek8s deploy`")
        return vm

    def access(self, machine: str) -> AgentAccess:
        kind = self.vms.plan.machine(machine).kind
        if kind not in self.inside:
            raise NativeK8sError(NOT_HERE.format(what=f"{machine} (a {kind})"))
        return AgentAccess(self.vms.conn, machine, lambda: self._locate(machine),
                           self.command_timeout)

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        raise NativeK8sError(NOT_HERE.format(what=f"the BGP sessions of {node.name}"))

    # Probes that cannot run are failed probes; a link listing has no "failed" form (an
    # empty one would pass the overlay check), so it raises.
    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, NOT_HERE.format(what="pod-to-pod ping"))

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, NOT_HERE.format(what="the pod-to-pod TCP probe"))

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        return []  # no hops: the path check fails

    def link_kinds(self, machine: str) -> dict[str, str]:
        raise NativeK8sError(NOT_HERE.format(what=f"the links of {machine}"))
