"""netns runs a router OS's daemon only as the router OS says (namespace_daemon): a lab
where the router OS can say so for some routers and not others is refused, naming them,
before anything is created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import RouterOSSpec
from nativek8s.core.registry import DISABLE_ENV, Registry, make_plugin_manager, reset_registry
from nativek8s.plugins.routers.openwrt.openwrt import Openwrt
from tests.core.conftest import other_plugin_distributions, run_cli


class HalfRouter(Openwrt):
    """openwrt's BIRD, but only for router-1: as if router-2 ran a daemon netns cannot."""

    name = "half"

    def namespace_daemon(self, router, files, paths):  # type: ignore[no-untyped-def]
        if router.name != "router-1":
            return None
        return super().namespace_daemon(router, files, paths)


class HalfPlugin:
    @hookimpl
    def nativek8s_router_oses(self) -> list[RouterOSSpec]:
        return [RouterOSSpec(name="half", factory=HalfRouter, description="half BIRD")]


@pytest.fixture
def half_registry(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DISABLE_ENV, ",".join(other_plugin_distributions()))
    reg = Registry(make_plugin_manager([HalfPlugin()]))
    monkeypatch.delenv(DISABLE_ENV)
    reset_registry(reg)
    yield reg
    reset_registry(None)


@pytest.mark.skipif(os.geteuid() != 0, reason="netns preflight asks for root first")
def test_a_lab_some_routers_cannot_run_is_refused_naming_them(half_registry, tmp_path: Path,
                                                              monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path / "state"))
    for command in ("doctor", "deploy"):
        result = run_cli([command, "--router", "half"])
        assert result.exit_code == 2, result.output
        assert ("router-2: the router OS 'half' does not say how to run its daemon in a "
                "network namespace; the netns backend cannot run it") in result.stderr
        assert "router-1:" not in result.stderr
    assert not any((tmp_path / "state").rglob("resources.json"))  # nothing was created
