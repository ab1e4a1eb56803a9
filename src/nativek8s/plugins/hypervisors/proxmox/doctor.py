"""What a Proxmox lab needs beyond preflight's API checks (``nativek8s_doctor_checks``):
memory for the planned VMs on each PVE node, and a WAN bridge something can answer DHCP on
(a bridge without a port reaches no network: the routers' WAN would get no address)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nativek8s.api import Finding, LabContext, NativeK8sError

from .site import Site, connect, gather
from .vmconfig import is_router

PLUGIN = "proxmox"
MIB = 2**20


def _memory(site: Site, nodes: dict[str, dict[str, Any]]) -> list[Finding]:
    need: dict[str, int] = defaultdict(int)  # PVE node → MiB
    for m in site.plan.machines:
        opts = site.options_of(m.datacentre)
        need[site.layout.node_of(m.datacentre)] += (opts.router_memory if is_router(m)
                                                    else opts.node_memory)
    out = []
    for node, mib in sorted(need.items()):
        info = nodes.get(node, {})
        total = int(info.get("maxmem") or 0) // MIB
        free = total - int(info.get("mem") or 0) // MIB
        subject = f"memory on {node}"
        if mib > total:
            out.append(Finding(PLUGIN, subject, False, (
                f"the lab's VMs need {mib} MiB but {node} has {total} MiB in all; lower "
                "options.proxmox.node_memory/router_memory or spread the datacentres over more "
                "nodes (options.proxmox.node per datacentre)")))
        else:
            out.append(Finding(PLUGIN, subject, mib <= free, (
                f"{mib} MiB for the lab's VMs, {free} MiB free of {total}"
                + ("" if mib <= free else "; the VMs may not start or may swap: free memory "
                   "or lower options.proxmox.node_memory")), warning=mib > free))
    return out


def _wan_bridges(site: Site) -> list[Finding]:
    out = []
    seen: set[tuple[str, str]] = set()
    for dc in site.plan.datacentres:
        opts = site.options.get(dc.name)
        if opts is None or not dc.routers:
            continue
        node = site.layout.node_of(dc.name)
        if (node, opts.bridge) in seen:
            continue
        seen.add((node, opts.bridge))
        found = {b.get("iface"): b for b in site.conn.get(f"/nodes/{node}/network",
                                                          type="any_bridge") or []}
        bridge = found.get(opts.bridge)
        if bridge is None:
            continue  # preflight says it is missing
        ports = str(bridge.get("bridge_ports") or "").strip()
        subject = f"WAN bridge {opts.bridge} on {node}"
        if ports:
            out.append(Finding(PLUGIN, subject, True, f"bridged to {ports}"))
        else:
            out.append(Finding(PLUGIN, subject, False, (
                f"{opts.bridge} has no port, so no network's DHCP server reaches it: the "
                "routers' WAN would get no address (no downloads, no way out) unless this host "
                f"serves DHCP on {opts.bridge}; use a bridge with a physical port "
                "(options.proxmox.bridge) or run a DHCP server on it"), warning=True))
    return out


def checks(ctx: LabContext) -> list[Finding]:
    if PLUGIN not in ctx.plugins.hypervisors:
        return []
    try:
        conn, _ = connect(ctx.plan)
        site = gather(ctx.plan, conn)
        nodes = {n["node"]: n for n in conn.get("/nodes") or []}
    except NativeK8sError:
        return []  # the preflight reports why the API cannot be used
    return _memory(site, nodes) + _wan_bridges(site)
