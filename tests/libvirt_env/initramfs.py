"""Pieces for packing the stand-in guest's initramfs without root or external tools.

- a writer for the "newc" cpio format the kernel unpacks (``Documentation/driver-api/
  early-userspace/buffer-format.rst``): device nodes can be written without ``mknod``;
- a reader of a kernel module's ``.modinfo`` ELF section (``depends=``), because Debian's
  kernel package ships no ``modules.dep`` (``depmod`` runs at install time);
- the dependency closure of the modules the guest needs, in load order.
"""

from __future__ import annotations

import gzip
import io
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_NEWC_MAGIC = b"070701"
_TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    """One archive member. ``data`` is the file content or the symlink target."""

    path: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def directory(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, stat.S_IFDIR | perm)


def regular(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def char_device(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad4(length: int) -> bytes:
    return b"\0" * (-length % 4)


def write_newc(entries: Iterable[Entry]) -> bytes:
    """Serialise entries as a newc cpio archive (uid/gid 0, mtime 0: reproducible)."""
    out = io.BytesIO()

    def member(ino: int, entry: Entry) -> None:
        name = entry.path.lstrip("/").encode() + b"\0"
        fields = (ino, entry.mode, 0, 0, 2 if stat.S_ISDIR(entry.mode) else 1, 0,
                  len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1], len(name), 0)
        header = _NEWC_MAGIC + b"".join(b"%08X" % f for f in fields)
        out.write(header + name + _pad4(len(header) + len(name)))
        out.write(entry.data + _pad4(len(entry.data)))

    ino = 0
    for ino, entry in enumerate(entries, start=1):
        if not entry.path.strip("/"):
            raise ValueError("empty archive path")
        member(ino, entry)
    member(ino + 1, Entry(_TRAILER, 0))
    return out.getvalue()


def read_newc(archive: bytes) -> list[Entry]:
    """Parse a newc archive (used to check what the builder wrote)."""
    entries: list[Entry] = []
    pos = 0
    while True:
        if archive[pos:pos + 6] != _NEWC_MAGIC:
            raise ValueError(f"bad cpio magic at offset {pos}")
        f = [int(archive[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, rdevmajor, rdevminor, namesize = f[1], f[6], f[9], f[10], f[11]
        name_start = pos + 110
        name = archive[name_start:name_start + namesize - 1].decode()
        data_start = name_start + namesize + (-(110 + namesize) % 4)
        data = archive[data_start:data_start + filesize]
        pos = data_start + filesize + (-filesize % 4)
        if name == _TRAILER:
            return entries
        entries.append(Entry(name, mode, data, (rdevmajor, rdevminor)))


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def modinfo(ko: bytes) -> dict[str, str]:
    """Read the ``.modinfo`` section of an ELF64 little-endian kernel module."""
    if ko[:4] != b"\x7fELF" or ko[4] != 2 or ko[5] != 1:
        raise ValueError("not an ELF64 little-endian object")
    e_shoff, = struct.unpack_from("<Q", ko, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", ko, 0x3A)

    def section(index: int) -> tuple[int, int, int]:
        base = e_shoff + index * e_shentsize
        sh_name, = struct.unpack_from("<I", ko, base)
        sh_offset, sh_size = struct.unpack_from("<QQ", ko, base + 0x18)
        return sh_name, sh_offset, sh_size

    _, strtab_off, _ = section(e_shstrndx)
    for index in range(e_shnum):
        sh_name, offset, size = section(index)
        end = ko.index(b"\0", strtab_off + sh_name)
        if ko[strtab_off + sh_name:end] == b".modinfo":
            info: dict[str, str] = {}
            for raw in ko[offset:offset + size].split(b"\0"):
                key, sep, value = raw.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(key, value)
            return info
    raise ValueError("no .modinfo section")


def module_name(path: Path) -> str:
    # The kernel treats '-' and '_' in module names as the same character.
    return path.name.removesuffix(".ko").replace("-", "_")


def load_order(roots: Iterable[str], modules_dir: Path) -> list[Path]:
    """Module files for ``roots`` and everything they depend on, dependencies first."""
    index = {module_name(p): p for p in modules_dir.rglob("*.ko")}
    order: list[Path] = []
    done: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in chain:
            raise ValueError(f"module dependency cycle: {' -> '.join(chain + (name,))}")
        if name not in index:
            raise FileNotFoundError(f"module {name!r} not found under {modules_dir}")
        depends = modinfo(index[name].read_bytes()).get("depends", "")
        for dep in filter(None, depends.split(",")):
            visit(dep.replace("-", "_"), chain + (name,))
        done.add(name)
        order.append(index[name])

    for root in roots:
        visit(root.replace("-", "_"), ())
    return order
