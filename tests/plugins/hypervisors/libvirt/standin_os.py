"""Stand-in router and node OS plugins for the libvirt tests.

They stand in for the `openwrt` and `talos` plugins' side of the contract the libvirt
hypervisor uses (``nativek8s.core.kinds``: ``RouterOS.boot_media``, ``NodeOS.boot_media``,
``NodeOS.deploy_steps``): each returns a :class:`BootMedia` built by a function the test
gives, usually small generated files. They render nothing and speak no BGP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import BgpDaemon, BootMedia, NodeOSSpec, RouterOSSpec
from nativek8s.core.plan import Machine

MediaFn = Callable[[Any, Machine], BootMedia]
ROUTER, NODE = "standin-router", "standin-node"


class StandinRouter:
    name = ROUTER

    def __init__(self, media: MediaFn):
        self._media = media

    def render(self, ctx: Any) -> list:
        return []

    def bgp_daemon(self, router: Any) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

    def bgp_sessions(self, router: Any, access: Any) -> list:
        return []

    def boot_media(self, ctx: Any, router: Machine, kernel_boot: bool = True,
                   prepare: bool = True) -> BootMedia:
        return self._media(ctx, router)


class StandinNode:
    name = NODE

    def __init__(self, media: MediaFn):
        self._media = media

    def render(self, ctx: Any) -> list:
        return []

    def boot_media(self, ctx: Any, node: Machine, kernel_boot: bool = True,
                   prepare: bool = True) -> BootMedia:
        return self._media(ctx, node)

    def deploy_steps(self, ctx: Any) -> list:
        return []


class StandinOSes:
    """A pluggy plugin registering both; ``media`` may be swapped between calls."""

    def __init__(self, media: MediaFn):
        self.media = media

    def _call(self, ctx: Any, machine: Machine) -> BootMedia:
        return self.media(ctx, machine)

    @hookimpl
    def nativek8s_router_oses(self) -> list[RouterOSSpec]:
        return [RouterOSSpec(name=ROUTER, factory=lambda: StandinRouter(self._call))]

    @hookimpl
    def nativek8s_node_oses(self) -> list[NodeOSSpec]:
        return [NodeOSSpec(name=NODE, factory=lambda: StandinNode(self._call))]
