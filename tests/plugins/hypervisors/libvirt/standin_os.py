"""Stand-in router and node OS plugins for the libvirt tests.

They stand in for the `openwrt` and `talos` plugins' side of the contract the libvirt
hypervisor uses (``RouterOS.boot_media``, ``NodeOS.boot_media``, their
``planned_boot_media`` and ``NodeOS.deploy_steps``): each returns a :class:`BootMedia`
built by a function the test gives, usually small generated files. They render nothing and speak no BGP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nativek8s.api import (
    BgpDaemon,
    BgpSessionState,
    BootMedia,
    LabContext,
    Machine,
    MachineAccess,
    NodeOS,
    NodeOSSpec,
    NodePlan,
    RenderContext,
    RouterOS,
    RouterOSSpec,
    RouterPlan,
    Step,
    hookimpl,
)

MediaFn = Callable[[Any, Machine], BootMedia]
ROUTER, NODE = "standin-router", "standin-node"


class StandinRouter(RouterOS):
    name = ROUTER

    def __init__(self, media: MediaFn):
        self._media = media

    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        return []

    def boot_media(self, ctx: LabContext, router: RouterPlan,
                   kernel_boot: bool = True) -> BootMedia:
        return self._media(ctx, router)

    def planned_boot_media(self, ctx: RenderContext, router: RouterPlan,
                           kernel_boot: bool = True) -> BootMedia:
        return self._media(ctx, router)


class StandinNode(NodeOS):
    name = NODE

    def __init__(self, media: MediaFn):
        self._media = media

    def boot_media(self, ctx: LabContext, node: NodePlan, kernel_boot: bool = True) -> BootMedia:
        return self._media(ctx, node)

    def planned_boot_media(self, ctx: RenderContext, node: NodePlan,
                           kernel_boot: bool = True) -> BootMedia:
        return self._media(ctx, node)

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
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
