"""What routers on real machines need from this host (``nativek8s_doctor_checks``): the
tools that make each lab's login (credentials.py) and, where a hypervisor boots router VMs,
the release files their disks are made from, cached or downloadable, with room for them.

The feeds' packages are only reached through the packages ``sha256sums`` here: which
packages are needed is known once the rootfs is unpacked (image.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from nativek8s.api import Finding, LabContext

from .options import OpenWrtOptions

PLUGIN = "openwrt"


def _tools() -> list[Finding]:
    out = []
    for tool, package in (("ssh-keygen", "openssh-client"), ("openssl", "openssl")):
        found = shutil.which(tool)
        out.append(Finding(PLUGIN, tool, found is not None, found or (
            f"not on PATH: the routers' SSH key and root password are made with it; "
            f"install {package}")))
    return out


def release_files(ctx: LabContext) -> dict[str, Path]:
    """URL → cache folder (relative to the cache root) of what the router disks need."""
    vms = [(router, hypervisor) for router in ctx.plan.routers
           if (hypervisor := ctx.hypervisor_for(router.datacentre)) is not None
           and hypervisor.kernel_boot is not None]  # not netns: it runs BIRD itself
    if not vms:
        return {}
    from .release import SUMS, Release  # the download code: only where routers are VMs

    wanted: dict[str, Path] = {}
    for router, hypervisor in vms:
        options = OpenWrtOptions.model_validate(ctx.plan.options_for(PLUGIN, router.datacentre))
        release = Release(version=ctx.plan.versions["openwrt"], base_url=options.base_url)
        images = ([release.kernel, release.rootfs] if hypervisor.kernel_boot
                  else [release.combined])
        for name in [SUMS, *images]:
            wanted[f"{release.target_url}/{name}"] = release.target_cache
        wanted[f"{release.packages_url}/{SUMS}"] = release.packages_cache
    return wanted


def _images(ctx: LabContext) -> list[Finding]:
    wanted = release_files(ctx)
    if not wanted:
        return []  # no router VMs: no download code imported either
    from nativek8s.api import downloads

    from .release import SUMS

    out, needed, cache = [], 0, None
    for url, folder in wanted.items():
        found = downloads.availability(url, folder)
        cache = cache or found.path.parent
        name = found.path.name
        if name == SUMS:  # the target's or the feeds' checksums
            name = f"{'packages' if 'packages' in folder.parts else 'target'} {SUMS}"
        if found.cached:
            out.append(Finding(PLUGIN, name, True, f"cached at {found.path}"))
        elif found.ok:
            needed += found.size or 0
            out.append(Finding(PLUGIN, name, True, f"not cached; {found.url} answers"))
        else:
            out.append(Finding(PLUGIN, name, False, (
                f"not cached and {found.url} cannot be downloaded ({found.error}); check "
                "options.openwrt.base_url and the network")))
    if needed and cache is not None:
        free = downloads.free_bytes(cache)
        out.append(Finding(PLUGIN, "disk space for router images", free >= needed, (
            f"{free / 2**30:.1f} GiB free under {cache}, {needed / 2**20:.0f} MiB to download "
            "(the routers' disks are unpacked from them beside the lab's state)"
            + ("" if free >= needed else "; free some space or set NATIVEK8S_CACHE_DIR"))))
    return out


def checks(ctx: LabContext) -> list[Finding]:
    if ctx.plan.composition.router != PLUGIN:
        return []
    return _tools() + _images(ctx)
