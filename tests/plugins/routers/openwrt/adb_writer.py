"""Writes apk-tools v3 ADB files for the fake release tree: ``packages.adb`` indexes and
``.apk`` packages (metadata only, no file data), compressed with raw deflate (``ADBd``) as
``apk mkndx`` writes them by default.

It stands in for apk-tools' ``apk mkpkg`` and ``apk mkndx``, which Debian does not package.
Its layout follows apk-tools' ``src/adb.h`` and ``src/apk_adb.h``; where a real apk v3 is on
PATH, test_images_adb.py checks that apk reads what this writes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field

_T_INT, _T_INT32, _T_BLOB8, _T_BLOB16, _T_ARRAY, _T_OBJECT = 0x1, 0x2, 0x8, 0x9, 0xD, 0xE


class _Block:
    """The ADB block being written: an 8-byte header (compat 0, version 0, root) + values."""

    def __init__(self) -> None:
        self.buf = bytearray(8)

    def _put(self, data: bytes, align: int) -> int:
        while len(self.buf) % align:
            self.buf.append(0)
        offset = len(self.buf)
        self.buf += data
        return offset

    def blob(self, data: bytes) -> int:
        if len(data) < 0x100:
            return (_T_BLOB8 << 28) | self._put(bytes([len(data)]) + data, 1)
        return (_T_BLOB16 << 28) | self._put(struct.pack("<H", len(data)) + data, 2)

    def text(self, value: str) -> int:
        return self.blob(value.encode())

    def integer(self, value: int) -> int:
        if value < 0x10000000:
            return (_T_INT << 28) | value
        return (_T_INT32 << 28) | self._put(struct.pack("<I", value), 4)

    def _slots(self, kind: int, values: list[int]) -> int:
        while values and values[-1] == 0:
            values = values[:-1]
        data = struct.pack(f"<{len(values) + 1}I", len(values) + 1, *values)
        return (kind << 28) | self._put(data, 4)

    def obj(self, fields: dict[int, int]) -> int:
        values = [fields.get(n, 0) for n in range(1, max(fields, default=0) + 1)]
        return self._slots(_T_OBJECT, values)

    def array(self, values: list[int]) -> int:
        return self._slots(_T_ARRAY, values)

    def finish(self, root: int) -> bytes:
        struct.pack_into("<BBHI", self.buf, 0, 0, 0, 0, root)
        return bytes(self.buf)


def _file(schema: bytes, payload: bytes) -> bytes:
    raw = b"ADB." + schema + struct.pack("<I", 4 + len(payload)) + payload
    raw += bytes(-len(raw) % 8)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b"ADBd" + deflate.compress(raw) + deflate.flush()


@dataclass
class ApkInfo:
    name: str
    version: str
    depends: list[str] = field(default_factory=list)  # "name", "!name" (conflict)
    provides: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    arch: str = "x86_64"
    description: str = ""


def _deps(block: _Block, deps: list[str]) -> int:
    items = []
    for dep in deps:
        conflict = dep.startswith("!")
        name, _, version = dep.lstrip("!").partition("=")
        fields = {1: block.text(name)}
        if version:
            fields[2] = block.text(version)
        if conflict:
            fields[3] = block.integer(16)
        items.append(block.obj(fields))
    return block.array(items) if items else 0


def _pkginfo(block: _Block, info: ApkInfo, identity: bytes = b"", file_size: int = 0) -> int:
    fields = {1: block.text(info.name), 2: block.text(info.version), 5: block.text(info.arch)}
    if identity:
        fields[3] = block.blob(identity)
    if info.description:
        fields[4] = block.text(info.description)
    if file_size:
        fields[0x0D] = block.integer(file_size)
    for number, deps in ((0x0F, info.depends), (0x10, info.provides)):
        value = _deps(block, deps)
        if value:
            fields[number] = value
    if info.tags:
        fields[0x15] = block.array([block.text(t) for t in info.tags])
    return block.obj(fields)


def package(info: ApkInfo) -> tuple[bytes, bytes]:
    """(the .apk file, its identity: SHA-256 of its ADB block)."""
    block = _Block()
    payload = block.finish(block.obj({1: _pkginfo(block, info)}))
    return _file(b"pckg", payload), hashlib.sha256(payload).digest()


def index(entries: list[tuple[ApkInfo, bytes, int]], pkgname_spec: str | None = None) -> bytes:
    """A packages.adb of (info, identity, file size) entries."""
    block = _Block()
    packages = block.array([_pkginfo(block, i, ident, size) for i, ident, size in entries])
    fields = {2: packages}
    if pkgname_spec:
        fields[3] = block.text(pkgname_spec)
    return _file(b"indx", block.finish(block.obj(fields)))
