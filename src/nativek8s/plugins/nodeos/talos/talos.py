"""The `talos` plugin object: renders patches and the talosctl script, prepares boot media
from the Image Factory, and provisions the cluster (see ``provision``)."""

from __future__ import annotations

from typing import Any, ClassVar

from nativek8s.core.kinds import BootMedia, RenderContext, RenderedFile
from nativek8s.core.plan import NodePlan

from . import images
from .disks import disks_of
from .options import node_options
from .render import rendered
from .versions import supported


class Talos:
    name = "talos"
    optional: ClassVar[tuple[str, ...]] = ("boot_media", "deploy_steps")

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return rendered(ctx.plan, disks_of(ctx))

    def boot_media(self, ctx: Any, node: NodePlan, kernel_boot: bool = True,
                   prepare: bool = True) -> BootMedia:
        """Kernel + initramfs + the article's kernel arguments (``media: kernel``, the
        default), or the installer ISO (``media: iso``, or a hypervisor that cannot boot a
        kernel directly, like Proxmox); downloaded once."""
        options = node_options(ctx.plan, node)
        version = supported(ctx.plan.versions["talos"])
        fetch = images.downloads.fetch if prepare else images.planned  # render: paths only
        if options.media == "iso" or not kernel_boot:
            return images.iso_media(options, version, fetch)
        return images.kernel_media(options, version, fetch)

    def iso_media(self, ctx: Any, node: NodePlan) -> BootMedia:
        """The installer ISO whatever ``media`` says (for hypervisors that cannot boot a
        kernel directly)."""
        return images.iso_media(node_options(ctx.plan, node), supported(ctx.plan.versions["talos"]))

    def deploy_steps(self, ctx: Any) -> list[Any]:
        from .provision import Provisioner

        return Provisioner(ctx).steps()
