"""Boot media from the router and node OS plugins, and the check that it exists."""

from __future__ import annotations

from pathlib import Path

from nativek8s.api import (
    BootMedia,
    LabContext,
    NativeK8sError,
    NodePlan,
    PluginError,
    RenderContext,
    RouterPlan,
    Unsupported,
    os_plugin_of,
)

NEEDED_BY = "the libvirt hypervisor needs it"


def boot_media(ctx: LabContext, machine: RouterPlan | NodePlan) -> BootMedia:
    """The machine's media from its OS plugin, made now (downloads, images)."""
    plugin = os_plugin_of(ctx.plugins, machine)
    try:
        media = (ctx.plugins.router.boot_media(ctx, machine) if isinstance(machine, RouterPlan)
                 else ctx.plugins.nodeos.boot_media(ctx, machine))
    except Unsupported as exc:
        raise NativeK8sError(f"{exc}; {NEEDED_BY}") from exc
    return _checked(media, plugin.name, plugin.kind_title, machine)


def planned_media(ctx: RenderContext, machine: RouterPlan | NodePlan) -> BootMedia | None:
    """Where the machine's media will be (render), or None if its OS plugin cannot say."""
    plugin = os_plugin_of(ctx.plugins, machine)
    try:
        media = (ctx.plugins.router.planned_boot_media(ctx, machine)
                 if isinstance(machine, RouterPlan)
                 else ctx.plugins.nodeos.planned_boot_media(ctx, machine))
    except Unsupported:
        return None
    return _checked(media, plugin.name, plugin.kind_title, machine)


def media_problems(ctx: RenderContext) -> list[str]:
    """Each OS plugin that cannot provide boot media, said once (preflight)."""
    problems = []
    for machines in (ctx.plan.routers, ctx.plan.nodes):
        if machines:
            try:
                _probe(ctx, machines[0])
            except Unsupported:
                plugin = os_plugin_of(ctx.plugins, machines[0])
                problems.append(f"the {plugin.kind_title} plugin {plugin.name!r} cannot "
                                "provide boot media for virtual machines (it does not "
                                f"implement boot_media); {NEEDED_BY}")
    return problems


def _probe(ctx: RenderContext, machine: RouterPlan | NodePlan) -> None:
    if isinstance(machine, RouterPlan):
        ctx.plugins.router.planned_boot_media(ctx, machine)
    else:
        ctx.plugins.nodeos.planned_boot_media(ctx, machine)


def _checked(media: object, plugin: str, title: str,
             machine: RouterPlan | NodePlan) -> BootMedia:
    if not isinstance(media, BootMedia):
        raise PluginError(f"the {title} plugin {plugin!r} returned {media!r} as boot media "
                          f"for {machine.name}; expected BootMedia")
    return media


def missing_files(media: BootMedia) -> list[str]:
    """Files the media names that do not exist here."""
    paths = {"kernel": media.kernel, "initrd": media.initrd, "disk image": media.disk,
             "ISO": media.iso}
    return [f"{what} {path}" for what, path in paths.items()
            if path is not None and not Path(path).is_file()]


def require_files(media: BootMedia, machine: RouterPlan | NodePlan, plugin_name: str) -> None:
    missing = missing_files(media)
    if missing:
        raise NativeK8sError(f"{machine.name}: boot media from {plugin_name!r} is missing: "
                             f"{'; '.join(missing)}; prepare the images again (check the "
                             f"cache folder) and rerun")
