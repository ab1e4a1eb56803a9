"""What a deploy with Talos nodes needs from this host (``nativek8s_doctor_checks``):
talosctl of the nodes' minor version, and the boot media each node's hypervisor boots
(kernel + initramfs, or the installer ISO) cached or downloadable, with room for them."""

from __future__ import annotations

from pathlib import Path

from nativek8s.api import Finding, LabContext, NativeK8sError, downloads, role_is_deployed

from . import images
from .options import PLUGIN, node_options, options_of
from .talosctl import Talosctl
from .versions import supported


def _talosctl(ctx: LabContext) -> Finding:
    version = supported(ctx.plan.versions["talos"])
    options = options_of(ctx.plan)
    try:
        tool = Talosctl.find(options.talosctl, version, options.command_timeout)
        have = tool.check_version(version)
    except NativeK8sError as exc:
        return Finding(PLUGIN, "talosctl", False, str(exc))
    return Finding(PLUGIN, "talosctl", True, f"{have.tag} at {tool.executable}")


def media_urls(ctx: LabContext) -> dict[str, str]:
    """URL → cache folder of every file the nodes boot from, as their hypervisors boot."""
    version = supported(ctx.plan.versions["talos"])
    wanted: dict[str, str] = {}

    def record(url: str, dest_dir: str, **_: object) -> downloads.CachedFile:
        wanted[url] = dest_dir
        return images.planned(url, dest_dir)

    for node in ctx.plan.nodes:
        options = node_options(ctx.plan, node)
        hypervisor = ctx.hypervisor_for(node.datacentre)
        if options.media == "iso" or (hypervisor is not None
                                       and hypervisor.kernel_boot is False):
            images.iso_media(options, version, record)
        else:
            images.kernel_media(options, version, record)
    return wanted


def _media(ctx: LabContext) -> list[Finding]:
    out, needed, cache = [], 0, None
    for url, folder in media_urls(ctx).items():
        found = downloads.availability(url, folder)
        name = found.path.name
        cache = found.path.parent
        if found.cached:
            out.append(Finding(PLUGIN, name, True, f"cached at {found.path}"))
        elif found.ok:
            needed += found.size or 0
            size = f" ({found.size / 2**20:.0f} MiB)" if found.size else ""
            out.append(Finding(PLUGIN, name, True, f"not cached; {found.url} answers{size}"))
        else:
            out.append(Finding(PLUGIN, name, False, (
                f"not cached and {found.url} cannot be downloaded ({found.error}); check "
                f"options.talos.factory_url and the network, or put the file at {found.path}")))
    if needed and cache is not None:
        free = downloads.free_bytes(Path(cache))
        out.append(Finding(PLUGIN, "disk space for images", free >= needed, (
            f"{free / 2**30:.1f} GiB free under {cache}, {needed / 2**20:.0f} MiB to download"
            + ("" if free >= needed else "; free some space or set NATIVEK8S_CACHE_DIR"))))
    return out


def checks(ctx: LabContext) -> list[Finding]:
    if ctx.plan.composition.nodeos != PLUGIN or not role_is_deployed(ctx, "nodeos"):
        return []
    return [_talosctl(ctx), *_media(ctx)]
