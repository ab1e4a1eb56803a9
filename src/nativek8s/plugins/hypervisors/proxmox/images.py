"""Boot images on Proxmox storage: router disks (content 'import', then `import-from` into
the VM's own disk) and installer ISOs (content 'iso').

PVE does not tell a stored file's checksum, so the file name carries the content hash:
a file with the same name and size holds the same bytes, and only then is the upload
skipped. PVE checks the upload against the sha256 we send with it.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nativek8s.api import LabState, Machine, NativeK8sError, Plan

from .connection import ApiError, Connection
from .names import disk_file_name, iso_file_name
from .tasks import wait_task

_DISK_FORMATS = {".raw": "raw", ".img": "raw", ".qcow2": "qcow2"}


def image_key(node: str, volid: str) -> str:
    return f"proxmox:image:{node}:{volid}"


@dataclass(frozen=True)
class Upload:
    path: Path  # the local file
    content: str  # 'import' (a disk to import) or 'iso'
    filename: str  # name on the storage
    size: int  # size as PVE lists it (a disk's virtual size)
    sha256: str
    lab_owned: bool  # True: destroy removes it (a machine's own disk)

    def volid(self, storage: str) -> str:
        return f"{storage}:{self.content}/{self.filename}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def disk_format(path: Path) -> str:
    fmt = _DISK_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise NativeK8sError(f"boot disk {path}: Proxmox imports .raw/.img or .qcow2 files; "
                             f"convert it (qemu-img convert -O qcow2 ...) or decompress it")
    return fmt


def virtual_size(path: Path, fmt: str) -> int:
    """What PVE lists as the volume's size: the file size, or a qcow2's virtual size."""
    if fmt != "qcow2":
        return path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(32)
    if len(header) < 32 or header[:4] != b"QFI\xfb":
        raise NativeK8sError(f"boot disk {path} is named .qcow2 but is not a qcow2 image")
    size: int = struct.unpack(">Q", header[24:32])[0]
    return size


def disk_upload(plan: Plan, machine: Machine, path: Path) -> Upload:
    fmt = disk_format(path)
    sha = sha256_file(path)
    return Upload(path, "import", disk_file_name(plan, machine, sha, fmt),
                  virtual_size(path, fmt), sha, lab_owned=True)


def iso_upload(path: Path) -> Upload:
    if path.suffix.lower() != ".iso":
        raise NativeK8sError(f"installer image {path}: Proxmox takes ISO files named .iso")
    sha = sha256_file(path)
    return Upload(path, "iso", iso_file_name(path.stem, sha), path.stat().st_size, sha,
                  lab_owned=False)


class _NamedFile(io.BufferedReader):
    """A file proxmoxer uploads under another name (it sends the object's ``name``)."""

    def __init__(self, path: Path, upload_name: str):
        super().__init__(io.FileIO(path, "rb"))
        self._upload_name = upload_name

    @property
    def name(self) -> str:
        return self._upload_name


class Uploader:
    """Uploads each file once per storage (per node unless the storage is shared), however
    many machines boot it, from however many threads."""

    def __init__(self, conn: Connection, state: LabState, timeout: float):
        self.conn, self.state, self.timeout = conn, state, timeout
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._shared: dict[tuple[str, str], bool] = {}

    def _storage_info(self, node: str, storage: str) -> dict[str, Any]:
        found = [s for s in self.conn.get(f"/nodes/{node}/storage", storage=storage) or []
                 if s.get("storage") == storage]
        if not found:
            raise NativeK8sError(f"node {node} has no storage {storage!r} (or the token may "
                                 "not see it: it needs Datastore.Audit there)")
        info: dict[str, Any] = found[0]
        return info

    def _lock(self, node: str, storage: str, filename: str) -> threading.Lock:
        with self._guard:
            if (node, storage) not in self._shared:
                info = self._storage_info(node, storage)
                self._shared[(node, storage)] = bool(info.get("shared"))
            where = "*" if self._shared[(node, storage)] else node
            return self._locks.setdefault((f"{where}/{storage}", filename), threading.Lock())

    def present(self, node: str, storage: str, upload: Upload) -> bool:
        listing = self.conn.get(f"/nodes/{node}/storage/{storage}/content",
                                content=upload.content)
        volid = upload.volid(storage)
        return any(v.get("volid") == volid and int(v.get("size", -1)) == upload.size
                   for v in listing or [])

    def ensure(self, node: str, storage: str, upload: Upload) -> tuple[str, bool]:
        """The volume id of the file on the storage; True when this call uploaded it."""
        volid = upload.volid(storage)
        with self._lock(node, storage, upload.filename):
            if self.present(node, storage, upload):
                return volid, False
            self.state.record(image_key(node, volid), node=node, storage=storage,
                              volid=volid, lab_owned=upload.lab_owned)
            with _NamedFile(upload.path, upload.filename) as fh:
                upid = self.conn.post(f"/nodes/{node}/storage/{storage}/upload",
                                      content=upload.content, filename=fh,
                                      checksum=upload.sha256,
                                      **{"checksum-algorithm": "sha256"})
            wait_task(self.conn, upid, f"uploading {upload.path.name} to {storage} on {node}",
                      self.timeout)
            if not self.present(node, storage, upload):
                raise NativeK8sError(f"uploaded {upload.filename} to {storage} on {node}, but "
                                     f"the storage does not list it with {upload.size} bytes")
            return volid, True


def lab_disk_name(plan: Plan) -> re.Pattern[str]:
    """File names of the lab's machine disks (see names.disk_file_name)."""
    machines = "|".join(re.escape(m.name) for m in plan.machines)
    return re.compile(rf"nk8s-{re.escape(plan.lab)}-({machines})-[0-9a-f]{{16}}\.(raw|qcow2)")


def remove_lab_images(conn: Connection, plan: Plan, state: LabState,
                      places: set[tuple[str, str]], timeout: float) -> list[str]:
    """Delete the lab's machine disks: those it recorded uploading, and those named as its
    own on the (node, storage) ``places`` (found again when the state was lost). Installer
    ISOs stay: other labs boot the same files."""
    records = {k: r for k, r in state.resources().items() if k.startswith("proxmox:image:")}
    places = places | {(r["node"], r["storage"]) for r in records.values()}
    recorded = {r["volid"] for r in records.values() if r.get("lab_owned")}
    pattern = lab_disk_name(plan)
    removed = []
    for node, storage in sorted(places):
        try:
            listing = conn.get(f"/nodes/{node}/storage/{storage}/content", content="import")
        except ApiError as exc:
            if exc.status in (400, 500):  # no such storage on that node (any more)
                continue
            raise
        for vol in listing or []:
            volid = str(vol.get("volid", ""))
            name = volid.split("/", 1)[-1]
            if volid in recorded or pattern.fullmatch(name):
                upid = conn.delete(f"/nodes/{node}/storage/{storage}/content/{volid}")
                if upid:  # PVE answers a task id, or nothing when it deleted at once
                    wait_task(conn, upid, f"deleting {volid} on {node}", timeout)
                removed.append(f"image {volid} on {node}")
    state.forget(*records)
    return removed
