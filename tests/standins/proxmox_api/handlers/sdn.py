"""SDN endpoints: zones, vnets, subnets, the pending/running split and ``PUT /cluster/sdn``.

Edits change the SDN configuration; only ``PUT /cluster/sdn`` commits it to the running
configuration (synchronously, then a ``reloadnetworkall`` task) -- so a VM on a vnet that
was never applied fails to start with ``bridge '<vnet>' does not exist``. Zone options per
type, hooks and messages follow pve-network as shipped with PVE 9.1 (vxlan: exactly one of
peers/fabric; vnet tags per zone type; errors inside the config lock are wrapped as
``create sdn zone object failed: ...``). Zone types evpn/faucet are not simulated.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
from typing import Any

from ..errors import ApiError, die, param_error, wrapped
from ..state import Sdn
from ..tasks import Task
from . import Ctx, route

_COMMON = {"nodes", "mtu", "dns", "reversedns", "dnszone", "ipam"}
ZONE_OPTIONS: dict[str, tuple[set[str], set[str]]] = {  # type -> (optional, required)
    "simple": (_COMMON | {"dhcp"}, set()),
    "vlan": (_COMMON | {"bridge-disable-mac-learning"}, {"bridge"}),
    "qinq": (_COMMON | {"vlan-protocol", "bridge-disable-mac-learning"}, {"bridge", "tag"}),
    "vxlan": (_COMMON | {"peers", "vxlan-port", "fabric"}, set()),
}
_VNET_OPTIONS = {"zone", "type", "tag", "vlanaware", "alias", "isolate-ports"}
_SUBNET_OPTIONS = {"vnet", "type", "gateway", "snat", "dnszoneprefix", "dhcp-range",
                   "dhcp-dns-server"}


def _digest(objects: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest()  # noqa: S324


def _pending(running: dict[str, dict[str, Any]],
             config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """PVE::Network::SDN::pending_config."""
    out: dict[str, dict[str, Any]] = {}
    for oid, robj in sorted(running.items()):
        cobj = config.get(oid, {})
        entry = out.setdefault(oid, {})
        for key, value in sorted(robj.items()):
            entry[key] = value
            if not cobj:
                entry["state"] = "deleted"
            elif key not in cobj:
                entry.setdefault("pending", {})[key] = "deleted"
                entry["state"] = "changed"
            elif str(value) != str(cobj[key]):
                entry["state"] = "changed"
    for oid, cobj in sorted(config.items()):
        robj = running.get(oid, {})
        entry = out.setdefault(oid, {})
        for key, value in sorted(cobj.items()):
            if key in ("type", "vnet"):
                entry[key] = value
            elif key not in robj or str(value) != str(robj[key]):
                entry.setdefault("pending", {})[key] = value
            if not robj:
                entry["state"] = "new"
            elif key not in robj:
                entry["state"] = "changed"
    for entry in out.values():
        if entry.get("state"):
            entry.setdefault("pending", {})
    return out


def _listing(ctx: Ctx, kind: str, idkey: str, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = getattr(ctx.state.sdn, kind)
    running: dict[str, dict[str, Any]] = getattr(ctx.state.sdn_running, kind)
    if params.get("pending"):
        objects = _pending(running, config)
    else:
        objects = copy.deepcopy(running if params.get("running") else config)
    digest = _digest(config)
    return {oid: {idkey: oid, **obj, "digest": digest} for oid, obj in objects.items()}


def _check_options(kind: str, optional: set[str], required: set[str],
                   params: dict[str, Any]) -> dict[str, Any]:
    """SectionConfig::check_config for create (plain dies, so HTTP 500)."""
    opts = {k: v for k, v in params.items() if k not in ("lock-token",)}
    for key in sorted(opts):
        if key not in optional | required | {"type"}:
            raise die(f"unexpected property '{key}'")
    for key in sorted(required):
        if key not in opts:
            raise die(f"missing value for required option '{key}'")
    return opts


# -- zones ---------------------------------------------------------------------------------

@route("GET", "/cluster/sdn")
def sdn_index(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, str]]:
    return [{"id": i} for i in ("vnets", "zones", "controllers", "ipams", "dns", "fabrics")]


@route("GET", "/cluster/sdn/zones")
def zone_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [z for zid, z in _listing(ctx, "zones", "zone", params).items()
            if params.get("type") in (None, z.get("type"))
            and ctx.perms.check_any(f"/sdn/zones/{zid}", ["SDN.Audit", "SDN.Allocate"], True)]


@route("GET", "/cluster/sdn/zones/{zone}")
def zone_read(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    zones = _listing(ctx, "zones", "zone", params)
    if params["zone"] not in zones:
        raise die(f"sdn '{params['zone']}' does not exist")
    return zones[params["zone"]]


@route("POST", "/cluster/sdn/zones")
def zone_create(ctx: Ctx, params: dict[str, Any]) -> None:
    zid, ztype = params.pop("zone"), params["type"]
    if ztype not in ZONE_OPTIONS:
        raise ApiError(501, f"stand-in: SDN zone type '{ztype}' is not simulated")
    opts = _check_options("zone", *ZONE_OPTIONS[ztype], params)
    try:
        if zid in ctx.state.sdn.zones:
            raise die(f"sdn zone object ID '{zid}' already defined")
        if opts.get("dns"):
            raise param_error({"dns": f"{opts['dns']} don't exist"})
        if opts.get("ipam") and opts["ipam"] not in ctx.state.ipams:
            raise param_error({"ipam": f"{opts['ipam']} not existing"})
        if ztype == "vxlan" and bool(opts.get("peers")) == bool(opts.get("fabric")):
            msg = "must have exactly one of peers / fabric defined"
            raise param_error({"fabric": msg, "peers": msg})
    except ApiError as err:
        raise wrapped("create sdn zone object failed", err) from None
    ctx.state.sdn.zones[zid] = opts


@route("DELETE", "/cluster/sdn/zones/{zone}")
def zone_delete(ctx: Ctx, params: dict[str, Any]) -> None:
    zid = params["zone"]
    try:
        if zid not in ctx.state.sdn.zones:
            raise die(f"sdn '{zid}' does not exist")
        for vid, vnet in sorted(ctx.state.sdn.vnets.items()):
            if vnet.get("zone") == zid:
                raise die(f"zone {zid} is used by vnet {vid}")
    except ApiError as err:
        raise wrapped("delete sdn zone object failed", err) from None
    del ctx.state.sdn.zones[zid]


# -- vnets ---------------------------------------------------------------------------------

def _vnet_hook(ztype: str, vid: str, vnet: dict[str, Any], vnets: dict[str, Any],
               zones: dict[str, Any]) -> None:
    tag = vnet.get("tag")
    if ztype == "simple" and tag is not None:
        raise param_error({"tag": "vlan tag is not allowed on simple zone"})
    if ztype in ("vlan", "qinq"):
        if tag is None:
            raise param_error({"tag": "missing vlan tag"})
        if tag > 4096:
            raise param_error({"tag": "vlan tag max value is 4096"})
    if ztype == "vxlan":
        if tag is None:
            raise param_error({"tag": "missing vxlan tag"})
        for other, ovnet in sorted(vnets.items()):
            ozone = zones.get(ovnet.get("zone"), {})
            if other != vid and ozone.get("type") in ("vxlan", "evpn") and ovnet.get("tag") == tag:
                raise param_error({"tag": f"vxlan tag {tag} already exist in vnet {other} in zone "
                                          f"{ovnet.get('zone')} "})


@route("GET", "/cluster/sdn/vnets")
def vnet_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for vid, v in _listing(ctx, "vnets", "vnet", params).items()
            if ctx.perms.check_any(f"/sdn/zones/{v.get('zone')}/{vid}",
                                   ["SDN.Audit", "SDN.Allocate"], True)]


def _vnet(ctx: Ctx, vid: str) -> dict[str, Any]:
    if vid not in ctx.state.sdn.vnets:
        raise die(f"sdn vnet '{vid}' does not exist")
    return ctx.state.sdn.vnets[vid]


@route("GET", "/cluster/sdn/vnets/{vnet}")
def vnet_read(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    vnet = _vnet(ctx, params["vnet"])
    ctx.perms.check_any(f"/sdn/zones/{vnet['zone']}/{params['vnet']}",
                        ["SDN.Audit", "SDN.Allocate"])
    return _listing(ctx, "vnets", "vnet", params)[params["vnet"]]


@route("POST", "/cluster/sdn/vnets")
def vnet_create(ctx: Ctx, params: dict[str, Any]) -> None:
    vid = params.pop("vnet")
    sdn = ctx.state.sdn
    try:
        opts = _check_options("vnet", _VNET_OPTIONS, {"zone"}, params)
        opts["type"] = "vnet"
        if vid in sdn.vnets:
            raise die(f"sdn vnet object ID '{vid}' already defined")
        zone = sdn.zones.get(opts["zone"])
        if zone is None:
            raise die("unknown section type ''")
        _vnet_hook(zone["type"], vid, opts, sdn.vnets, sdn.zones)
    except ApiError as err:
        raise wrapped("create sdn vnet object failed", err) from None
    sdn.vnets[vid] = opts


@route("DELETE", "/cluster/sdn/vnets/{vnet}")
def vnet_delete(ctx: Ctx, params: dict[str, Any]) -> None:
    vid = params["vnet"]
    vnet = _vnet(ctx, vid)
    ctx.perms.check_any(f"/sdn/zones/{vnet['zone']}/{vid}", ["SDN.Allocate"])
    try:
        if any(s.get("vnet") == vid for s in ctx.state.sdn.subnets.values()):
            raise param_error({"vnet": "Can't delete vnet if subnets exists"})
    except ApiError as err:
        raise wrapped("delete sdn vnet object failed", err) from None
    del ctx.state.sdn.vnets[vid]


# -- subnets -------------------------------------------------------------------------------

@route("GET", "/cluster/sdn/vnets/{vnet}/subnets")
def subnet_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    vnet = _vnet(ctx, params["vnet"])
    ctx.perms.check_any(f"/sdn/zones/{vnet['zone']}/{params['vnet']}",
                        ["SDN.Audit", "SDN.Allocate"])
    return [s for s in _listing(ctx, "subnets", "subnet", params).values()
            if s.get("vnet") == params["vnet"]]


@route("POST", "/cluster/sdn/vnets/{vnet}/subnets")
def subnet_create(ctx: Ctx, params: dict[str, Any]) -> None:
    cidr = params.pop("subnet")
    vid = params["vnet"]
    vnet = _vnet(ctx, vid)
    ctx.perms.check_any(f"/sdn/zones/{vnet['zone']}/{vid}", ["SDN.Allocate"])
    network = ipaddress.ip_network(cidr, strict=False)
    sid = f"{vnet['zone']}-{cidr.replace('/', '-')}"
    try:
        opts = _check_options("subnet", _SUBNET_OPTIONS, set(), params)
        if sid in ctx.state.sdn.subnets:
            raise die(f"sdn subnet object ID '{sid}' already defined")
        if vnet.get("vlanaware"):
            raise param_error({"vnet": "you can't add a subnet on a vlanaware vnet"})
        gateway = opts.get("gateway")
        p2p = gateway and network.version == 4 and network.prefixlen == 32
        if gateway and ipaddress.ip_address(gateway) not in network and not p2p:
            raise param_error({"gateway": f"{gateway} is not in subnet {cidr}"})
    except ApiError as err:
        raise wrapped("create sdn subnet object failed", err) from None
    ctx.state.sdn.subnets[sid] = {**opts, "cidr": cidr, "network": str(network.network_address),
                                  "mask": str(network.prefixlen), "zone": vnet["zone"]}


@route("DELETE", "/cluster/sdn/vnets/{vnet}/subnets/{subnet}")
def subnet_delete(ctx: Ctx, params: dict[str, Any]) -> None:
    vnet = _vnet(ctx, params["vnet"])
    ctx.perms.check_any(f"/sdn/zones/{vnet['zone']}/{params['vnet']}", ["SDN.Allocate"])
    if params["subnet"] not in ctx.state.sdn.subnets:
        raise die(f"sdn subnet '{params['subnet']}' does not exist")
    del ctx.state.sdn.subnets[params["subnet"]]


# -- apply ---------------------------------------------------------------------------------

@route("PUT", "/cluster/sdn")
def sdn_apply(ctx: Ctx, params: dict[str, Any]) -> str:
    state = ctx.state
    state.sdn_running = Sdn(**copy.deepcopy(vars(state.sdn)))
    nodes = list(state.nodes)

    def work(task: Task) -> None:
        for node in nodes:
            task.log.append(f"reload network on node '{node}'")

    return ctx.task(nodes[0], "reloadnetworkall", "", work)
