"""Storage endpoints: storage list, content list/info/delete, upload and download-url.

Rules from pve-storage (API2/Storage/Status.pm, Content.pm, Storage.pm): file names are
normalized (``[^a-zA-Z0-9_.-]`` -> ``_``), extensions checked per content type, only
file-based storages accept uploads, volume notes exist only for backups. The imported
bytes' sha256 is kept on the Volume (PVE does not expose it) so tests can check what landed.
Download-url fetches for real, but only from loopback addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import ssl
import struct
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import die, param_error
from ..state import Storage, Volume
from ..tasks import Task, TaskError
from . import Ctx, route

ISO_RE = re.compile(r"[^/]+\.(?:iso|img)$", re.I)
VZTMPL_RE = re.compile(r"[^/]+\.(tar(?!\.)|tar\.(gz|xz|zst|bz2))$", re.I)
IMPORT_RE = re.compile(r"[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$")
SUBDIR = {"iso": "template/iso", "vztmpl": "template/cache", "import": "import"}


def normalize_filename(name: str) -> str:
    name = re.sub(r"^.*[/\\]", "", name.rstrip("\n"))
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", name)


def _status(st: Storage) -> dict[str, Any]:
    return {"storage": st.id, "type": st.type, "content": ",".join(sorted(st.content)),
            "active": 1, "enabled": int(st.enabled), "shared": int(st.shared),
            "total": st.total, "used": st.used, "avail": st.total - st.used,
            "used_fraction": st.used / st.total if st.total else 0}


@route("GET", "/nodes/{node}/storage")
def storage_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    node = ctx.state.node(params["node"])
    want = set(re.split(r"[,;\s]+", params.get("content", ""))) - {""}
    out = []
    for st in node.storages.values():
        if not ctx.perms.check_any(f"/storage/{st.id}",
                                   ["Datastore.Audit", "Datastore.AllocateSpace"], noerr=True):
            continue
        if params.get("storage") not in (None, st.id) or (want and not want & st.content):
            continue
        if params.get("enabled") and not st.enabled:
            continue
        out.append(_status(st))
    return out


@route("GET", "/nodes/{node}/storage/{storage}/status")
def storage_status(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return _status(ctx.state.storage(params["node"], params["storage"]))


@route("GET", "/nodes/{node}/storage/{storage}/content")
def content_list(ctx: Ctx, params: dict[str, Any]) -> list[dict[str, Any]]:
    st = ctx.state.storage(params["node"], params["storage"])
    out = []
    for vol in sorted(st.volumes.values(), key=lambda v: v.volid):
        if params.get("content") not in (None, vol.content):
            continue
        if params.get("vmid") is not None and vol.vmid != params["vmid"]:
            continue
        if vol.vmid is not None and not ctx.perms.check(f"/vms/{vol.vmid}", ["VM.Audit"], True):
            continue
        out.append(vol.listing())
    return out


def _volume(ctx: Ctx, params: dict[str, Any]) -> tuple[Storage, Volume]:
    volid = params["volume"]
    if ":" not in volid and params.get("storage"):
        volid = f"{params['storage']}:{volid}"
    storeid = volid.split(":", 1)[0]
    st = ctx.state.storage(params["node"], storeid)
    vol = st.volumes.get(volid)
    if vol is None:
        raise die(f"volume '{volid}' does not exist")
    return st, vol


def _path(st: Storage, vol: Volume) -> str:
    name = vol.volid.split(":", 1)[1]
    if st.path is None:
        return f"/dev/pve/{name}"
    if vol.content in SUBDIR:
        return f"{st.path}/{SUBDIR[vol.content]}/{name.split('/', 1)[1]}"
    return f"{st.path}/images/{name}"


@route("GET", "/nodes/{node}/storage/{storage}/content/{volume}")
def content_info(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    st, vol = _volume(ctx, params)
    ctx.perms.check_any(f"/storage/{st.id}", ["Datastore.Audit", "Datastore.AllocateSpace"])
    return {"path": _path(st, vol), "size": vol.size, "used": vol.used or vol.size,
            "format": vol.format}


@route("PUT", "/nodes/{node}/storage/{storage}/content/{volume}")
def content_update(ctx: Ctx, params: dict[str, Any]) -> None:
    st, vol = _volume(ctx, params)
    ctx.perms.check(f"/storage/{st.id}", ["Datastore.Allocate"])
    if "notes" in params:
        raise die("only backups can have notes")
    if "protected" in params:
        raise die("only backups support attribute 'protected'")


@route("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")
def content_delete(ctx: Ctx, params: dict[str, Any]) -> str:
    st, vol = _volume(ctx, params)
    ctx.perms.check(f"/storage/{st.id}", ["Datastore.Allocate"])

    def work(task: Task) -> None:
        st.volumes.pop(vol.volid, None)
        task.log.append(f"Removed volume '{vol.volid}'")

    return ctx.task(params["node"], "imgdel", "", work)


def _target(ctx: Ctx, params: dict[str, Any], what: str) -> tuple[Storage, str, str]:
    """Storage, normalized file name and volume ID for an upload/download (PVE's checks)."""
    st = ctx.state.storage(params["node"], params["storage"])
    if st.path is None:
        suffix = ", not a file based storage!" if what == "download" else ""
        raise die(f"can't upload to storage type '{st.type}'{suffix}")
    content = params["content"]
    if what == "download" and content not in st.content:
        raise die(f"storage '{st.id}' is not configured for content-type '{content}'")
    name = normalize_filename(params["filename"])
    if content == "iso" and not ISO_RE.search(name):
        raise param_error({"filename": "wrong file extension"})
    if content == "vztmpl" and not VZTMPL_RE.search(name):
        raise param_error({"filename": "wrong file extension"})
    if content == "import" and not IMPORT_RE.fullmatch(name):
        raise param_error({"filename": "invalid filename or wrong extension"})
    if what == "upload" and content not in st.content:
        raise die(f"storage '{st.id}' does not support '{content}' content")
    return st, name, f"{st.id}:{content}/{name}"


def _image_info(data: bytes, fmt: str, where: str) -> int:
    """Virtual size; rejects what ``file_size_info(..., untrusted)`` rejects for qcow2."""
    if fmt != "qcow2":
        return len(data)
    if len(data) < 32 or data[:4] != b"QFI\xfb":
        raise TaskError("failed to query file information with qemu-img")
    backing_offset, = struct.unpack(">Q", data[8:16])
    if backing_offset:
        raise TaskError(f"backing file not allowed for untrusted image '{where}'!")
    size: int = struct.unpack(">Q", data[24:32])[0]
    return size


def _store(st: Storage, volid: str, content: str, data: bytes, where: str) -> Volume:
    fmt = volid.rsplit(".", 1)[-1].lower() if content in ("import", "iso") else "tgz"
    fmt = "iso" if content == "iso" else fmt
    size = _image_info(data, fmt, where)
    vol = Volume(volid, content, fmt, size, used=len(data), sha256=hashlib.sha256(data).hexdigest())
    st.volumes[volid] = vol  # PVE simply overwrites an existing file
    return vol


def _verify_checksum(params: dict[str, Any], data: bytes, log: list[str]) -> None:
    algo = params.get("checksum-algorithm")
    if not algo:
        return
    got = hashlib.new(algo, data).hexdigest()
    if got.lower() != params["checksum"].lower():
        log.append("calculating checksum...")
        raise TaskError(f"checksum mismatch: got '{got}' != expect '{params['checksum']}'")
    log.append("calculating checksum...OK, checksum verified")


@route("POST", "/nodes/{node}/storage/{storage}/upload")
def upload(ctx: Ctx, params: dict[str, Any]) -> str:
    if ctx.upload is None:
        raise die("missing temporary file name")
    st, name, volid = _target(ctx, params, "upload")
    data, tmp = ctx.upload.data, params["tmpfilename"]
    dest = f"{st.path}/{SUBDIR[params['content']]}/{name}"

    def work(task: Task) -> None:
        task.log.append(f"starting file import from: {tmp}")
        _verify_checksum(params, data, task.log)
        _store(st, volid, params["content"], data, tmp)
        task.log += [f"target node: {params['node']}", f"target file: {dest}",
                     f"file size is: {len(data)}", f"command: cp -- {tmp} {dest}",
                     "finished file import successfully"]

    return ctx.task(params["node"], "imgcopy", "", work)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@route("POST", "/nodes/{node}/storage/{storage}/download-url")
def download_url(ctx: Ctx, params: dict[str, Any]) -> str:
    st, name, volid = _target(ctx, params, "download")
    if params.get("compression"):
        raise param_error({"compression": "stand-in: decompression is not simulated"})
    url, dest = params["url"], f"{st.path}/{SUBDIR[params['content']]}/{name}"

    def work(task: Task) -> None:
        task.log.append(f"downloading {url} to {dest}")
        host = urllib.parse.urlsplit(url).hostname or ""
        if not _is_loopback(host):
            raise TaskError(f"download failed - stand-in only fetches from loopback, not '{host}'")
        context = None
        if url.startswith("https") and not params.get("verify-certificates", True):
            context = ssl._create_unverified_context()  # noqa: S323 (test server on loopback)
        try:
            with urllib.request.urlopen(url, timeout=30, context=context) as resp:  # noqa: S310
                data = resp.read()
        except (urllib.error.URLError, OSError) as err:
            raise TaskError(f"download failed: {err}") from None
        task.log.append(f"download of '{url}' to '{dest}' finished")
        _verify_checksum(params, data, task.log)
        _store(st, volid, params["content"], data, dest)

    wid = re.sub(r"[^\x20-\x24\x26-\x39\x3b-\x7e]", lambda m: f"%{ord(m.group()):02X}", name)
    return ctx.task(params["node"], "download", wid, work)


def new_tmpfilename() -> str:
    return f"/var/tmp/pveupload-{secrets.token_hex(16)}"  # noqa: S108 (a name PVE would use)
