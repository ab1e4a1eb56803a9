"""A writer (and reader, for checks) of the "newc" cpio format the kernel unpacks as an
initramfs (``Documentation/driver-api/early-userspace/buffer-format.rst``). Device nodes are
written without ``mknod``, so building the stand-in guest needs no root."""

from __future__ import annotations

import gzip
import io
import stat
from collections.abc import Iterable
from dataclasses import dataclass

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
