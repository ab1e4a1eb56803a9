"""The `cilium` plugin object. Placeholder until its issue lands: renders nothing."""

from __future__ import annotations

from nativek8s.core.kinds import RenderContext, RenderedFile


class Cilium:
    name = "cilium"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []
