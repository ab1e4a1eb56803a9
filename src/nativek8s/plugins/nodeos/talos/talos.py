"""The `talos` plugin object: renders patches and the talosctl script, prepares boot media
from the Image Factory, and provisions the cluster (see ``provision``)."""

from __future__ import annotations

from nativek8s.api import (
    BootMedia,
    LabContext,
    NodeOS,
    NodePlan,
    RenderContext,
    RenderedFile,
    Step,
)

from . import images
from .disks import disks_of
from .options import node_options
from .render import rendered
from .versions import supported


class Talos(NodeOS):
    name = "talos"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return rendered(ctx.plan, disks_of(ctx))

    def boot_media(self, ctx: LabContext, node: NodePlan, kernel_boot: bool = True) -> BootMedia:
        """Kernel + initramfs + the article's kernel arguments (``media: kernel``, the
        default), or the installer ISO (``media: iso``, or a hypervisor that cannot boot a
        kernel directly, like Proxmox); downloaded once."""
        return self._media(ctx, node, kernel_boot, images.downloads.fetch)

    def planned_boot_media(self, ctx: RenderContext, node: NodePlan,
                           kernel_boot: bool = True) -> BootMedia:
        """As boot_media, downloading nothing (render: paths only)."""
        return self._media(ctx, node, kernel_boot, images.planned)

    def _media(self, ctx: RenderContext, node: NodePlan, kernel_boot: bool,
               fetch: images.Fetch) -> BootMedia:
        options = node_options(ctx.plan, node)
        version = supported(ctx.plan.versions["talos"])
        if options.media == "iso" or not kernel_boot:
            return images.iso_media(options, version, fetch)
        return images.kernel_media(options, version, fetch)

    def iso_media(self, ctx: RenderContext, node: NodePlan) -> BootMedia:
        """The installer ISO whatever ``media`` says (for hypervisors that cannot boot a
        kernel directly)."""
        return images.iso_media(node_options(ctx.plan, node), supported(ctx.plan.versions["talos"]))

    def access_hint(self, ctx: LabContext, node: NodePlan) -> str:
        """Talos has no shell or SSH: its API, through talosctl, is the way in."""
        ip = node.address.ip
        return (f"{node.name} runs Talos, which has no shell: use talosctl with this lab's "
                f"talosconfig, e.g.\n  talosctl --talosconfig {ctx.state.dir / 'talosconfig'} "
                f"-n {ip} -e {ip} dmesg\n(other commands: services, logs kubelet, get "
                "addresses, get routes, read /proc/net/route)")

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        from .provision import Provisioner

        return Provisioner(ctx).steps()
