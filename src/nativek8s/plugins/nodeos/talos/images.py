"""Talos boot media from the Image Factory: kernel + initramfs (direct kernel boot) or the
ISO, downloaded once into the verified cache; and the installer image of the same schematic.

Factory layout (docs/nodeos/talos.md): ``<factory>/image/<schematic>/<version>/``
serves ``kernel-amd64``, ``initramfs-amd64.xz`` and ``metal-amd64.iso``; the installer is
``<factory host>/installer/<schematic>:<version>``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from nativek8s.api import BootMedia, NativeK8sError, downloads

from .options import TalosOptions
from .versions import TalosVersion

KERNEL = "kernel-amd64"
INITRAMFS = "initramfs-amd64.xz"
ISO = "metal-amd64.iso"

# The article's kernel arguments for a Talos VM booted from the Factory kernel.
ARTICLE_KERNEL_ARGS = (
    "talos.platform=metal", "console=ttyS0", "console=tty0", "init_on_alloc=1",
    "slab_nomerge", "pti=on", "consoleblank=0", "nvme_core.io_timeout=4294967295",
    "printk.devkmsg=on", "ima_template=ima-ng", "ima_appraise=fix", "ima_hash=sha512",
)

Fetch = Callable[..., downloads.CachedFile]


def asset_url(options: TalosOptions, version: TalosVersion, asset: str) -> str:
    base = options.factory_url.rstrip("/")
    return f"{base}/image/{options.schematic}/{version.tag}/{asset}"


def installer_image(options: TalosOptions, version: TalosVersion) -> str:
    """The installer to pin in the machine config (same schematic as the boot media)."""
    if options.install_image:
        return options.install_image
    registry = urllib.parse.urlsplit(options.factory_url).netloc
    return f"{registry}/installer/{options.schematic}:{version.tag}"


def cmdline(options: TalosOptions) -> str:
    return " ".join((*ARTICLE_KERNEL_ARGS, *options.kernel_args))


def cache_dir(options: TalosOptions, version: TalosVersion) -> str:
    """Relative to the cache root: one folder per schematic and version."""
    return f"talos/{options.schematic}/{version.tag}"


def download(options: TalosOptions, version: TalosVersion, asset: str,
             fetch: Fetch = downloads.fetch) -> downloads.CachedFile:
    try:
        return fetch(asset_url(options, version, asset), cache_dir(options, version),
                     expected_sha256=options.checksums.get(asset))
    except downloads.DownloadError as exc:
        raise NativeK8sError(
            f"Talos {version} boot media (schematic {options.schematic[:12]}…): {exc}") from None


def planned(url: str, dest_dir: str, **_: object) -> downloads.CachedFile:
    """A Fetch that fetches nothing: where the file will be (for rendered VM definitions)."""
    return downloads.CachedFile(path=downloads.cached_path(url, dest_dir), sha256="", size=0)


def kernel_media(options: TalosOptions, version: TalosVersion,
                 fetch: Fetch = downloads.fetch) -> BootMedia:
    kernel = download(options, version, KERNEL, fetch)
    initrd = download(options, version, INITRAMFS, fetch)
    return BootMedia(kernel=kernel.path, initrd=initrd.path, cmdline=cmdline(options),
                     disk_size_gib=options.disk_size_gib)


def iso_media(options: TalosOptions, version: TalosVersion,
              fetch: Fetch = downloads.fetch) -> BootMedia:
    # The Factory ISO boots with its own kernel arguments; none can be added here.
    iso = download(options, version, ISO, fetch)
    return BootMedia(iso=iso.path, disk_size_gib=options.disk_size_gib)
