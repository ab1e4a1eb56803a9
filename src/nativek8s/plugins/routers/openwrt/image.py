"""A router's own disk: the release's ext4 rootfs with the rendered files, the packages and
a first-boot script baked in, made without mounting and without root.

Per router, in the output folder::

    <router>/rootfs.img      bare ext4 filesystem (direct kernel boot, root=/dev/vda)
    <router>/combined.img    the release's combined MBR disk with that filesystem as
                             partition 2 (boots by itself through GRUB; for Proxmox)
    <router>/disk.json       what the disks were made from; the same inputs reuse them

In the filesystem: every rendered file at its target, a copy of it under
``/root/nativek8s-pkgs/files/<target>``, the packages in ``/root/nativek8s-pkgs/`` and
``/etc/uci-defaults/90-nativek8s``, which installs them at first boot and restores the
copies (installing bird2 may lay its default ``/etc/bird.conf`` over ours).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nativek8s.api import DownloadError, RenderedFile

from .diskimage import gunzip_sparse, splice_rootfs
from .ext4 import Ext4Image, NewFile
from .feeds import parse_apk_installed, parse_opkg_status
from .options import OpenWrtOptions
from .packages import FeedIndexes, FetchedPackage, fetch_indexes, fetch_packages
from .release import (
    APK,
    ImageError,
    Release,
    TargetFiles,
    fetch_target_files,
    layout_for,
)
from .templating import render

FORMAT = "1"  # bump when the disk's contents change for the same inputs
PKGS_DIR = "/root/nativek8s-pkgs"
UCI_DEFAULTS = "/etc/uci-defaults/"
FIRSTBOOT = f"{UCI_DEFAULTS}90-nativek8s"
FIRSTBOOT_LOG = "/root/nativek8s-firstboot.log"
RESTART = ("network", "firewall", "dnsmasq", "bird")
ENABLE = ("bird",)
_MIB = 1 << 20


@dataclass(frozen=True)
class RouterDisk:
    kernel: Path
    rootfs: Path
    combined: Path | None


def _content(f: RenderedFile) -> bytes:
    return f.content.encode() if isinstance(f.content, str) else f.content


def _manifest(release: Release, options: OpenWrtOptions, target: TargetFiles,
              indexes: FeedIndexes, files: Sequence[RenderedFile]) -> dict[str, object]:
    return {
        "format": FORMAT,
        "version": release.version,
        "rootfs": target.rootfs_gz.sha256,
        "indexes": list(indexes.index_sha256),
        "packages": list(options.packages),
        "rootfs_size_mib": options.rootfs_size_mib,
        "files": sorted([f.target or "", f.secret, hashlib.sha256(_content(f)).hexdigest()]
                        for f in files),
    }


def firstboot_script(router: str, manager: str, packages: Sequence[str],
                     targets: Sequence[str]) -> str:
    return render("firstboot.sh.j2", name=FIRSTBOOT.rsplit("/", 1)[-1], router=router,
                  pkgs_dir=PKGS_DIR, log=FIRSTBOOT_LOG, manager=manager,
                  packages=list(packages), files=list(targets), enable=ENABLE,
                  restart=RESTART)


def _installed(image: Ext4Image, release: Release) -> set[str]:
    db = image.read(release.layout.installed_db)
    if db is None:
        return set()
    text = db.decode("utf-8", "replace")
    return parse_apk_installed(text) if release.layout is APK else parse_opkg_status(text)


def _image_files(router: str, release: Release, files: Sequence[RenderedFile],
                 packages: Sequence[FetchedPackage]) -> list[NewFile]:
    new: list[NewFile] = []
    targets = []
    for f in files:
        if not f.target:
            continue
        mode = 0o600 if f.secret else 0o644
        new.append(NewFile(f.target, _content(f), mode))
        if f.target.startswith(UCI_DEFAULTS):
            continue  # a one-shot script: OpenWrt deletes it once run; never put it back
        new.append(NewFile(f"{PKGS_DIR}/files{f.target}", _content(f), mode))
        targets.append(f.target)
    names = []
    for pkg in packages:
        name = pkg.file.path.name
        new.append(NewFile(f"{PKGS_DIR}/{name}", pkg.file.path.read_bytes(), 0o644))
        names.append(name)
    script = firstboot_script(router, release.layout.name, names, targets)
    new.append(NewFile(FIRSTBOOT, script.encode(), 0o755))
    return new


def _build_rootfs(router: str, release: Release, options: OpenWrtOptions,
                  target: TargetFiles, indexes: FeedIndexes,
                  files: Sequence[RenderedFile], dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    try:
        gunzip_sparse(target.rootfs_gz.path, tmp)
        image = Ext4Image(tmp)
        packages = fetch_packages(release, options.packages, _installed(image, release),
                                  indexes)
        new = _image_files(router, release, files, packages)
        if options.rootfs_size_mib:
            image.grow_to(options.rootfs_size_mib * _MIB)
        image.ensure_room(new)
        image.put(new)
        image.check()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _build_combined(target: TargetFiles, rootfs: Path, dest: Path) -> None:
    assert target.combined_gz is not None
    tmp = dest.with_name(dest.name + ".part")
    try:
        gunzip_sparse(target.combined_gz.path, tmp)
        splice_rootfs(tmp, rootfs)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _read_record(path: Path) -> dict[str, object]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def build_router_disk(router: str, release: Release, options: OpenWrtOptions,
                      files: Sequence[RenderedFile], out_dir: Path, *, combined: bool = False,
                      echo: Callable[[str], None] | None = None) -> RouterDisk:
    """Make (or reuse) the router's disk from the release and its rendered files."""
    layout_for(release.version)  # refuse an unsupported version before downloading anything
    folder = out_dir / router
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    rootfs, combined_img, record = (folder / "rootfs.img", folder / "combined.img",
                                    folder / "disk.json")
    try:
        target = fetch_target_files(release, combined=combined)
        indexes = fetch_indexes(release)
    except DownloadError as exc:
        raise ImageError(str(exc)) from None
    manifest = _manifest(release, options, target, indexes, files)
    previous = _read_record(record)
    if previous.get("rootfs") != manifest or not rootfs.exists():
        if echo:
            echo(f"openwrt: making the disk of {router} (OpenWrt {release.version})")
        record.unlink(missing_ok=True)
        combined_img.unlink(missing_ok=True)
        try:
            _build_rootfs(router, release, options, target, indexes, files, rootfs)
        except DownloadError as exc:
            raise ImageError(str(exc)) from None
        previous = {"rootfs": manifest}
        record.write_text(json.dumps(previous, indent=1))
    combined_sha = target.combined_gz.sha256 if target.combined_gz else None
    if combined_sha and (previous.get("combined") != combined_sha or not combined_img.exists()):
        _build_combined(target, rootfs, combined_img)
        previous["combined"] = combined_sha
        record.write_text(json.dumps(previous, indent=1))
    return RouterDisk(kernel=target.kernel.path, rootfs=rootfs,
                      combined=combined_img if combined else None)
