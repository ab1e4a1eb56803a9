"""What a libvirt lab needs beyond preflight's names and access
(``nativek8s_doctor_checks``): KVM (or a warning that emulation is slow), memory for the
VMs not running yet, and, on this host, no firewall dropping the lab's bridged traffic."""

from __future__ import annotations

from typing import Any

from nativek8s.api import Finding, LabContext, NativeK8sError

from . import hosttraps
from .connection import binding, is_remote, is_test_driver, lookup
from .options import options_of
from .specs import machine_uri, network_specs

PLUGIN = "libvirt"


def _memory(plan: Any, uri: str, conn: Any) -> Finding | None:
    need = 0
    for m in plan.machines:
        if machine_uri(plan, m) != uri or lookup(conn.lookupByName, m.resource_name):
            continue  # another host's, or already defined (its memory is counted as used)
        opts = options_of(plan, m.datacentre)
        need += opts.router_memory_mib if m.kind == "router" else opts.node_memory_mib
    libvirt = binding()
    try:
        total = int(conn.getInfo()[1])  # MiB
        free = int(conn.getFreeMemory()) // 2**20
    except libvirt.libvirtError:
        return None  # the driver cannot say
    subject = f"memory on {uri}"
    if need > total:
        return Finding(PLUGIN, subject, False, (
            f"the lab's VMs need {need} MiB but the host has {total} MiB in all; lower "
            "options.libvirt.node_memory_mib/router_memory_mib or use fewer nodes"))
    ok = need <= free
    return Finding(PLUGIN, subject, ok, (
        f"{need} MiB for the VMs to start, {free} MiB free of {total}"
        + ("" if ok else "; they may not start or may swap: free memory first")),
        warning=not ok)


def checks(ctx: LabContext) -> list[Finding]:
    from .libvirt import Libvirt

    hyp = ctx.plugins.hypervisors.get(PLUGIN)
    if not isinstance(hyp, Libvirt):
        return []
    plan = ctx.plan
    out = [Finding(PLUGIN, "note", False, note, warning=True) for note in hyp.preflight_notes]
    for uri, kind in sorted(hyp.domain_types.items()):
        if kind == "kvm":
            out.append(Finding(PLUGIN, f"KVM on {uri}", True, "VMs run with KVM"))
    uris = sorted({machine_uri(plan, m) for m in plan.machines})
    for uri in uris:
        try:
            conn = hyp.connections.get(uri)
        except NativeK8sError:
            continue  # preflight reports it
        if is_test_driver(uri):
            continue  # a fixed imaginary host: its memory and firewall are no machine's
        found = _memory(plan, uri, conn)
        if found is not None:
            out.append(found)
        if is_remote(uri):
            continue  # the host traps are this machine's
        bridges = [s.bridge for s in network_specs(plan) if s.uri == uri and not s.nat]
        ok, detail = hosttraps.bridge_filter_problem(bridges)
        out.append(Finding(PLUGIN, "bridged traffic and the host firewall", ok is not False,
                           detail, warning=ok is None))
    return out
