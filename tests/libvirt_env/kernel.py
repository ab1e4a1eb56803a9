"""What the stand-in guest builder needs to know about a Debian kernel package's files.

- Module dependencies come from each module's ``.modinfo`` ELF section (``depends=``):
  Debian's package ships no ``modules.dep`` (``depmod`` runs at install time).
- ``extract_vmlinux`` unpacks the ELF kernel from the bzImage. QEMU boots an ELF kernel that
  carries a PVH entry note (``CONFIG_PVH=y`` in Debian's kernel) without the real-mode setup
  and without decompressing the kernel under TCG, which saves ~4 s per guest boot here.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

_PT_NOTE = 4
_XEN_ELFNOTE_PHYS32_ENTRY = 18  # the PVH entry point QEMU looks for


def _check_elf64(data: bytes) -> None:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian object")


def modinfo(ko: bytes) -> dict[str, str]:
    """The key=value strings of a kernel module's ``.modinfo`` section (first value wins)."""
    _check_elf64(ko)
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


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF kernel inside a bzImage (XZ or gzip payload, as ``extract-vmlinux`` finds it:
    try each compression magic until one decompresses to an ELF)."""
    candidates = ((b"\xfd7zXZ\x00", lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)),
                  (b"\x1f\x8b\x08", lambda: zlib.decompressobj(31)))
    for magic, decompressor in candidates:
        start = bzimage.find(magic)
        while start != -1:
            try:
                data = decompressor().decompress(bzimage[start:])
            except (lzma.LZMAError, zlib.error):
                data = b""
            if data[:4] == b"\x7fELF":
                return data
            start = bzimage.find(magic, start + 1)
    raise ValueError("no XZ or gzip compressed ELF kernel found in the bzImage")


def _notes(elf: bytes) -> Iterator[tuple[bytes, int, bytes]]:
    _check_elf64(elf)
    e_phoff, = struct.unpack_from("<Q", elf, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", elf, 0x36)
    for index in range(e_phnum):
        base = e_phoff + index * e_phentsize
        p_type, = struct.unpack_from("<I", elf, base)
        if p_type != _PT_NOTE:
            continue
        p_offset, = struct.unpack_from("<Q", elf, base + 0x08)
        p_filesz, = struct.unpack_from("<Q", elf, base + 0x20)
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name_start = pos + 12
            desc_start = name_start + (namesz + 3) // 4 * 4
            yield (elf[name_start:name_start + namesz].rstrip(b"\0"), ntype,
                   elf[desc_start:desc_start + descsz])
            pos = desc_start + (descsz + 3) // 4 * 4


def has_pvh_entry(elf: bytes) -> bool:
    return any(name == b"Xen" and ntype == _XEN_ELFNOTE_PHYS32_ENTRY
               for name, ntype, _ in _notes(elf))
