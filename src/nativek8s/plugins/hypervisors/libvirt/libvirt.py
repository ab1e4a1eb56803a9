"""The `libvirt` plugin object. Placeholder until its issue lands: renders nothing."""

from __future__ import annotations

from nativek8s.core.kinds import RenderContext, RenderedFile


class Libvirt:
    name = "libvirt"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []
