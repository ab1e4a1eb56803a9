"""Before anything is created: the API answers, the token may do everything the lab needs
(each missing privilege named, with its path; verify's commands in the routers included),
storages hold the needed content types, the WAN bridge exists, PVE can import uploaded
disk images, and the lab's SDN ids are free.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nativek8s.api import NativeK8sError, Plan, UsageError
from nativek8s.shared.versions import parse_version as shared_parse

from .agent import PRIVILEGE as AGENT_PRIVILEGE
from .connection import ApiError, Connection
from .sdn import check_collisions
from .site import Site, connect, gather

# Uploading disk images into 'import' content came with libpve-storage-perl 8.3.6, i.e.
# Proxmox VE 8.4 (April 2025); `import-from` itself is older (7.2).
MIN_VERSION = (8, 4)
VM_PRIVILEGES = frozenset({
    "VM.Allocate", "VM.Audit", "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory",
    "VM.Config.Network", "VM.Config.HWType", "VM.Config.Options", "VM.PowerMgmt"})
PROPAGATING = ("/vms",)  # granted here, needed on every /vms/<vmid>


def required_privileges(site: Site) -> dict[str, set[str]]:
    """ACL path → privileges the lab's deploy and destroy need there."""
    plan, sdn = site.plan, site.sdn
    need: dict[str, set[str]] = defaultdict(set)
    need["/vms"] |= VM_PRIVILEGES
    if plan.routers:  # verify runs birdc and ip in the routers through the guest agent
        need["/vms"] |= {AGENT_PRIVILEGE}
    for dc in plan.datacentres:
        opts = site.options.get(dc.name)
        if opts is None:
            continue
        need[f"/storage/{opts.storage}"] |= {"Datastore.AllocateSpace"}  # new disks
        # upload; list (and so use as import source or ISO); delete the lab's disks
        need[f"/storage/{opts.image_storage}"] |= {
            "Datastore.AllocateTemplate", "Datastore.Audit", "Datastore.Allocate"}
        if dc.routers:
            need[f"/sdn/zones/localnetwork/{opts.bridge}"] |= {"SDN.Use"}
    # SDN.Allocate also lets the token list zones and vnets (Audit or Allocate is needed).
    need["/sdn/zones"] |= {"SDN.Allocate"}
    need[f"/sdn/zones/{sdn.zone}"] |= {"SDN.Allocate"}
    for vnet in sdn.vnets:
        need[f"/sdn/zones/{sdn.zone}/{vnet.vnet}"] |= {"SDN.Allocate", "SDN.Use"}
    need["/sdn"] |= {"SDN.Allocate"}  # applying the SDN configuration
    if sdn.type == "vxlan" and not any(o.vxlan_peers for o in site.options.values()):
        need["/"] |= {"Sys.Audit"}  # the nodes' addresses, from /cluster/status
    return dict(need)


def missing_privileges(conn: Connection, need: dict[str, set[str]]) -> dict[str, list[str]]:
    """Path → what the token lacks there, as /access/permissions reports its own rights."""
    missing: dict[str, list[str]] = {}
    for path, privs in sorted(need.items()):
        have = (conn.get("/access/permissions", path=path) or {}).get(path, {})
        lacking = sorted(p for p in privs if p not in have)
        if path in PROPAGATING:
            lacking += sorted(f"{p} (granted without propagate)" for p in privs
                              if p in have and not int(have[p]))
        if lacking:
            missing[path] = lacking
    return missing


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) of the API's ``version`` ("8.2.4"); (0, 0) when it says none."""
    try:
        return shared_parse(text or "").minor_version
    except UsageError:
        return (0, 0)


def _storage_problems(site: Site) -> list[str]:
    problems = []
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for dc in site.plan.datacentres:
        opts = site.options.get(dc.name)
        if opts is None:
            continue
        node = site.layout.node_of(dc.name)
        wanted[(node, opts.storage)].add("images")
        if dc.routers:
            wanted[(node, opts.image_storage)].add("import")
        if dc.nodes:
            wanted[(node, opts.image_storage)].add("iso")
    listings: dict[str, dict[str, dict[str, Any]]] = {}
    for (node, storage), contents in sorted(wanted.items()):
        if node not in listings:
            listings[node] = {s["storage"]: s for s in site.conn.get(f"/nodes/{node}/storage")}
        info = listings[node].get(storage)
        if info is None:
            problems.append(f"node {node} has no storage {storage!r} that the token can see "
                            f"(storages: {', '.join(sorted(listings[node])) or 'none'})")
            continue
        if not int(info.get("enabled", 1)) or not int(info.get("active", 1)):
            problems.append(f"storage {storage} on {node} is disabled or inactive")
        have = set(str(info.get("content", "")).split(","))
        lacking = sorted(contents - have)
        if lacking:
            problems.append(f"storage {storage} on {node} does not allow content "
                            f"{', '.join(lacking)} (it allows {info.get('content')}); add it: "
                            f"pvesm set {storage} --content {','.join(sorted(have | contents))}")
    return problems


def _bridge_problems(site: Site) -> list[str]:
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)  # (node, bridge) → dcs
    for dc in site.plan.datacentres:
        opts = site.options.get(dc.name)
        if opts is not None and dc.routers:
            wanted[(site.layout.node_of(dc.name), opts.bridge)].append(dc.name)
    problems = []
    for (node, bridge), dcs in sorted(wanted.items()):
        found = {b.get("iface") for b in site.conn.get(f"/nodes/{node}/network",
                                                       type="any_bridge") or []}
        if bridge not in found:
            have = ", ".join(sorted(b for b in found if b)) or "none"
            problems.append(f"node {node} has no bridge {bridge!r} for the WAN of "
                            f"{', '.join(dcs)} (bridges: {have}); set options.proxmox.bridge "
                            "(or per datacentre)")
    return problems


def _privilege_problems(site: Site) -> list[str]:
    missing = missing_privileges(site.conn, required_privileges(site))
    if not missing:
        return []
    lines = [f"the API token {site.conn.user} lacks privileges:"]
    lines += [f"    on {path}: {', '.join(privs)}" for path, privs in missing.items()]
    lines.append("    grant them, e.g. `pveum acl modify /vms --tokens '<token>' --roles "
                 "PVEVMAdmin` (likewise PVEDatastoreAdmin on the storages, PVESDNAdmin on "
                 "/sdn)")
    return ["\n".join(lines)]


def check(plan: Plan) -> None:
    """Raise NativeK8sError listing every unmet requirement."""
    conn, _ = connect(plan)
    try:
        version = conn.get("/version")
    except ApiError as exc:
        raise NativeK8sError(f"proxmox preflight: {exc}") from None
    problems: list[str] = []
    if parse_version(str(version.get("version"))) < MIN_VERSION:
        problems.append(f"Proxmox VE {version.get('version')} cannot take uploaded disk images "
                        f"for import; upgrade to {MIN_VERSION[0]}.{MIN_VERSION[1]} or later")
    try:
        site = gather(plan, conn)
    except NativeK8sError as exc:
        problems.append(str(exc))
        raise NativeK8sError(_summary(problems)) from None
    offline = [n["node"] for n in conn.get("/nodes") or []
               if n["node"] in site.layout.used_nodes and n.get("status") != "online"]
    if offline:
        problems.append(f"Proxmox node(s) {', '.join(offline)} are not online")
    problems += _privilege_problems(site)
    problems += _storage_problems(site)
    problems += _bridge_problems(site)
    zones = {z["zone"]: z for z in conn.get("/cluster/sdn/zones") or []}
    vnets = {v["vnet"]: v for v in conn.get("/cluster/sdn/vnets") or []}
    problems += check_collisions(plan, site.sdn, zones, vnets)
    if problems:
        raise NativeK8sError(_summary(problems))


def _summary(problems: list[str]) -> str:
    head = f"proxmox preflight found {len(problems)} problem{'s' if len(problems) > 1 else ''}:"
    return "\n".join([head, *(f"  - {p}" for p in problems)])

