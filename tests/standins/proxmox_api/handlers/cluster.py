"""Cluster-wide and node endpoints: version, nodes, resources, nextid, tasks, access."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from ..errors import ApiError, param_error
from ..tasks import Task
from . import Ctx, route

_UPID_RE = re.compile(r"UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):"
                      r"([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):")


@route("GET", "/version")
def version(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return dict(ctx.state.version)


@route("GET", "/nodes")
def nodes(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"node": n.name, "status": n.status, "id": f"node/{n.name}", "type": "node",
             "level": "", "cpu": 0.01, "maxcpu": n.maxcpu, "mem": n.mem,
             "maxmem": n.maxmem, "uptime": 3600}
            for n in ctx.state.nodes.values()]


@route("GET", "/cluster/status")
def cluster_status(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if ctx.state.cluster_name:
        out.append({"type": "cluster", "id": "cluster", "name": ctx.state.cluster_name,
                    "nodes": len(ctx.state.nodes), "quorate": 1, "version": 1})
    for i, node in enumerate(ctx.state.nodes.values()):
        out.append({"type": "node", "id": f"node/{node.name}", "name": node.name,
                    "nodeid": i + 1, "online": int(node.status == "online"),
                    "local": int(i == 0), "ip": f"127.0.0.{i + 1}", "level": ""})
    return out


def vm_resource(ctx: Ctx, vmid: int) -> dict[str, Any]:
    vm = ctx.state.vms[vmid]
    from .qemu import maxmem_bytes  # local import: qemu imports this module's helpers
    out = {"id": f"qemu/{vmid}", "type": "qemu", "vmid": vmid, "node": vm.node,
           "name": vm.config.get("name", f"VM {vmid}"), "status": vm.status,
           "maxmem": maxmem_bytes(vm.config), "maxcpu": int(vm.config.get("cores", 1)),
           "template": int(bool(vm.config.get("template"))), "maxdisk": 0, "uptime": 0}
    if vm.config.get("tags"):
        out["tags"] = vm.config["tags"]
    if vm.lock:
        out["lock"] = vm.lock
    return out


@route("GET", "/cluster/resources")
def resources(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    want = params.get("type")
    out: list[dict[str, Any]] = []
    if want in (None, "node"):
        out += [{"id": f"node/{n.name}", "type": "node", "node": n.name, "status": n.status,
                 "maxcpu": n.maxcpu, "maxmem": n.maxmem} for n in ctx.state.nodes.values()
                if ctx.perms.check_any(f"/nodes/{n.name}", ["Sys.Audit"], noerr=True)]
    if want in (None, "vm"):
        out += [vm_resource(ctx, vmid) for vmid in sorted(ctx.state.vms)
                if ctx.perms.check_any(f"/vms/{vmid}", ["VM.Audit"], noerr=True)]
    if want in (None, "storage"):
        for node in ctx.state.nodes.values():
            for st in node.storages.values():
                if ctx.perms.check_any(f"/storage/{st.id}", ["Datastore.Audit",
                                                             "Datastore.AllocateSpace"], True):
                    out.append({"id": f"storage/{node.name}/{st.id}", "type": "storage",
                                "node": node.name, "storage": st.id, "plugintype": st.type,
                                "content": ",".join(sorted(st.content)), "status": "available",
                                "disk": st.used, "maxdisk": st.total, "shared": int(st.shared)})
    if want in (None, "sdn"):
        for node in ctx.state.nodes.values():
            for zone in sorted(ctx.state.sdn_running.zones):
                out.append({"id": f"sdn/{node.name}/{zone}", "type": "sdn", "sdn": zone,
                            "node": node.name, "status": "ok"})
    return out


@route("GET", "/cluster/nextid")
def nextid(ctx: Ctx, params: dict[str, Any]) -> str:
    # PVE answers the number as a JSON string.
    if "vmid" in params:
        vmid = params["vmid"]
        if vmid in ctx.state.vms:
            raise param_error({"vmid": f"VM {vmid} already exists"})
        return str(vmid)
    vmid = 100
    while vmid in ctx.state.vms:
        vmid += 1
    return str(vmid)


@route("GET", "/access/permissions")
def permissions(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    userid = params.get("userid", ctx.user)
    if userid != ctx.user and userid.split("!", 1)[0] != ctx.user:
        ctx.perms.check("/access", ["Sys.Audit"])
    acl = ctx.state.acl_of(userid)
    if params.get("path"):
        perms = acl.permissions(params["path"])
        return {params["path"]: {p: int(v) for p, v in sorted(perms.items())}} if perms else {}
    return acl.effective()


@route("POST", "/access/ticket")
def ticket(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    username = params["username"]
    if params.get("realm") and "@" not in username:
        username = f"{username}@{params['realm']}"
    known = ctx.state.passwords.get(username)
    if known is None or not secrets.compare_digest(known, params["password"]):
        raise ApiError(401, "authentication failure")
    value = f"PVE:{username}:{int(time.time()):08X}::{secrets.token_hex(24)}"
    csrf = f"{int(time.time()):08X}:{secrets.token_hex(16)}"
    ctx.state.tickets[value] = (username, csrf)
    return {"username": username, "ticket": value, "CSRFPreventionToken": csrf}


# -- tasks ---------------------------------------------------------------------------------

def _task(ctx: Ctx, params: dict[str, Any]) -> Task:
    upid = params["upid"]
    if not _UPID_RE.fullmatch(upid):
        raise param_error({"upid": "unable to parse worker upid"})
    task = ctx.state.tasks.get(upid)
    if task is None or task.node != params["node"]:
        raise param_error({"upid": "no such task"})
    owner = task.user.split("!", 1)[0]
    if ctx.user not in (task.user, owner):
        ctx.perms.check(f"/nodes/{params['node']}", ["Sys.Audit"])
    return task


@route("GET", "/nodes/{node}/tasks/{upid}/status")
def task_status(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return _task(ctx, params).status_dict()


@route("GET", "/nodes/{node}/tasks/{upid}/log")
def task_log(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    task = _task(ctx, params)
    lines = task.log or ["no content"]
    start, limit = params.get("start", 0), params.get("limit", 50)
    ctx.total = len(lines)
    return [{"n": i + 1, "t": t} for i, t in enumerate(lines)][start:start + limit]


@route("DELETE", "/nodes/{node}/tasks/{upid}")
def task_stop(ctx: Ctx, params: dict[str, Any]) -> None:
    task = _task(ctx, params)
    if task.status == "running":
        task.log += ["received interrupt", "TASK ERROR: interrupted by signal"]
        task.status, task.exitstatus = "stopped", "interrupted by signal"
        if task.cleanup is not None:
            task.cleanup()


@route("GET", "/nodes/{node}/tasks")
def task_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    ctx.state.node(params["node"])
    out = []
    for task in reversed(list(ctx.state.tasks.tasks.values())):
        if task.node != params["node"]:
            continue
        if ctx.user not in (task.user, task.user.split("!", 1)[0]) and not ctx.perms.check(
                f"/nodes/{params['node']}", ["Sys.Audit"], noerr=True):
            continue
        if params.get("vmid") is not None and task.id != str(params["vmid"]):
            continue
        if params.get("typefilter") and task.type != params["typefilter"]:
            continue
        source = params.get("source", "archive")
        if (source == "active") != (task.status == "running") and source != "all":
            continue
        entry = task.status_dict()
        if task.status == "stopped":
            entry["endtime"] = entry["starttime"]
            entry["status"] = task.exitstatus
        out.append(entry)
    start, limit = params.get("start", 0), params.get("limit", 50)
    return out[start:start + limit]


@route("GET", "/nodes/{node}/network")
def network(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    node = ctx.state.node(params["node"])
    if params.get("type") not in (None, "bridge", "any_bridge", "any_local_bridge"):
        return []
    return [{"iface": b, "type": "bridge", "active": 1, "autostart": 1, "families": ["inet"],
             "method": "manual", "bridge_ports": node.bridge_ports.get(b, ""), "priority": i}
            for i, b in enumerate(sorted(node.bridges))]
