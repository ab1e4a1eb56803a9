"""VM drives and NICs: parsing, the permission checks qemu-server makes, disk creation.

Mirrors qemu-server's ``check_storage_access``, ``check_drive_param``,
``PVE::Storage::check_volume_access``, ``check_vnet_access`` and the create worker's
allocation/import (``STORAGE:SIZE`` allocates SIZE GiB, ``STORAGE:0,import-from=VOLID``
copies a volume of content ``import`` or ``images``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from ..errors import die, param_error
from ..formats import is_drive_name
from ..perms import Checker
from ..state import GIB, State, Volume
from ..tasks import TaskError
from ..validate import parse_property_string
from . import Ctx

NEW_DISK_RE = re.compile(r"^(([^/:\s]+):)?(\d+(\.\d+)?)$")
SPECIAL_DISKS = ("efidisk0", "tpmstate0")


def is_drive_key(key: str) -> bool:
    return is_drive_name(key) or key in SPECIAL_DISKS


def drive_format(ctx: Ctx, key: str) -> dict[str, Any]:
    """The property-string format of a VM config key, as create_vm's schema defines it."""
    schema = ctx.schema.endpoint("POST", "/nodes/{node}/qemu").property_schema(key) or {}
    fmt = schema.get("format")
    return fmt if isinstance(fmt, dict) else {}


def parse_drive(ctx: Ctx, key: str, value: str) -> dict[str, str]:
    return parse_property_string(drive_format(ctx, key), value, key)


def print_property_string(fmt: dict[str, Any], data: dict[str, str]) -> str:
    """JSONSchema::print_property_string: default key (or key alias) first, rest sorted."""
    parts, done = [], set()
    for key, schema in fmt.items():
        alias_of = schema.get("keyAlias")
        if alias_of and data.get(alias_of) == key and schema.get("alias") in data:
            parts.append(f"{key}={data[schema['alias']]}")
            done |= {alias_of, schema["alias"]}
    default = next((k for k, s in fmt.items() if s.get("default_key")), None)
    if default and default in data and default not in done:
        parts.insert(0, data[default])
        done.add(default)
    parts += [f"{k}={data[k]}" for k in sorted(data) if k not in done]
    return ",".join(parts)


def volume_type(volid: str) -> tuple[str, int | None]:
    """(vtype, owner vmid) of a volume name, as the dir/lvm plugins' parse_volname see it."""
    name = volid.split(":", 1)[1]
    if name.startswith("iso/"):
        return "iso", None
    if name.startswith("import/"):
        return "import", None
    if name.startswith("vztmpl/"):
        return "vztmpl", None
    if name.startswith("snippets/"):
        return "snippets", None
    match = re.search(r"(?:^|/)(?:vm|base)-(\d+)-disk-\d+", name)
    if match:
        return "images", int(match.group(1))
    raise die(f"unable to parse directory volume name '{name}'")


def check_volume_access(perms: Checker, vmid: int, volid: str) -> None:
    if not re.match(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:", volid, re.I):
        if not perms.is_root:
            raise die("Only root can pass arbitrary filesystem paths.")
        return
    storeid = volid.split(":", 1)[0]
    vtype, owner = volume_type(volid)
    if perms.check(f"/storage/{storeid}", ["Datastore.Allocate"], noerr=True):
        return
    if vtype in ("iso", "vztmpl", "import"):
        perms.check_any(f"/storage/{storeid}", ["Datastore.AllocateSpace", "Datastore.Audit"])
    elif owner is not None and owner == vmid:
        return
    elif vtype == "images" and owner is not None:
        perms.check(f"/storage/{storeid}", ["Datastore.Audit"])
        perms.check(f"/vms/{owner}", ["VM.Config.Disk"])
    else:
        raise die(f"missing privileges to access {volid}")


def check_storage_access(ctx: Ctx, vmid: int, node: str, params: dict[str, Any],
                         default_storage: str | None) -> None:
    for key in sorted(k for k in params if is_drive_key(k)):
        drive = parse_drive(ctx, key, str(params[key]))
        volid = drive.get("file", "")
        is_cdrom = drive.get("media") == "cdrom"
        new = NEW_DISK_RE.match(volid)
        if not volid or volid in ("none", "cloudinit") or volid.endswith(":cloudinit"):
            pass
        elif is_cdrom and volid == "cdrom":
            ctx.perms.check("/", ["Sys.Console"])
        elif not is_cdrom and new:
            storeid = new.group(2) or default_storage
            if not storeid:
                raise die("no storage ID specified (and no default storage)")
            ctx.perms.check(f"/storage/{storeid}", ["Datastore.AllocateSpace"])
            if "images" not in ctx.state.storage(node, storeid).content:
                raise param_error({"storage": f"storage '{storeid}' does not support vm images"})
        else:
            check_volume_access(ctx.perms, vmid, volid)
            if ":" in volid and volume_type(volid)[0] not in ("images", "iso"):
                raise param_error({key: "content type needs to be 'images' or 'iso'"})
        source = drive.get("import-from")
        if source:
            if ":" in source and not source.startswith("/"):
                vtype, owner = volume_type(source)
                if vtype not in ("images", "import"):
                    raise param_error({key: f"{source} has wrong type '{vtype}' - needs to be "
                                            "'images' or 'import'"})
                if owner is not None:
                    ctx.perms.check(f"/vms/{owner}", ["VM.Clone"])
                    continue
            check_volume_access(ctx.perms, vmid, source)


def check_drive_param(ctx: Ctx, params: dict[str, Any]) -> None:
    for key in sorted(k for k in params if is_drive_key(k)):
        drive = parse_drive(ctx, key, str(params[key]))
        if drive.get("import-from"):
            match = NEW_DISK_RE.match(drive.get("file", ""))
            if not match or float(match.group(3)) != 0:
                raise param_error({key: "'import-from' requires special syntax - use "
                                        "<storage ID>:0,import-from=<source>"})


def parse_net(ctx: Ctx, key: str, value: str) -> dict[str, str]:
    return parse_property_string(drive_format(ctx, key), value, key)


def check_bridge_access(ctx: Ctx, params: dict[str, Any]) -> None:
    if ctx.perms.is_root:
        return
    for key in sorted(k for k in params if re.fullmatch(r"net\d+", k)):
        net = parse_net(ctx, key, str(params[key]))
        bridge = net.get("bridge")
        if bridge is None:
            continue
        zone = ctx.state.sdn.vnets.get(bridge, {}).get("zone", "localnetwork")
        tag, trunks = net.get("tag"), net.get("trunks")
        if tag:
            ctx.perms.check(f"/sdn/zones/{zone}/{bridge}/{tag}", ["SDN.Use"])
        for part in (trunks or "").split(";"):
            if part:
                lo, _, hi = part.partition("-")
                for t in range(int(lo), int(hi or lo) + 1):
                    ctx.perms.check(f"/sdn/zones/{zone}/{bridge}/{t}", ["SDN.Use"])
        if not (tag or trunks):
            ctx.perms.check(f"/sdn/zones/{zone}/{bridge}", ["SDN.Use"])


def add_random_macs(ctx: Ctx, params: dict[str, Any]) -> None:
    for key in [k for k in params if re.fullmatch(r"net\d+", k)]:
        fmt = drive_format(ctx, key)
        net = parse_property_string(fmt, str(params[key]), key)
        if "macaddr" not in net:
            tail = ":".join(f"{secrets.randbelow(256):02X}" for _ in range(3))
            net["macaddr"] = f"BC:24:11:{tail}"
        params[key] = print_property_string(fmt, net)


def format_size(size: int) -> str:
    for unit, factor in (("T", 1024**4), ("G", GIB), ("M", 1024**2), ("K", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def create_disks(ctx: Ctx, state: State, node: str, vmid: int, settings: dict[str, Any],
                 default_storage: str | None, log: list[str],
                 created: list[Volume]) -> dict[str, str]:
    """Allocate or import every new disk in ``settings``; returns the final drive strings.

    Runs inside the task; failures raise TaskError with qemu-server's wording.
    """
    result = {}
    for key in sorted(k for k in settings if is_drive_key(k)):
        fmt = drive_format(ctx, key)
        drive = parse_property_string(fmt, str(settings[key]), key)
        volid = drive.get("file", "")
        new = NEW_DISK_RE.match(volid)
        if drive.get("media") == "cdrom" or not new:
            if ":" in volid and state.volume(node, volid) is None:
                raise TaskError(f"volume '{volid}' does not exist")
            result[key] = str(settings[key])
            continue
        storeid = new.group(2) or default_storage or ""
        storage = state.storage(node, storeid)
        source_id = drive.pop("import-from", None)
        if source_id:
            source = state.volume(node, source_id)
            if source is None:
                raise TaskError(f"volume '{source_id}' does not exist")
            size, sha = source.size, source.sha256
            log.append(f"importing disk '{source_id}' to VM {vmid} ...")
        else:
            size, sha = int(float(new.group(3)) * GIB), None
        if storage.used + size > storage.total:
            raise TaskError(f"no space left on storage '{storeid}' (need {size} bytes)")
        vol = state.alloc_disk(node, storeid, vmid, size, drive.get("format"), sha256=sha)
        created.append(vol)
        if source_id:
            log.append(f"transferred {format_size(size)} of {format_size(size)} (100.00%)")
        log.append(f"{key}: successfully created disk '{vol.volid},size={format_size(size)}'")
        drive["file"] = vol.volid
        drive.pop("format", None)
        drive["size"] = format_size(size)
        result[key] = print_property_string(fmt, drive)
    return result
