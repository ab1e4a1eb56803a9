"""Raw disk image plumbing: unpack a release's ``.img.gz`` and put a root filesystem into a
copy of the release's combined (MBR-partitioned, GRUB-bootable) disk.

OpenWrt appends metadata after the gzip stream of its x86 images, so ``gunzip`` says
"trailing garbage ignored"; :func:`gunzip_sparse` ignores it the same way. Runs of zeros are
left as holes, so an image of a mostly empty 104 MiB filesystem costs little disk.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from .release import ImageError

_CHUNK = 1 << 16
_SECTOR = 512
_GZIP_MAGIC = b"\x1f\x8b"
_ZEROS = bytes(_CHUNK)


class _SparseWriter:
    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.pending = b""

    def write(self, data: bytes) -> None:
        data = self.pending + data
        whole = len(data) - len(data) % _CHUNK
        for pos in range(0, whole, _CHUNK):
            chunk = data[pos:pos + _CHUNK]
            if chunk == _ZEROS:
                self.handle.seek(_CHUNK, 1)
            else:
                self.handle.write(chunk)
        self.pending = data[whole:]

    def close(self) -> None:
        self.handle.write(self.pending)
        self.handle.truncate()  # the file ends where the data ends, even after a hole


def gunzip_sparse(src: Path, dest: Path) -> int:
    """Decompress ``src`` (gzip, possibly several members, then maybe trailing metadata)
    into ``dest``; return the size written."""
    inflater = zlib.decompressobj(31)
    done = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        out = _SparseWriter(fout)
        chunk = fin.read(1 << 20)
        try:
            while chunk:
                data = inflater.decompress(chunk)
                out.write(data)
                done += len(data)
                if not inflater.eof:
                    chunk = fin.read(1 << 20)
                    continue
                rest = inflater.unused_data or fin.read(1 << 20)
                if len(rest) == 1:
                    rest += fin.read(1)
                if not rest.startswith(_GZIP_MAGIC):
                    break  # end of data, or trailing metadata: ignored, as gunzip does
                inflater = zlib.decompressobj(31)  # another gzip member follows
                chunk = rest
        except zlib.error as exc:
            raise ImageError(f"{src} is not a valid gzip file ({exc})") from None
        if not inflater.eof:
            raise ImageError(f"{src} is cut short: its gzip stream does not end")
        out.close()
    return done


def _mbr_entry(mbr: bytes | bytearray, number: int) -> tuple[int, int, int]:
    """(partition type, first sector, sector count) of MBR partition ``number`` (1-4)."""
    offset = 446 + 16 * (number - 1)
    ptype = mbr[offset + 4]
    start, count = struct.unpack_from("<II", mbr, offset + 8)
    return ptype, start, count


def splice_rootfs(disk: Path, rootfs: Path, partition: int = 2) -> None:
    """Write ``rootfs`` over partition ``partition`` of the MBR disk image ``disk``.

    A root filesystem larger than the partition grows the partition (and the disk file)
    when it is the last one, as in OpenWrt's combined images.
    """
    with open(disk, "r+b") as handle:
        mbr = bytearray(handle.read(_SECTOR))
        if len(mbr) < _SECTOR or mbr[510:512] != b"\x55\xaa":
            raise ImageError(f"{disk} has no MBR partition table; use the release's "
                             "generic-ext4-combined image (not the EFI one)")
        if any(_mbr_entry(mbr, n)[0] == 0xEE for n in range(1, 5)):
            raise ImageError(f"{disk} is a GPT disk; use the release's non-EFI "
                             "generic-ext4-combined image")
        ptype, start, count = _mbr_entry(mbr, partition)
        if ptype == 0 or count == 0:
            raise ImageError(f"{disk} has no partition {partition} for the root filesystem")
        needed = -(-rootfs.stat().st_size // _SECTOR)
        if needed > count:
            later = [n for n in range(1, 5) if n != partition and _mbr_entry(mbr, n)[0]
                     and _mbr_entry(mbr, n)[1] > start]
            if later:
                raise ImageError(f"the root filesystem ({needed} sectors) does not fit "
                                 f"partition {partition} of {disk} ({count} sectors), and "
                                 "that partition cannot grow")
            struct.pack_into("<I", mbr, 446 + 16 * (partition - 1) + 12, needed)
            handle.seek(0)
            handle.write(mbr)
            count = needed
        handle.seek(start * _SECTOR)
        with open(rootfs, "rb") as src:
            while chunk := src.read(1 << 20):
                handle.write(chunk)
        end = (start + count) * _SECTOR
        if handle.seek(0, 2) < end:
            handle.truncate(end)
