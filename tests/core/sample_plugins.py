"""Small but complete plugins of every kind, registered in process by tests.

They implement their kind's required members (nativek8s.api) and render a file or two, so
the plugin manager, the registry, composition and `render` can be exercised end to end
without the built-in plugins. Written against `nativek8s.api` only, as a third party would.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from nativek8s.api import (
    CNI,
    MD5_SECRET,
    BgpDaemon,
    BgpSessionState,
    CNISpec,
    Finding,
    Hypervisor,
    HypervisorSpec,
    LabContext,
    MachineAccess,
    NativeK8sError,
    NodeOS,
    NodeOSSpec,
    Observer,
    Plan,
    Problem,
    RenderContext,
    RenderedFile,
    RouterOS,
    RouterOSSpec,
    RouterPlan,
    SpeakerIntent,
    Step,
    Topology,
    hookimpl,
)


class SampleRouterOptions(BaseModel):
    """`options.sample-router` in a topology."""

    model_config = ConfigDict(extra="forbid")
    firewall: Literal["strict", "open"] = "strict"
    mtu: int = 1500


class SampleHypervisor(Hypervisor):
    """Renders only: it refuses to deploy rather than pretend."""

    name = "sample-hv"

    def preflight(self, ctx: LabContext) -> None:
        raise NativeK8sError("sample-hv only renders; it cannot deploy")

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        raise NativeK8sError("sample-hv only renders; it cannot deploy")

    def destroy(self, ctx: LabContext) -> list[str]:
        return []

    def observer(self, ctx: LabContext) -> Observer:
        raise NativeK8sError("sample-hv only renders; it has nothing to observe")

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        lines = [f"{n.resource_name} {n.cidr or 'dhcp'}" for n in ctx.plan.networks]
        return [RenderedFile(path="networks.txt", content="\n".join(lines) + "\n")]


class SampleRouter(RouterOS):
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

    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/peers")

    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        return []


class SampleNodeOS(NodeOS):
    name = "sample-os"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return [RenderedFile(path=f"{n.name}.conf", machine=n.name, content=f"{n.address}\n")
                for n in ctx.plan.nodes]


class SampleCNI(CNI):
    name = "sample-cni"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        return []  # a plugin may render nothing

    def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]:
        return []


class HollowRouter(RouterOS):
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
    def nativek8s_hypervisors(self) -> list[HypervisorSpec]:
        return [HypervisorSpec(name="sample-hv", factory=SampleHypervisor, description="test")]

    @hookimpl
    def nativek8s_router_oses(self) -> list[RouterOSSpec]:
        return [RouterOSSpec(name="sample-router", factory=SampleRouter,
                             options=SampleRouterOptions),
                RouterOSSpec(name="hollow", factory=HollowRouter),
                RouterOSSpec(name="escaping", factory=EscapingRouter)]

    @hookimpl
    def nativek8s_node_oses(self) -> list[NodeOSSpec]:
        return [NodeOSSpec(name="sample-os", factory=SampleNodeOS)]

    @hookimpl
    def nativek8s_cnis(self) -> list[CNISpec]:
        return [CNISpec(name="sample-cni", factory=SampleCNI)]

    @hookimpl
    def nativek8s_validate_topology(self, topology: Topology) -> list[Problem]:
        if topology.plugins.router == "sample-router" and topology.bgp.hold_time > 30:
            return [Problem("bgp.hold_time", "sample-router keeps hold times of 30 s or less; "
                                             "lower bgp.hold_time")]
        return []

    @hookimpl
    def nativek8s_doctor_checks(self, ctx: LabContext) -> list[Finding]:
        if ctx.plan.composition.router != "sample-router":
            return []
        return [Finding("sample-router", "sample-routerctl", False,
                        "sample-routerctl is not on PATH: install it"),
                Finding("sample-router", "router images", False, "none cached; the first "
                        "deploy downloads them", warning=True)]


SAMPLE_COMPOSITION = ["--hypervisor", "sample-hv", "--router", "sample-router",
                      "--nodeos", "sample-os", "--cni", "sample-cni"]
