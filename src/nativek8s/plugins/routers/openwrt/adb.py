"""A reader for apk-tools v3 "ADB" files: the ``packages.adb`` feed index of OpenWrt 25.12
and the identity of a ``.apk`` package, without apk-tools.

Format (apk-tools ``doc/apk-v3.5.scd``, ``src/adb.h``, ``src/apk_adb.h``): an optional
compression header (``ADBd``: raw deflate; ``ADBc`` + algorithm + level), then ``ADB.`` and a
4-byte schema (``indx`` for an index, ``pckg`` for a package), then 8-byte aligned blocks whose
32-bit little-endian header holds the type (top 2 bits: ADB, SIG, DATA, EXT) and the size
(including the header). The ADB block starts with a 4-byte version header and the root value.
A value is a 32-bit word: 4 bits of type, 28 bits of immediate value or offset into the ADB
block. Objects and arrays are slot lists whose first slot is their length.

A package's identity (the ``hashes`` field of its index entry) is the SHA-256 of its ADB
block's payload; signatures (SIG blocks) are not checked here.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

SCHEMA_INDEX = b"indx"
SCHEMA_PACKAGE = b"pckg"

_T_SPECIAL, _T_INT, _T_INT32, _T_INT64 = 0x0, 0x1, 0x2, 0x3
_T_BLOB8, _T_BLOB16, _T_BLOB32, _T_ARRAY, _T_OBJECT = 0x8, 0x9, 0xA, 0xD, 0xE
_BLOCK_ADB, _BLOCK_EXT = 0, 3
_COMP_NONE, _COMP_DEFLATE = 0, 1

# Field numbers (apk_adb.h).
NDX_PACKAGES, NDX_PKGNAME_SPEC = 2, 3
PI_NAME, PI_VERSION, PI_HASHES, PI_ARCH = 1, 2, 3, 5
PI_FILE_SIZE, PI_DEPENDS, PI_PROVIDES, PI_TAGS = 0x0D, 0x0F, 0x10, 0x15
DEP_NAME, DEP_VERSION, DEP_MATCH = 1, 2, 3
MATCH_CONFLICT = 16


class AdbError(ValueError):
    """Not an ADB file of the expected schema, or a damaged one."""


def _decompress(data: bytes) -> bytes:
    if data[:4] == b"ADB.":
        return data
    if data[:4] == b"ADBd":
        alg, body = _COMP_DEFLATE, data[4:]
    elif data[:4] == b"ADBc" and len(data) >= 6:
        alg, body = data[4], data[6:]
    else:
        raise AdbError("not an apk v3 (ADB) file")
    if alg == _COMP_NONE:
        return body
    if alg != _COMP_DEFLATE:
        raise AdbError(f"ADB compression {alg} is not supported (only none and deflate)")
    try:
        out = zlib.decompressobj(-15).decompress(body)
    except zlib.error as exc:
        raise AdbError(f"damaged ADB compression: {exc}") from None
    return out


def adb_block(data: bytes, schema: bytes) -> bytes:
    """The payload of the first (ADB) block of a file with the given schema."""
    raw = _decompress(data)
    if raw[:4] != b"ADB." or len(raw) < 12:
        raise AdbError("not an apk v3 (ADB) file")
    if raw[4:8] != schema:
        raise AdbError(f"ADB schema is {raw[4:8]!r}, expected {schema!r}")
    (type_size,) = struct.unpack_from("<I", raw, 8)
    kind, size = type_size >> 30, type_size & 0x3FFFFFFF
    if kind == _BLOCK_EXT:
        raise AdbError("an ADB file whose first block is an extended block is not supported")
    if kind != _BLOCK_ADB or size < 4 + 8 or 8 + size > len(raw):
        raise AdbError("damaged ADB file: the first block is not a whole ADB block")
    return raw[12:8 + size]


def identity(data: bytes) -> bytes:
    """The SHA-256 identity of a ``.apk`` v3 package (what its index entry lists)."""
    return hashlib.sha256(adb_block(data, SCHEMA_PACKAGE)).digest()


class _Reader:
    def __init__(self, block: bytes):
        self.block = block
        if len(block) < 8 or block[0] != 0:  # adb_compat_ver must be 0
            raise AdbError("unsupported ADB version")

    def root(self) -> int:
        return struct.unpack_from("<I", self.block, 4)[0]

    def _at(self, offset: int, size: int) -> bytes:
        if offset + size > len(self.block):
            raise AdbError("damaged ADB file: a value points past its block")
        return self.block[offset:offset + size]

    def slots(self, value: int) -> list[int]:
        """Slots 1..n-1 of an object or array (slot 0 is the count); [] for null."""
        kind, offset = value >> 28, value & 0x0FFFFFFF
        if value == 0:
            return []
        if kind not in (_T_ARRAY, _T_OBJECT):
            raise AdbError(f"damaged ADB file: expected an object, found type {kind:#x}")
        (count,) = struct.unpack("<I", self._at(offset, 4))
        return list(struct.unpack(f"<{count}I", self._at(offset, 4 * count)))[1:]

    def blob(self, value: int) -> bytes | None:
        kind, offset = value >> 28, value & 0x0FFFFFFF
        if kind == _T_SPECIAL and value == 0:
            return None
        width = {_T_BLOB8: 1, _T_BLOB16: 2, _T_BLOB32: 4}.get(kind)
        if width is None:
            raise AdbError(f"damaged ADB file: expected a blob, found type {kind:#x}")
        length = int.from_bytes(self._at(offset, width), "little")
        return self._at(offset + width, length)

    def text(self, value: int) -> str | None:
        raw = self.blob(value)
        return None if raw is None else raw.decode("utf-8", "replace")

    def integer(self, value: int) -> int:
        kind, offset = value >> 28, value & 0x0FFFFFFF
        if kind == _T_SPECIAL:
            return 0
        if kind == _T_INT:
            return offset
        if kind == _T_INT32:
            return struct.unpack("<I", self._at(offset, 4))[0]
        if kind == _T_INT64:
            return struct.unpack("<Q", self._at(offset, 8))[0]
        raise AdbError(f"damaged ADB file: expected an integer, found type {kind:#x}")


def _field(slots: list[int], number: int) -> int:
    return slots[number - 1] if number <= len(slots) else 0


@dataclass(frozen=True)
class AdbDependency:
    name: str
    version: str | None = None
    match: int = 0  # apk's operator bits; 16 marks a conflict ("!name")

    @property
    def conflict(self) -> bool:
        return bool(self.match & MATCH_CONFLICT)


@dataclass(frozen=True)
class AdbPackage:
    name: str
    version: str
    identity: bytes
    arch: str | None
    file_size: int
    depends: tuple[AdbDependency, ...]
    provides: tuple[AdbDependency, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class AdbIndex:
    packages: tuple[AdbPackage, ...]
    pkgname_spec: str | None  # how a package's file is named; None: apk's default


def _dependencies(reader: _Reader, value: int) -> tuple[AdbDependency, ...]:
    deps = []
    for item in reader.slots(value):
        fields = reader.slots(item)
        name = reader.text(_field(fields, DEP_NAME))
        if name is None:
            raise AdbError("damaged ADB index: a dependency has no name")
        deps.append(AdbDependency(name=name, version=reader.text(_field(fields, DEP_VERSION)),
                                  match=reader.integer(_field(fields, DEP_MATCH))))
    return tuple(deps)


def read_index(data: bytes) -> AdbIndex:
    """Parse a ``packages.adb`` (schema ``indx``)."""
    reader = _Reader(adb_block(data, SCHEMA_INDEX))
    root = reader.slots(reader.root())
    packages = []
    for value in reader.slots(_field(root, NDX_PACKAGES)):
        info = reader.slots(value)
        name, version = reader.text(_field(info, PI_NAME)), reader.text(_field(info, PI_VERSION))
        if not name or not version:
            raise AdbError("damaged ADB index: a package has no name or version")
        packages.append(AdbPackage(
            name=name, version=version,
            identity=reader.blob(_field(info, PI_HASHES)) or b"",
            arch=reader.text(_field(info, PI_ARCH)),
            file_size=reader.integer(_field(info, PI_FILE_SIZE)),
            depends=_dependencies(reader, _field(info, PI_DEPENDS)),
            provides=_dependencies(reader, _field(info, PI_PROVIDES)),
            tags=tuple(reader.text(v) or "" for v in reader.slots(_field(info, PI_TAGS))),
        ))
    return AdbIndex(packages=tuple(packages),
                    pkgname_spec=reader.text(_field(root, NDX_PKGNAME_SPEC)))
