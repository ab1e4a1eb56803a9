"""Small but complete plugins of every kind, registered in process by tests.

They implement their kind's whole interface (kinds.py) and render a file or two, so the
plugin manager, the registry, composition and `render` can be exercised end to end without
the built-in plugins (which are owned by their own issues).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from nativek8s.core.doctor import Finding
from nativek8s.core.errors import NativeK8sError, Problem
from nativek8s.core.hooks import hookimpl
from nativek8s.core.intent import SpeakerIntent
from nativek8s.core.kinds import (
    BgpDaemon,
    BgpSessionState,
    CNISpec,
    HypervisorSpec,
    NodeOSSpec,
    RenderContext,
    RenderedFile,
    RouterOSSpec,
)
from nativek8s.core.plan import MD5_SECRET


class SampleRouterOptions(BaseModel):
    """`options.sample-router` in a topology."""

    model_config = ConfigDict(extra="forbid")
    firewall: Literal["strict", "open"] = "strict"
    mtu: int = 1500


class SampleHypervisor:
    """Renders only: it refuses to deploy rather than pretend."""

    name = "sample-hv"
    emulates: frozenset[str] = frozenset()

    def preflight(self, ctx) -> None:
        raise NativeK8sError("sample-hv only renders; it cannot deploy")

    def deploy_steps(self, ctx) -> list:
        raise NativeK8sError("sample-hv only renders; it cannot deploy")

    def destroy(self, ctx) -> list[str]:
        return []

    def observer(self, ctx):
        raise NativeK8sError("sample-hv only renders; it has nothing to observe")

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        lines = [f"{n.resource_name} {n.cidr or 'dhcp'}" for n in ctx.plan.networks]
        return [RenderedFile(path="networks.txt", content="\n".join(lines) + "\n")]


class SampleRouter:
    name = "sample-router"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        files = [
            RenderedFile(path=f"{r.name}/peers.txt", machine=r.name, target="/etc/peers",
                         content="".join(f"{s.sides(r.name)[1].address}\n"
                                         for s in ctx.plan.sessions_of(r.name)))
            for r in ctx.plan.routers
        ]
        if ctx.plan.md5:
            files.append(RenderedFile(path="md5.secret", secret=True,
                                      content=ctx.secrets.get(MD5_SECRET)))
        return files

    def bgp_daemon(self, router) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/peers")

    def bgp_sessions(self, router, access) -> list[BgpSessionState]:
        return []


class SampleNodeOS:
    name = "sample-os"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return [RenderedFile(path=f"{n.name}.conf", machine=n.name, content=f"{n.address}\n")
                for n in ctx.plan.nodes]


class SampleCNI:
    name = "sample-cni"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []  # a plugin may render nothing

    def bgp_intent(self, plan) -> list[SpeakerIntent]:
        return []


class HollowRouter:
    """Lacks bgp_daemon and bgp_sessions."""

    name = "hollow"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []


class EscapingRouter(SampleRouter):
    name = "escaping"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return [RenderedFile(path="../outside.txt", content="no")]


class SamplePlugin:
    """One plugin registering one plugin of every kind, plus a topology check."""

    @hookimpl
    def nativek8s_hypervisors(self):
        return [HypervisorSpec(name="sample-hv", factory=SampleHypervisor, description="test")]

    @hookimpl
    def nativek8s_router_oses(self):
        return [RouterOSSpec(name="sample-router", factory=SampleRouter,
                             options=SampleRouterOptions),
                RouterOSSpec(name="hollow", factory=HollowRouter),
                RouterOSSpec(name="escaping", factory=EscapingRouter)]

    @hookimpl
    def nativek8s_node_oses(self):
        return [NodeOSSpec(name="sample-os", factory=SampleNodeOS)]

    @hookimpl
    def nativek8s_cnis(self):
        return [CNISpec(name="sample-cni", factory=SampleCNI)]

    @hookimpl
    def nativek8s_validate_topology(self, topology):
        if topology.plugins.router == "sample-router" and topology.bgp.hold_time > 30:
            return [Problem("bgp.hold_time", "sample-router keeps hold times of 30 s or less; "
                                             "lower bgp.hold_time")]
        return []


    @hookimpl
    def nativek8s_doctor_checks(self, ctx):
        if ctx.plan.composition.router != "sample-router":
            return []
        return [Finding("sample-router", "sample-routerctl", False,
                        "sample-routerctl is not on PATH: install it"),
                Finding("sample-router", "router images", False, "none cached; the first "
                        "deploy downloads them", warning=True)]


SAMPLE_COMPOSITION = ["--hypervisor", "sample-hv", "--router", "sample-router",
                      "--nodeos", "sample-os", "--cni", "sample-cni"]
