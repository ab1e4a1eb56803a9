"""What deploy renders: each plugin once a run (the files a preflight rendered are kept),
and nothing of a role the hypervisor emulates, whose plugin is not even created."""

from __future__ import annotations

import pytest

from nativek8s.api import (
    CNISpec,
    HypervisorSpec,
    LabContext,
    MachineStatus,
    NodeOSSpec,
    Observer,
    RenderContext,
    RenderedFile,
    RouterOSSpec,
    Step,
    UsageError,
    hookimpl,
)
from nativek8s.core.engine.lab import deploy
from nativek8s.core.engine.state import LabState
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan
from nativek8s.core.registry import Registry, make_plugin_manager
from tests.core.sample_plugins import SampleHypervisor, SampleRouter

RENDERS: list[str] = []  # plugin names, one per render call


class Unobservable(Observer):
    unverifiable = "a test lab has nothing to look at"

    def machines(self) -> list[MachineStatus]:
        return []


class EmulatingHypervisor(SampleHypervisor):
    """Like netns: plays the node OS and the CNI itself, and its preflight reads the router
    OS's files (kept in the context, as netns does); deploys nothing."""

    name = "emu-hv"
    emulates = frozenset({"nodeos", "cni"})

    def preflight(self, ctx: LabContext) -> None:
        router = ctx.plugins.router
        if router.name not in ctx.rendered:
            ctx.rendered[router.name] = router.render(ctx)

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        return []

    def observer(self, ctx: LabContext) -> Observer:
        return Unobservable()

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        RENDERS.append(self.name)
        return super().render(ctx)


class CountingRouter(SampleRouter):
    name = "count-router"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        RENDERS.append(self.name)
        return super().render(ctx)


def never(role: str):
    def factory():
        raise AssertionError(f"the emulated {role} plugin was created")
    return factory


class Plugins:
    @hookimpl
    def nativek8s_hypervisors(self) -> list[HypervisorSpec]:
        return [HypervisorSpec(name="emu-hv", factory=EmulatingHypervisor)]

    @hookimpl
    def nativek8s_router_oses(self) -> list[RouterOSSpec]:
        return [RouterOSSpec(name="count-router", factory=CountingRouter)]

    @hookimpl
    def nativek8s_node_oses(self) -> list[NodeOSSpec]:
        return [NodeOSSpec(name="never-os", factory=never("nodeos"))]

    @hookimpl
    def nativek8s_cnis(self) -> list[CNISpec]:
        return [CNISpec(name="never-cni", factory=never("cni"))]


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path))
    RENDERS.clear()
    reg = Registry(make_plugin_manager([Plugins()]))
    topo, _ = load_topology(None, reg, hypervisor="emu-hv", router="count-router",
                            nodeos="never-os", cni="never-cni")
    return build_plan(topo), reg


def test_each_plugin_renders_once_and_emulated_roles_not_at_all(lab):
    plan, reg = lab
    state = LabState(plan.lab)
    # -O of an emulated plugin is checked by name: its plugin is still not created.
    assert deploy(plan, state, reg, lambda _: None, {"never-os": {"k": "v"}}) is None
    assert RENDERS == ["count-router", "emu-hv"]  # the router's in the preflight
    assert sorted(p.name for p in state.rendered.iterdir()) == ["count-router", "emu-hv"]
    assert sorted(p.name for p in (state.rendered / "count-router").iterdir()) == sorted(
        r.name for r in plan.routers)


def test_an_unknown_plugin_option_still_names_every_plugin_of_the_lab(lab):
    plan, reg = lab
    with pytest.raises(UsageError, match="its plugins are count-router, emu-hv, never-cni, "
                                        "never-os"):
        deploy(plan, LabState(plan.lab), reg, lambda _: None, {"nope": {"k": "v"}})
    assert RENDERS == []
