"""Boot media from the router and node OS plugins, and the check that it exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nativek8s.core.errors import NativeK8sError, PluginError
from nativek8s.core.kinds import BootMedia
from nativek8s.core.plan import NodePlan, RouterPlan

ROLES = {"router": ("router", "router OS"), "node": ("nodeos", "node OS")}


def os_plugin(plugins: Any, machine: RouterPlan | NodePlan) -> tuple[Any, str]:
    """(the OS plugin of this machine, its title); ``plugins`` is a Selected or a role
    dict (render's)."""
    role, title = ROLES[machine.kind]
    plugin = plugins.get(role) if isinstance(plugins, dict) else getattr(plugins, role)
    return plugin, title


def boot_media(ctx: Any, machine: RouterPlan | NodePlan) -> BootMedia:
    plugin, title = os_plugin(ctx.plugins, machine)
    get = getattr(plugin, "boot_media", None)
    if get is None:
        raise NativeK8sError(f"the {title} plugin {plugin.name!r} cannot provide boot media "
                             f"for VMs yet (it has no boot_media); the libvirt hypervisor "
                             f"needs it")
    media = get(ctx, machine)
    if not isinstance(media, BootMedia):
        raise PluginError(f"the {title} plugin {plugin.name!r} returned {media!r} from "
                          f"boot_media for {machine.name}; expected BootMedia")
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
