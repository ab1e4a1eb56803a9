"""What can be observed of a lab on Proxmox through its API: each VM's power state and, when
the guest agent answers, its addresses. Running commands inside the machines (routes, BGP,
probes) needs a channel the API does not give to tokens yet, so those say so.
"""

from __future__ import annotations

from typing import Any

from nativek8s.api import (
    BgpSessionState,
    MachineAccess,
    MachineStatus,
    NativeK8sError,
    NodePlan,
    Observer,
    ProbeResult,
)

from .connection import ApiError
from .vms import Vms

NOT_YET = ("{what} is not available on proxmox yet: nativek8s cannot run commands inside "
           "Proxmox VMs; use the machine's serial console (`qm terminal <vmid>`)")


def _addresses(result: Any) -> list[str]:
    out = []
    for iface in (result or {}).get("result", []) or []:
        for addr in iface.get("ip-addresses", []) or []:
            ip = str(addr.get("ip-address", ""))
            if addr.get("ip-address-type") == "ipv4" and not ip.startswith("127."):
                out.append(ip)
    return out


class ProxmoxObserver(Observer):
    unverifiable = NOT_YET.format(what="looking at BGP, routes and pod traffic in the VMs")

    def __init__(self, vms: Vms):
        self.vms = vms

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
                    ips = _addresses(self.vms.conn.get(
                        f"{vm.path}/agent/network-get-interfaces"))
                    detail += f", {' '.join(ips)}" if ips else ""
                except ApiError:
                    detail += ", guest agent not answering"
            out.append(MachineStatus(m.name, m.kind, vm.status or "unknown", detail))
        return out

    def access(self, machine: str) -> MachineAccess:
        raise NativeK8sError(NOT_YET.format(what=f"access to {machine}"))

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        raise NativeK8sError(NOT_YET.format(what=f"reading BGP sessions of {node.name}"))

    # Probes that cannot run are failed probes; a link listing has no "failed" form (an
    # empty one would pass the overlay check), so it raises.
    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, NOT_YET.format(what="pod-to-pod ping"))

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        return ProbeResult(False, NOT_YET.format(what="the pod-to-pod TCP probe"))

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        return []  # no hops: the path check fails

    def link_kinds(self, machine: str) -> dict[str, str]:
        raise NativeK8sError(NOT_YET.format(what=f"listing links of {machine}"))
