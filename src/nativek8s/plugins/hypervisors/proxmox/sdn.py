"""The lab's SDN: one zone, a vnet per datacentre LAN and one for the peering network.

A `simple` zone when the whole lab sits on one Proxmox node; a `vxlan` zone (peers: the
nodes' underlay addresses) when datacentres sit on different nodes. Vnet ids are the plan's
`short_id`s; the vnet alias marks them as this lab's. No subnets are made: in a simple zone a
subnet gateway would put the router's address on the host's vnet bridge.

SDN edits are pending until ``PUT /cluster/sdn`` applies them (cluster wide, including
anybody's other pending edits: those are named before applying).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nativek8s.api import LabState, NativeK8sError, NetworkKind, Plan

from .connection import Connection
from .layout import Layout
from .names import PROJECT_TAG, vnet_alias, zone_id
from .tasks import wait_task

VNI_MAX = 16_777_215
ZONE_KEY = "proxmox:sdn:zone"


def vnet_key(net_key: str) -> str:
    return f"proxmox:sdn:vnet:{net_key}"


@dataclass(frozen=True)
class VnetSpec:
    key: str  # plan network key
    vnet: str  # PVE vnet id (≤8 characters)
    alias: str


@dataclass(frozen=True)
class SdnSpec:
    zone: str
    type: str  # simple | vxlan
    nodes: tuple[str, ...]
    peers: tuple[str, ...]  # vxlan only: underlay addresses
    vnets: tuple[VnetSpec, ...]

    def zone_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"zone": self.zone, "type": self.type,
                                  "nodes": ",".join(self.nodes)}
        if self.type == "vxlan":
            params["peers"] = ",".join(self.peers)
        return params

    def vnet_params(self, vnet: VnetSpec, tag: int | str | None) -> dict[str, Any]:
        """``tag``: the VXLAN VNI (render shows a placeholder text)."""
        params: dict[str, Any] = {"vnet": vnet.vnet, "zone": self.zone, "alias": vnet.alias}
        if tag is not None:
            params["tag"] = tag
        return params


def lab_vnets(plan: Plan) -> tuple[VnetSpec, ...]:
    return tuple(VnetSpec(n.key, n.short_id, vnet_alias(plan, n)) for n in plan.networks
                 if n.kind in (NetworkKind.lan, NetworkKind.peering))


def sdn_spec(plan: Plan, layout: Layout, peers: dict[str, str] | None = None) -> SdnSpec:
    nodes = tuple(layout.used_nodes)
    peer_ips: tuple[str, ...] = ()
    if layout.zone_type == "vxlan":
        missing = [n for n in nodes if not (peers or {}).get(n)]
        if missing:
            raise NativeK8sError(f"the VXLAN zone needs the underlay address of node(s) "
                                 f"{', '.join(missing)}; set options.proxmox.vxlan_peers "
                                 "(node: address), or grant the token Sys.Audit on / so it "
                                 "can read them from the cluster status")
        peer_ips = tuple((peers or {})[n] for n in nodes)
    return SdnSpec(zone_id(plan), layout.zone_type, nodes, peer_ips, lab_vnets(plan))


def _set(value: Any) -> set[str]:
    return {p for p in str(value or "").replace(";", ",").split(",") if p.strip()}


def is_lab_vnet(plan: Plan, zone: str, obj: dict[str, Any]) -> bool:
    return obj.get("zone") == zone and str(obj.get("alias", "")).startswith(
        f"{PROJECT_TAG} {plan.lab} ")


def check_collisions(plan: Plan, spec: SdnSpec, zones: dict[str, dict[str, Any]],
                     vnets: dict[str, dict[str, Any]]) -> list[str]:
    """Why the lab's ids cannot be used (another owner, or a zone made differently)."""
    problems = []
    zone = zones.get(spec.zone)
    if zone is not None:
        foreign = sorted(v for v, o in vnets.items()
                         if o.get("zone") == spec.zone and not is_lab_vnet(plan, spec.zone, o))
        if foreign:
            problems.append(f"SDN zone {spec.zone} exists and holds vnets that are not lab "
                            f"{plan.lab}'s ({', '.join(foreign)}); rename the lab or remove "
                            "that zone")
        elif zone.get("type") != spec.type:
            problems.append(f"SDN zone {spec.zone} is a {zone.get('type')} zone but the lab now "
                            f"needs {spec.type} (datacentres moved between nodes); run "
                            "`nativek8s destroy` and deploy again")
        elif _set(zone.get("nodes")) != set(spec.nodes) or (
                spec.type == "vxlan" and _set(zone.get("peers")) != set(spec.peers)):
            problems.append(f"SDN zone {spec.zone} spans nodes {zone.get('nodes')} "
                            f"(peers {zone.get('peers', '-')}) but the lab needs "
                            f"{','.join(spec.nodes)} (peers {','.join(spec.peers) or '-'}); run "
                            "`nativek8s destroy` and deploy again")
    for v in spec.vnets:
        found = vnets.get(v.vnet)
        if found is not None and not (found.get("zone") == spec.zone
                                      and found.get("alias") == v.alias):
            problems.append(f"SDN vnet {v.vnet} (for {v.key}) already exists in zone "
                            f"{found.get('zone')} with alias {found.get('alias', '(none)')!r}: "
                            "it is not this lab's; rename the lab or remove that vnet")
    return problems


def _by_id(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(i[key]): i for i in items or []}


def free_vni(wanted: str, vnets: dict[str, dict[str, Any]], zones: dict[str, dict[str, Any]],
             taken_now: set[int]) -> int:
    """A VXLAN VNI unused by any vxlan/evpn vnet; starts from the vnet id's 24 hex bits."""
    taken = set(taken_now)
    for obj in vnets.values():
        if zones.get(str(obj.get("zone")), {}).get("type") in ("vxlan", "evpn") \
                and obj.get("tag") is not None:
            taken.add(int(obj["tag"]))
    vni = int(wanted[-6:], 16) % VNI_MAX or 1
    while vni in taken:
        vni = vni % VNI_MAX + 1
    return vni


def ensure_sdn(conn: Connection, plan: Plan, spec: SdnSpec, state: LabState,
               echo: Callable[[str], None], timeout: float) -> str:
    """Create what is missing, apply if anything of the lab is pending, check it runs."""
    zones = _by_id(conn.get("/cluster/sdn/zones"), "zone")
    vnets = _by_id(conn.get("/cluster/sdn/vnets"), "vnet")
    problems = check_collisions(plan, spec, zones, vnets)
    if problems:
        raise NativeK8sError("\n".join(problems))
    created = []
    if spec.zone in zones and ZONE_KEY not in state.resources() and any(
            is_lab_vnet(plan, spec.zone, o) for o in vnets.values()):
        state.record(ZONE_KEY, zone=spec.zone, type=spec.type)  # ours; the state was lost
    if spec.zone not in zones:
        state.record(ZONE_KEY, zone=spec.zone, type=spec.type)
        conn.post("/cluster/sdn/zones", **spec.zone_params())
        created.append(f"zone {spec.zone}")
        zones[spec.zone] = {"type": spec.type}
    new_tags: set[int] = set()
    for v in spec.vnets:
        if v.vnet in vnets:
            continue
        tag = free_vni(v.vnet, vnets, zones, new_tags) if spec.type == "vxlan" else None
        if tag is not None:
            new_tags.add(tag)
        state.record(vnet_key(v.key), vnet=v.vnet, zone=spec.zone)
        conn.post("/cluster/sdn/vnets", **spec.vnet_params(v, tag))
        created.append(f"vnet {v.vnet}")
    applied = apply_if_pending(conn, plan, spec.zone, {v.vnet for v in spec.vnets}, echo,
                               timeout)
    running = _by_id(conn.get("/cluster/sdn/vnets", running=1), "vnet")
    absent = [v.vnet for v in spec.vnets if running.get(v.vnet, {}).get("zone") != spec.zone]
    if absent:
        raise NativeK8sError(f"SDN vnets {', '.join(absent)} are not in the running "
                             "configuration after applying; look at the 'reloadnetworkall' "
                             "task in the Proxmox UI")
    note = f"{spec.type} zone {spec.zone}, vnets {', '.join(v.vnet for v in spec.vnets)}"
    if created:
        note += f"; created {len(created)}"
    return note + ("; applied" if applied else "")


def apply_if_pending(conn: Connection, plan: Plan, zone: str, lab_vnet_ids: set[str],
                     echo: Callable[[str], None], timeout: float, force: bool = False) -> bool:
    """Apply the SDN configuration when the lab has pending changes (or ``force``)."""
    pending_zones = _by_id(conn.get("/cluster/sdn/zones", pending=1), "zone")
    pending_vnets = _by_id(conn.get("/cluster/sdn/vnets", pending=1), "vnet")
    ours = [z for z, o in pending_zones.items() if z == zone and o.get("state")]
    ours += [v for v, o in pending_vnets.items() if v in lab_vnet_ids and o.get("state")]
    if not ours and not force:
        return False
    others = sorted([f"zone {z} ({o['state']})" for z, o in pending_zones.items()
                     if z != zone and o.get("state")]
                    + [f"vnet {v} ({o['state']})" for v, o in pending_vnets.items()
                       if v not in lab_vnet_ids and o.get("state")])
    if others:
        echo(f"warning: applying the SDN configuration also applies pending changes that "
             f"are not lab {plan.lab}'s: {', '.join(others)}")
    upid = conn.put("/cluster/sdn")
    wait_task(conn, upid, "applying the SDN configuration", timeout)
    return True


def remove_sdn(conn: Connection, plan: Plan, state: LabState, echo: Callable[[str], None],
               timeout: float) -> list[str]:
    """Delete the lab's vnets and (when nothing else is in it) its zone, then apply."""
    zone = zone_id(plan)
    wanted = {v.vnet for v in lab_vnets(plan)}
    wanted |= {str(r["vnet"]) for k, r in state.resources().items()
               if k.startswith("proxmox:sdn:vnet:") and "vnet" in r}
    vnets = _by_id(conn.get("/cluster/sdn/vnets"), "vnet")
    zones = _by_id(conn.get("/cluster/sdn/zones"), "zone")
    removed: list[str] = []
    for vid in sorted(wanted):
        obj = vnets.get(vid)
        if obj is None:
            continue
        if not is_lab_vnet(plan, zone, obj):
            echo(f"kept SDN vnet {vid}: it is not lab {plan.lab}'s (zone {obj.get('zone')}, "
                 f"alias {obj.get('alias', '(none)')!r})")
            continue
        conn.delete(f"/cluster/sdn/vnets/{vid}")
        del vnets[vid]
        removed.append(f"SDN vnet {vid}")
    # The zone is the lab's if it made (recorded) it, or if it held the lab's vnets.
    owned = ZONE_KEY in state.resources() or bool(removed)
    if zone in zones and owned:
        left = sorted(v for v, o in vnets.items() if o.get("zone") == zone)
        if left:
            echo(f"kept SDN zone {zone}: it still holds vnets {', '.join(left)}")
        else:
            conn.delete(f"/cluster/sdn/zones/{zone}")
            removed.append(f"SDN zone {zone}")
    if removed:
        apply_if_pending(conn, plan, zone, wanted, echo, timeout, force=True)
    state.forget(ZONE_KEY, *[k for k in state.resources() if k.startswith("proxmox:sdn:")])
    return removed
