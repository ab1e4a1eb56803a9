"""The `talos` plugin object. Placeholder until its issue lands: renders nothing."""

from __future__ import annotations

from nativek8s.core.kinds import RenderContext, RenderedFile


class Talos:
    name = "talos"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []
