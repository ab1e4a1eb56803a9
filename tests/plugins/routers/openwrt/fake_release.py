"""A small fake OpenWrt x86-64 release tree, laid out as downloads.openwrt.org lays out a
real one, served over HTTP by tests.support.http_site.

The tree (see nativek8s.plugins.routers.openwrt.release for the real layout)::

    releases/<ver>/targets/x86/64/{sha256sums, *-generic-kernel.bin,
                                   *-generic-ext4-rootfs.img.gz, *-generic-ext4-combined.img.gz}
    releases/<ver>/packages/x86_64/{sha256sums, base/, packages/, routing/}

The rootfs is a real ext4 filesystem made with ``mkfs.ext4 -d`` and gzipped with metadata
appended after the gzip stream, as OpenWrt does; the combined image is an MBR disk whose
second partition holds it. Packages are real archives in their format (an .ipk is a gzipped
tar of debian-binary, control.tar.gz and data.tar.gz; an .apk a v3 ADB package) whose
contents are never run. Feeds: bird2 and bird2c in routing, their libraries in base; the
rootfs records libc and terminfo as installed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from . import adb_writer

FS_MIB = 4
SECTOR = 512
BOOT_SECTORS = 2048  # partition 1 (GRUB and kernel in a real image) from sector 2048

# name: (feed, version, depends, provides)
PACKAGES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "bird2": ("routing", "2.15.1-1", ["libc", "libpthread"], []),
    "bird2c": ("routing", "2.15.1-1", ["libc", "bird2", "libreadline8", "libncurses6"], []),
    "bird2cl": ("routing", "2.15.1-1", ["libc", "bird2"], []),
    "libpthread": ("base", "1.2.4-4", ["libc"], []),
    "libreadline8": ("base", "8.2-1", ["libc", "libncurses6"], ["libreadline"]),
    "libncurses6": ("base", "6.4-2", ["libc", "terminfo"], ["libncurses"]),
    "terminfo": ("base", "6.4-2", ["libc"], []),
    "tcpdump": ("packages", "4.99.4-1", ["libc", "libpcap1"], []),
}
INSTALLED = ("libc", "terminfo")
# What bird2 + bird2c need beyond the rootfs, dependencies first.
EXPECTED_ORDER = ["libpthread", "bird2", "libncurses6", "libreadline8", "bird2c"]


def apk_version(version: str) -> str:
    """apk writes the package release as -rN where opkg writes -N."""
    return version.replace("-", "-r")


def _tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def ipk(name: str, version: str, depends: list[str], payload: bytes = b"") -> bytes:
    control = (f"Package: {name}\nVersion: {version}\nDepends: {', '.join(depends)}\n"
               "Architecture: x86_64\n").encode()
    return _tar_gz({
        "./debian-binary": b"2.0\n",
        "./control.tar.gz": _tar_gz({"./control": control}),
        "./data.tar.gz": _tar_gz({f"./usr/sbin/{name}": b"#!/bin/sh\n" + payload}),
    })


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_sums(folder: Path) -> None:
    """``sha256sums`` over every file below ``folder``, as OpenWrt's buildbot writes it."""
    lines = [f"{sha256(p.read_bytes())} *{p.relative_to(folder).as_posix()}"
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "sha256sums"]
    (folder / "sha256sums").write_text("\n".join(lines) + "\n")


def mbr_disk(partitions: list[tuple[int, bytes]]) -> bytes:
    """A disk image with an MBR listing (first sector, content) partitions of type 0x83."""
    mbr = bytearray(SECTOR)
    struct.pack_into("<I", mbr, 440, 0x5452574F)  # disk signature (GRUB's PARTUUID)
    end = 1
    for n, (start, data) in enumerate(partitions):
        count = -(-len(data) // SECTOR)
        entry = 446 + 16 * n
        mbr[entry] = 0x80 if n == 0 else 0
        mbr[entry + 4] = 0x83
        struct.pack_into("<II", mbr, entry + 8, start, count)
        end = max(end, start + count)
    mbr[510:512] = b"\x55\xaa"
    disk = bytearray(end * SECTOR)
    disk[:SECTOR] = mbr
    for start, data in partitions:
        disk[start * SECTOR:start * SECTOR + len(data)] = data
    return bytes(disk)


@dataclass
class FakeRelease:
    root: Path  # serves releases/... from here
    version: str
    manager: str  # "opkg" or "apk"
    kernel: bytes = b""
    package_files: dict[str, bytes] = field(default_factory=dict)  # name -> served bytes
    rootfs_img: bytes = b""
    boot_partition: bytes = b""

    @property
    def target_dir(self) -> Path:
        return self.root / "releases" / self.version / "targets" / "x86" / "64"

    @property
    def arch_dir(self) -> Path:
        return self.root / "releases" / self.version / "packages" / "x86_64"

    def file_name(self, kind: str) -> str:
        return f"openwrt-{self.version}-x86-64-generic-{kind}"

    def package_path(self, name: str) -> Path:
        feed, version = PACKAGES[name][:2]
        if self.manager == "opkg":
            return self.arch_dir / feed / f"{name}_{version}_x86_64.ipk"
        return self.arch_dir / feed / f"{name}-{apk_version(version)}.apk"


def _rootfs_tree(tree: Path, manager: str) -> None:
    for folder in ("etc/config", "etc/uci-defaults", "etc/init.d", "root", "tmp",
                   "usr/lib/opkg", "lib/apk/db"):
        (tree / folder).mkdir(parents=True, exist_ok=True)
    (tree / "var").symlink_to("tmp")
    (tree / "etc/config/network").write_text("config interface 'loopback'\n")
    (tree / "etc/openwrt_release").write_text("DISTRIB_ID='OpenWrt'\n")
    if manager == "opkg":
        (tree / "usr/lib/opkg/status").write_text("".join(
            f"Package: {name}\nVersion: 1\nStatus: install ok installed\n"
            f"Architecture: x86_64\n\n" for name in INSTALLED))
    else:
        (tree / "lib/apk/db/installed").write_text("".join(
            f"C:Q1abc=\nP:{name}\nV:1\nA:x86_64\np:so:{name}.so\n\n" for name in INSTALLED))


def make_rootfs(work: Path, manager: str) -> bytes:
    tree = work / "rootfs-tree"
    _rootfs_tree(tree, manager)
    image = work / "rootfs.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), "-L", "rootfs", "-b", "1024",
                    "-E", "root_owner=0:0", str(image), f"{FS_MIB}M"], check=True,
                   capture_output=True)
    return image.read_bytes()


def _opkg_feeds(rel: FakeRelease) -> None:
    stanzas: dict[str, list[str]] = {}
    for name, (feed, version, depends, provides) in PACKAGES.items():
        data = ipk(name, version, depends)
        path = rel.package_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rel.package_files[name] = data
        extra = f"Provides: {', '.join(provides)}\n" if provides else ""
        stanzas.setdefault(feed, []).append(
            f"Package: {name}\nVersion: {version}\nDepends: {', '.join(depends)}\n{extra}"
            f"Section: net\nArchitecture: x86_64\nInstalled-Size: 100\nFilename: {path.name}\n"
            f"Size: {len(data)}\nSHA256sum: {sha256(data)}\nDescription: {name} package\n"
            " continued description line\n")
    for feed, entries in stanzas.items():
        text = "\n".join(entries)
        (rel.arch_dir / feed / "Packages").write_text(text)
        (rel.arch_dir / feed / "Packages.gz").write_bytes(gzip.compress(text.encode()))


def _apk_feeds(rel: FakeRelease) -> None:
    per_feed: dict[str, list[tuple[adb_writer.ApkInfo, bytes, int]]] = {}
    for name, (feed, version, depends, provides) in PACKAGES.items():
        # apk names ABI-versioned libraries by what they provide; depend on those names.
        deps = [d.rstrip("0123456789") if d.startswith("lib") and d != "libc" else d
                for d in depends]
        info = adb_writer.ApkInfo(name, apk_version(version), deps, provides)
        data, ident = adb_writer.package(info)
        path = rel.package_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rel.package_files[name] = data
        per_feed.setdefault(feed, []).append((info, ident, len(data)))
    for feed, entries in per_feed.items():
        (rel.arch_dir / feed / "packages.adb").write_bytes(adb_writer.index(entries))


def make_release(root: Path, version: str, work: Path) -> FakeRelease:
    manager = "apk" if version.startswith("25.") else "opkg"
    rel = FakeRelease(root=root, version=version, manager=manager)
    rel.target_dir.mkdir(parents=True)
    rel.kernel = b"bzImage " + version.encode() + bytes(1000)
    (rel.target_dir / rel.file_name("kernel.bin")).write_bytes(rel.kernel)
    rel.rootfs_img = make_rootfs(work, manager)
    metadata = b'{"metadata_version": "1.1", "compat_version": "1.0"}FWx0'  # as fwtool appends
    (rel.target_dir / rel.file_name("ext4-rootfs.img.gz")).write_bytes(
        gzip.compress(rel.rootfs_img) + metadata)
    rel.boot_partition = b"GRUB" + bytes(SECTOR * 16 - 4)
    combined = mbr_disk([(BOOT_SECTORS, rel.boot_partition),
                         (BOOT_SECTORS + 64, rel.rootfs_img)])
    (rel.target_dir / rel.file_name("ext4-combined.img.gz")).write_bytes(
        gzip.compress(combined) + metadata)
    write_sums(rel.target_dir)
    (_apk_feeds if manager == "apk" else _opkg_feeds)(rel)
    write_sums(rel.arch_dir)
    return rel

