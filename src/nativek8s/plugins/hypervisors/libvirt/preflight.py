"""Checks before anything is created. Every problem says what to do; all are reported
together (a :class:`~nativek8s.api.UsageError`), and nothing is created."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from nativek8s.api import NativeK8sError, Plan

from . import capabilities, networks
from .connection import Connections, binding, lookup
from .hostnet import HostNetwork
from .options import options_of
from .ownership import owner_of
from .specs import NetworkSpec, machine_uri, network_specs, pool_spec
from .storage import pool_path


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    domain_types: dict[str, str] = field(default_factory=dict)  # uri → kvm | qemu


def _cidrs_of(xml: str) -> list[IPv4Network]:
    """Subnets of a libvirt network: its <ip> elements and, for labs, the planned one."""
    out = []
    for ip in ET.fromstring(xml).iterfind("ip"):
        if ip.get("family", "ipv4") != "ipv4" or not ip.get("address"):
            continue
        mask = ip.get("prefix") or ip.get("netmask") or "24"
        out.append(IPv4Network(f"{ip.get('address')}/{mask}", strict=False))
    owner = owner_of(xml)
    if owner is not None and owner.cidr is not None:
        out.append(owner.cidr)
    return out


def _bridge_of(xml: str) -> str | None:
    el = ET.fromstring(xml).find("bridge")
    return el.get("name") if el is not None else None


def network_problems(plan: Plan, ours: list[NetworkSpec], existing: list[tuple[str, str]],
                     host: HostNetwork | None) -> list[str]:
    """Name, bridge and subnet clashes of the lab's networks on one host."""
    out: list[str] = []
    foreign = [(n, x) for n, x in existing
               if (o := owner_of(x)) is None or o.lab != plan.lab]
    mine = {n for n, x in existing if (n, x) not in foreign}
    routes = host.routes() if host else []
    links = host.links() if host else set()
    our_bridges = {s.bridge for s in ours}
    for spec in ours:
        for name, xml in foreign:
            if name == spec.name:
                out.append(f"network {name} already exists on {spec.uri} and is not lab "
                           f"{plan.lab}'s; remove it (`virsh net-destroy {name}; virsh "
                           f"net-undefine {name}`) or give the lab another name")
            elif _bridge_of(xml) == spec.bridge:
                out.append(f"bridge name {spec.bridge} (network {spec.key}) is already used "
                           f"by libvirt network {name} on {spec.uri}; give the lab another "
                           f"name")
            if spec.cidr is None:
                continue
            for cidr in _cidrs_of(xml):
                if cidr.overlaps(spec.cidr):
                    out.append(f"subnet {spec.cidr} of network {spec.key} overlaps {cidr} of "
                               f"libvirt network {name} on {spec.uri}; choose another subnet "
                               f"in the topology{_wan_hint(spec)}")
        if spec.bridge in links and spec.name not in mine:
            out.append(f"bridge name {spec.bridge} (network {spec.key}) is already an "
                       f"interface on this host; give the lab another name")
        if spec.cidr is not None:
            for route in routes:
                if route.dev not in our_bridges and route.prefix.overlaps(spec.cidr):
                    out.append(f"subnet {spec.cidr} of network {spec.key} overlaps this "
                               f"host's route to {route.prefix} (dev {route.dev}); choose "
                               f"another subnet in the topology{_wan_hint(spec)}")
    return out


def _wan_hint(spec: NetworkSpec) -> str:
    return " (options.libvirt.wan_cidr for the WAN)" if spec.nat else ""


def _wan_overlaps(plan: Plan, specs: list[NetworkSpec]) -> list[str]:
    out = []
    for wan in (s for s in specs if s.nat and s.cidr is not None):
        for net in plan.networks:
            if net.cidr is not None and net.cidr.overlaps(wan.cidr):  # type: ignore[arg-type]
                out.append(f"the NAT WAN subnet {wan.cidr} overlaps the lab's network "
                           f"{net.key} ({net.cidr}); set options.libvirt.wan_cidr")
    return out


def _interface_exists(conn: Any, device: str, host: HostNetwork | None) -> bool | None:
    """True/False as libvirt (or, locally, this host) sees it; None when unknown."""
    libvirt = binding()
    try:
        return lookup(conn.interfaceLookupByName, device) is not None
    except libvirt.libvirtError:  # no interface driver on this host
        return device in host.links() if host else None


def _pool_problems(plan: Plan, uri: str, conn: Any, state_dir: Path) -> list[str]:
    spec = pool_spec(plan, uri, state_dir)
    pool = lookup(conn.storagePoolLookupByName, spec.name)
    if spec.path is None:
        if pool is not None:
            return []
        return [(f"storage pool {spec.name} (options.libvirt.pool) does not exist on {uri}; "
                 f"create it (`virsh pool-define-as {spec.name} dir --target DIR`) or drop "
                 f"the option")]
    if pool is not None and pool_path(pool) != spec.path:
        return [(f"storage pool {spec.name} exists on {uri} with path {pool_path(pool)}, "
                 f"not {spec.path}; remove it or set options.libvirt.pool to use it")]
    if pool is None and uri.startswith("qemu:///"):
        parent = Path(spec.path)
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            return [(f"cannot create the storage pool directory {spec.path}: {parent} is "
                     f"not writable; fix its permissions or set options.libvirt.pool")]
    return []


def check(plan: Plan, conns: Connections, state_dir: Path, media_problems: list[str],
          host_for: Any = None) -> Findings:
    """Everything that can be known before creating anything. ``host_for(uri)`` gives the
    :class:`HostNetwork` to check against, or None for hosts that are not this one;
    ``media_problems``: what the OS plugins cannot provide."""
    found = Findings()
    host_for = host_for or (lambda uri: None)
    try:
        binding()
    except NativeK8sError as exc:
        found.problems.append(str(exc))
        return found
    found.problems += media_problems
    specs = network_specs(plan)
    found.problems += _wan_overlaps(plan, specs)
    spans: dict[str, set[str]] = {}
    for spec in specs:
        spans.setdefault(spec.key, set()).add(spec.uri)
    for key, hosts in sorted(spans.items()):
        if len(hosts) > 1:
            found.problems.append(
                f"network {key} would span several libvirt hosts ({', '.join(sorted(hosts))}); "
                f"machines sharing a network must use the same options.libvirt.uri")
    uris = sorted({machine_uri(plan, m) for m in plan.machines} | {s.uri for s in specs})
    for uri in uris:
        try:
            conn = conns.get(uri)
        except NativeK8sError as exc:
            found.problems.append(str(exc))
            continue
        _check_host(plan, uri, conn, specs, state_dir, host_for(uri), found)
    return found


def _check_host(plan: Plan, uri: str, conn: Any, specs: list[NetworkSpec], state_dir: Path,
                host: HostNetwork | None, found: Findings) -> None:
    wanted: set[str] = {options_of(plan, m.datacentre).domain_type for m in plan.machines
                        if machine_uri(plan, m) == uri} or {"auto"}
    if len(wanted) > 1:
        found.problems.append(f"datacentres on {uri} ask for different domain types "
                              f"({', '.join(sorted(wanted))}); use one per host")
    try:
        kind, note = capabilities.resolve(conn, uri, min(wanted))
        found.domain_types[uri] = kind
        if note:
            found.notes.append(note)
    except NativeK8sError as exc:
        found.problems.append(str(exc))
    ours = [s for s in specs if s.uri == uri]
    found.problems += network_problems(plan, ours, networks.existing(conn), host)
    libvirt = binding()
    for m in plan.machines:
        if machine_uri(plan, m) != uri:
            continue
        dom = lookup(conn.lookupByName, m.resource_name)
        if dom is not None:
            owner = owner_of(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            if owner is None or owner.lab != plan.lab:
                found.problems.append(
                    f"domain {m.resource_name} already exists on {uri} and is not lab "
                    f"{plan.lab}'s; remove it or give the lab another name")
        opts = options_of(plan, m.datacentre)
        if m.kind == "router" and opts.wan != "nat" and opts.wan_device:
            exists = _interface_exists(conn, opts.wan_device, host)
            what = "bridge" if opts.wan == "bridge" else "interface"
            if exists is False:
                found.problems.append(
                    f"{m.name}: WAN {what} {opts.wan_device} (options.libvirt.wan_device) "
                    f"does not exist on {uri}; create it or choose another (wan: nat needs "
                    f"none)")
            elif exists is None:
                found.notes.append(f"cannot check that {opts.wan_device} exists on {uri}")
    found.problems += _pool_problems(plan, uri, conn, state_dir)
