"""The `proxmox` plugin object. Placeholder until its issue lands: renders nothing."""

from __future__ import annotations

from nativek8s.core.kinds import RenderContext, RenderedFile


class Proxmox:
    name = "proxmox"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []
