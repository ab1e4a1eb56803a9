"""A router OS that breaks the plugin contract on purpose, once per check: the conformance
kit must name each broken point."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import BaseModel

from nativek8s.api import (
    MD5_SECRET,
    BgpDaemon,
    Problem,
    RenderContext,
    RenderedFile,
    RouterOS,
    RouterOSSpec,
    hookimpl,
)

_calls = itertools.count()


class SloppyOptions(BaseModel):  # no extra="forbid"; `colour` has no default, `anything` no type
    colour: str
    anything: Any = None


class BrokenRouter(RouterOS):
    name = "broken-wrt"  # not the registered name

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        first = ctx.plan.routers[0]  # forgets every other router
        files = [RenderedFile(path=f"{first.name}/etc/bird.conf", machine=first.name,
                              target="/etc/bird.conf", content=f"# run {next(_calls)}\n"),
                 RenderedFile(path="ghost/notes", machine="ghost", content="?")]
        if ctx.plan.md5:  # the password in a file not marked secret
            files.append(RenderedFile(path=f"{first.name}/etc/password", machine=first.name,
                                      content=ctx.secrets.get(MD5_SECRET)))
        return files

    def bgp_daemon(self, router: Any) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

    def bgp_sessions(self, router: Any, access: Any) -> list[Any]:
        return []


@hookimpl
def nativek8s_router_oses() -> list[RouterOSSpec]:
    return [RouterOSSpec(name="broken", factory=BrokenRouter, options=SloppyOptions)]


@hookimpl
def nativek8s_validate_topology(topology: Any) -> list[Any]:
    if topology.plugins.router != "broken":
        return []
    return [Problem("", "something is wrong somewhere"), "not a problem object",
            Problem("routers.r1", "no such top-level key")]
