"""QEMU VM endpoints: list, create, config get/update, status, power, destroy (the guest
agent's are in agent.py).

Permission logic beyond the schema's ``check`` is qemu-server's: VM.Allocate for create,
per-option privileges (``check_vm_modify_config_perm``), and options only root@pam may set
(``args``, ``lock``, host serial devices, ...) refused with ``only root can set '<opt>'
config`` as a plain error (HTTP 500) -- for every API token, root@pam's included.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from ..errors import ApiError, die, param_error, perm_error
from ..state import State, Vm, Volume, config_digest
from ..tasks import Task, TaskError
from . import Ctx, route
from .qemu_disks import (
    add_random_macs,
    check_bridge_access,
    check_drive_param,
    check_storage_access,
    create_disks,
    is_drive_key,
    parse_net,
)

_OPTION_PRIVS = {
    "VM.Config.CPU": {"cores", "cpu", "cpulimit", "cpuunits", "numa", "smp", "sockets", "vcpus",
                      "affinity"},
    "VM.Config.Memory": {"memory", "balloon", "shares", "allow-ksm"},
    "VM.Config.HWType": {"acpi", "hotplug", "kvm", "machine", "scsihw", "smbios1", "tablet", "vga",
                         "watchdog", "audio0", "rng0"},
    "VM.Config.Options": {"agent", "autostart", "bios", "description", "keyboard", "localtime",
                          "migrate_downtime", "migrate_speed", "name", "onboot", "ostype",
                          "protection", "reboot", "startdate", "startup", "tdf", "template"},
    "VM.PowerMgmt": {"freeze"},
    "VM.Config.Disk": {"boot", "bootdisk", "vmstatestorage"},
}
_CLOUDINIT = {"cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver",
              "searchdomain", "sshkeys"}
_CREATE_EXTRA = ("archive", "bwlimit", "force", "pool", "start", "ha-managed", "storage",
                 "unique", "live-restore", "import-working-storage")


def maxmem_bytes(config: dict[str, Any]) -> int:
    mem = str(config.get("memory", "512"))
    match = re.search(r"(?:^|current=)(\d+)", mem)
    return int(match.group(1) if match else 512) * 1024**2


def resolve_cdrom_alias(params: dict[str, Any]) -> None:
    """``cdrom=VOLUME`` is shorthand for ``ide2=VOLUME,media=cdrom``."""
    if "cdrom" in params:
        params["ide2"] = f"{params.pop('cdrom')},media=cdrom"


def check_modify_config_perm(ctx: Ctx, vmid: int, keys: list[str]) -> None:
    """qemu-server's $check_vm_modify_config_perm."""
    if ctx.perms.is_root:
        return
    path = f"/vms/{vmid}"
    for opt in sorted(keys):
        if is_drive_key(opt) or opt == "cdrom" or opt == "tags" \
                or re.fullmatch(r"(unused|serial|usb|hostpci|virtiofs)\d+", opt):
            continue
        if opt == "startup":
            ctx.perms.check(path, ["VM.Config.Options"])
            ctx.perms.check("/", ["Sys.Modify"])
        elif re.fullmatch(r"numa\d+", opt):
            ctx.perms.check(path, ["VM.Config.CPU"])
        elif re.fullmatch(r"net\d+", opt):
            ctx.perms.check(path, ["VM.Config.Network"])
        elif opt in _CLOUDINIT or re.fullmatch(r"ipconfig\d+", opt):
            ctx.perms.check_any(path, ["VM.Config.Cloudinit", "VM.Config.Network"])
        else:
            priv = next((p for p, opts in _OPTION_PRIVS.items() if opt in opts), None)
            if priv is None:  # args, lock, hookscript, ... (new options land here too)
                raise die(f"only root can set '{opt}' config")
            ctx.perms.check(path, [priv])


def check_special_perms(ctx: Ctx, vmid: int, params: dict[str, Any]) -> None:
    if ctx.perms.is_root:
        return
    for opt in sorted(params):
        if re.fullmatch(r"serial\d+", opt):
            if params[opt] != "socket":
                raise die(f"only root can set '{opt}' config for real devices")
            ctx.perms.check(f"/vms/{vmid}", ["VM.Config.HWType"])
        elif opt == "tags":
            ctx.perms.check(f"/vms/{vmid}", ["VM.Config.Options"])


def _drive_order(key: str) -> tuple[int, int]:
    match = re.fullmatch(r"([a-z]+)(\d+)", key)
    assert match is not None
    return ("ide", "sata", "scsi", "virtio").index(match.group(1)), int(match.group(2))


def default_boot(config: dict[str, Any]) -> str:
    """get_default_bootdevices: first disk, first CD-ROM, first NIC."""
    drives = sorted((k for k in config if is_drive_key(k) and not k.startswith(("efi", "tpm"))),
                    key=_drive_order)
    disk = next((k for k in drives if "media=cdrom" not in str(config[k])), None)
    cdrom = next((k for k in drives if "media=cdrom" in str(config[k])), None)
    net = next((f"net{i}" for i in range(32) if f"net{i}" in config), None)
    devices = [d for d in (disk, cdrom, net) if d]
    return "order=" + ";".join(devices) if devices else ""  # print_bootorder


def start_checks(state: State, vm: Vm, ctx: Ctx) -> None:
    """vm_start's failures, raised inside the qmstart task."""
    if vm.lock:
        raise TaskError(f"VM is locked ({vm.lock})")
    if vm.status == "running":
        raise TaskError(f"VM {vm.vmid} already running")
    for key, value in sorted(vm.config.items()):
        if is_drive_key(key):
            volid = str(value).split(",", 1)[0]
            if ":" in volid and state.volume(vm.node, volid) is None:
                raise TaskError(f"volume '{volid}' does not exist")
        elif re.fullmatch(r"net\d+", key):
            bridge = parse_net(ctx, key, str(value)).get("bridge")
            node = state.nodes[vm.node]
            if bridge and bridge not in node.bridges and bridge not in state.sdn_running.vnets:
                raise TaskError(f"bridge '{bridge}' does not exist")


def _power(vm: Vm, running: bool, state: State | None = None) -> None:
    vm.status = "running" if running else "stopped"
    vm.started = time.monotonic() if running else None
    vm.exec_procs.clear()  # the guest's processes end with it (or start afresh)
    if running and state is not None and vm.guest is None and state.guest_for is not None:
        vm.guest = state.guest_for(vm)  # the guest the test gives VMs of this name


@route("GET", "/nodes/{node}/qemu")
def vm_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    ctx.state.node(params["node"])
    return [{"vmid": vm.vmid, "name": vm.config.get("name", f"VM {vm.vmid}"),
             "status": vm.status, "maxmem": maxmem_bytes(vm.config),
             "cpus": int(vm.config.get("cores", 1)), "uptime": 0, **(
                 {"tags": vm.config["tags"]} if vm.config.get("tags") else {}),
             **({"lock": vm.lock} if vm.lock else {})}
            for vm in sorted(ctx.state.vms.values(), key=lambda v: v.vmid)
            if vm.node == params["node"]
            and ctx.perms.check(f"/vms/{vm.vmid}", ["VM.Audit"], noerr=True)]


@route("POST", "/nodes/{node}/qemu")
def vm_create(ctx: Ctx, params: dict[str, Any]) -> str:
    state, node, vmid = ctx.state, params.pop("node"), params.pop("vmid")
    extra = {k: params.pop(k) for k in _CREATE_EXTRA if k in params}
    if "archive" in extra:
        raise ApiError(501, "stand-in: restore from 'archive' is not simulated")
    if "pool" in extra:
        raise perm_error(f"pool '{extra['pool']}' does not exist")
    if "storage" in extra:
        ctx.perms.check(f"/storage/{extra['storage']}", ["Datastore.AllocateSpace"])
    if extra.get("ha-managed"):
        ctx.perms.check("/", ["Sys.Console"])
    if extra.get("start"):
        ctx.perms.check(f"/vms/{vmid}", ["VM.PowerMgmt"])
    if not ctx.perms.check(f"/vms/{vmid}", ["VM.Allocate"], noerr=True):
        raise perm_error()
    if params:
        resolve_cdrom_alias(params)
        check_storage_access(ctx, vmid, node, params, extra.get("storage"))
        check_modify_config_perm(ctx, vmid, list(params))
        check_special_perms(ctx, vmid, params)
        check_bridge_access(ctx, params)
        check_drive_param(ctx, params)
        add_random_macs(ctx, params)
    if vmid in state.vms:
        raise die(f"unable to create VM {vmid} - VM {vmid} already exists on node "
                  f"'{state.vms[vmid].node}'")
    vm = Vm(vmid, node, {"lock": "create"})
    state.vms[vmid] = vm
    created: list[Volume] = []

    def work(task: Task) -> None:
        try:
            disks = create_disks(ctx, state, node, vmid, params, extra.get("storage"),
                                 task.log, created)
        except TaskError as err:
            raise TaskError(f"unable to create VM {vmid} - {err}") from None
        config = {**params, **disks}
        if "boot" not in config and default_boot(config):
            config["boot"] = default_boot(config)
        config.update({"meta": f"creation-qemu=9.2.0,ctime={int(time.time())}",
                       "smbios1": f"uuid={uuid.uuid4()}", "vmgenid": str(uuid.uuid4())})
        vm.config = config
        if extra.get("start"):
            start_checks(state, vm, ctx)
            _power(vm, True, state)

    def cleanup() -> None:
        for vol in created:
            state.storage(node, vol.storage).volumes.pop(vol.volid, None)
        state.vms.pop(vmid, None)

    return ctx.task(node, "qmcreate", vmid, work, cleanup=cleanup)


@route("GET", "/nodes/{node}/qemu/{vmid}/config")
def vm_config(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("snapshot"):
        raise ApiError(501, "stand-in: snapshots are not simulated")
    vm = ctx.state.vm(params["node"], params["vmid"])
    return {**vm.config, "digest": config_digest(vm.config)}


def _update(ctx: Ctx, params: dict[str, Any], sync: bool) -> str | None:
    state, node, vmid = ctx.state, params.pop("node"), params.pop("vmid")
    digest = params.pop("digest", None)
    params.pop("background_delay", None)
    for opt in ("skiplock",):
        if params.pop(opt, None) and not ctx.perms.is_root:
            raise param_error({opt: "Only root may use this option."})
    if params.pop("revert", None):
        raise ApiError(501, "stand-in: pending changes (revert) are not simulated")
    delete = [d for d in re.split(r"[,;\s]+", params.pop("delete", "") or "") if d]
    for opt in delete:
        if opt in params:
            raise param_error({"delete": f"you can't use '-{opt}' and -delete {opt}' at the same "
                                         "time"})
    if not params and not delete:
        raise param_error({"_root": "no options specified"})
    resolve_cdrom_alias(params)
    check_modify_config_perm(ctx, vmid, delete)
    check_modify_config_perm(ctx, vmid, list(params))
    check_storage_access(ctx, vmid, node, params, None)
    check_special_perms(ctx, vmid, params)
    check_bridge_access(ctx, params)
    check_drive_param(ctx, params)
    add_random_macs(ctx, params)
    vm = state.vm(node, vmid)
    if digest and digest != config_digest(vm.config):
        raise die("detected modified configuration - file changed by other user? Try again.")
    if vm.lock:
        raise die(f"VM is locked ({vm.lock})")
    created: list[Volume] = []

    def apply(log: list[str]) -> None:
        disks = create_disks(ctx, state, node, vmid, params, None, log, created)
        for opt in delete:
            vm.config.pop(opt, None)
        vm.config.update({**params, **disks})

    def cleanup() -> None:
        for vol in created:
            state.storage(node, vol.storage).volumes.pop(vol.volid, None)

    if not sync:
        return ctx.task(node, "qmconfig", vmid, lambda task: apply(task.log), cleanup=cleanup)
    try:  # PUT updates in the API process itself, no worker task
        apply([])
    except TaskError as err:
        cleanup()
        raise die(str(err)) from None
    return None


@route("POST", "/nodes/{node}/qemu/{vmid}/config")
def vm_config_post(ctx: Ctx, params: dict[str, Any]) -> str | None:
    return _update(ctx, params, sync=False)


@route("PUT", "/nodes/{node}/qemu/{vmid}/config")
def vm_config_put(ctx: Ctx, params: dict[str, Any]) -> None:
    _update(ctx, params, sync=True)


@route("GET", "/nodes/{node}/qemu/{vmid}/status/current")
def vm_status(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    vm = ctx.state.vm(params["node"], params["vmid"])
    out: dict[str, Any] = {
        "vmid": vm.vmid, "name": vm.config.get("name", f"VM {vm.vmid}"), "status": vm.status,
        "qmpstatus": vm.status, "cpus": int(vm.config.get("cores", 1)),
        "maxmem": maxmem_bytes(vm.config), "maxdisk": 0, "ha": {"managed": 0},
        "uptime": int(time.monotonic() - vm.started) if vm.started else 0,
    }
    if re.match(r"^(enabled=)?1", str(vm.config.get("agent", "0"))):
        out["agent"] = 1
    if vm.lock:
        out["lock"] = vm.lock
    if vm.config.get("tags"):
        out["tags"] = vm.config["tags"]
    return out


_ROOT_ONLY = {
    "start": ("stateuri", "skiplock", "migratedfrom", "migration_type", "migration_network",
              "targetstorage", "force-cpu", "with-conntrack-state", "nets-host-mtu"),
    "stop": ("skiplock", "keepActive", "migratedfrom"),
    "shutdown": ("skiplock", "keepActive"),
    "reset": ("skiplock",),
}


def _power_action(ctx: Ctx, params: dict[str, Any], action: str) -> str:
    for opt in _ROOT_ONLY[action]:
        if params.get(opt) and not ctx.perms.is_root:
            raise param_error({opt: "Only root may use this option."})
    state, vm = ctx.state, ctx.state.vm(params["node"], params["vmid"])

    def work(task: Task) -> None:
        if action == "start":
            start_checks(state, vm, ctx)
            _power(vm, True, state)
            return
        if vm.lock and not params.get("skiplock"):
            raise TaskError(f"VM is locked ({vm.lock})")
        if action == "reset" and vm.status != "running":
            raise TaskError(f"VM {vm.vmid} not running")
        _power(vm, action == "reset")

    return ctx.task(params["node"], f"qm{action}", vm.vmid, work)


def _power_route(action: str) -> None:
    def handler(ctx: Ctx, params: dict[str, Any]) -> str:
        return _power_action(ctx, params, action)
    route("POST", f"/nodes/{{node}}/qemu/{{vmid}}/status/{action}")(handler)


for _action in ("start", "stop", "shutdown", "reset"):
    _power_route(_action)


@route("DELETE", "/nodes/{node}/qemu/{vmid}")
def vm_destroy(ctx: Ctx, params: dict[str, Any]) -> str:
    if params.get("skiplock") and not ctx.perms.is_root:
        raise param_error({"skiplock": "Only root may use this option."})
    state, vm = ctx.state, ctx.state.vm(params["node"], params["vmid"])
    if vm.lock and not params.get("skiplock"):
        raise die(f"VM is locked ({vm.lock})")
    if vm.config.get("protection"):
        raise die(f"can't remove VM {vm.vmid} - protection mode enabled")
    if vm.status == "running":
        raise die(f"VM {vm.vmid} is running - destroy failed")

    def work(task: Task) -> None:
        for storage in state.nodes[vm.node].storages.values():
            for volid in [v for v, vol in storage.volumes.items() if vol.vmid == vm.vmid]:
                del storage.volumes[volid]
                task.log.append(f"  Logical volume \"{volid.split(':', 1)[1]}\" successfully "
                                "removed.")
        state.vms.pop(vm.vmid, None)

    return ctx.task(vm.node, "qmdestroy", vm.vmid, work)
