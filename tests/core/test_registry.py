"""The plugin manager and registry with in-process plugins (installed ones: see
test_third_party_plugin.py)."""

from __future__ import annotations

import pytest

from nativek8s.core.errors import PluginError, UsageError
from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import CNISpec, RouterOSSpec
from nativek8s.core.registry import (
    DISABLE_ENV,
    Registry,
    make_plugin_manager,
    registry,
    reset_registry,
)

from .conftest import other_plugin_distributions, run_cli
from .sample_plugins import SampleRouter


@pytest.fixture(autouse=True)
def only_builtins(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DISABLE_ENV, ",".join(other_plugin_distributions()))
    yield
    reset_registry(None)


class _Routers:
    def __init__(self, *names: str):
        self.names = names

    @hookimpl
    def nativek8s_router_oses(self):
        return [RouterOSSpec(name=n, factory=SampleRouter) for n in self.names]


def test_builtins_are_found_through_entry_points():
    reg = Registry(make_plugin_manager())
    assert {"netns", "libvirt", "proxmox"} <= set(reg.names("hypervisor"))
    assert "openwrt" in reg.names("router")
    found = reg.get("router", "openwrt")
    assert found.distribution.startswith("nativek8s ")
    assert found.module == "nativek8s.plugins.routers.openwrt.plugin"


def test_choices_are_sorted_and_name_distributions():
    reg = Registry(make_plugin_manager([_Routers("zebra", "alpha")]))
    choices = reg.choices("router")
    assert choices.index("alpha (in-process)") < choices.index("openwrt (nativek8s ")
    assert choices.index("openwrt (nativek8s ") < choices.index("zebra (in-process)")
    assert [r.name for r in reg.all() if r.kind == "router"] == ["alpha", "openwrt", "zebra"]


def test_unknown_name_lists_choices():
    reg = Registry(make_plugin_manager())
    with pytest.raises(UsageError, match=r"unknown CNI plugin 'calico'; choose one of: "
                                         r"cilium \(nativek8s [^)]+\)$"):
        reg.get("cni", "calico")


def test_duplicate_name_names_both_sources():
    with pytest.raises(PluginError) as err:
        Registry(make_plugin_manager([_Routers("openwrt")]))
    message = str(err.value)
    assert "two router OS plugins are named 'openwrt'" in message
    assert "one from nativek8s " in message and "one from in-process" in message


def test_registration_must_return_its_descriptor():
    class Wrong:
        @hookimpl
        def nativek8s_cnis(self):
            return [RouterOSSpec(name="x", factory=SampleRouter)]

    with pytest.raises(PluginError, match="expected CNISpec"):
        Registry(make_plugin_manager([Wrong()]))


def test_misspelled_hook_is_caught_with_a_suggestion():
    class Typo:
        @hookimpl
        def nativek8s_router_os(self):
            return []

    with pytest.raises(PluginError) as err:
        make_plugin_manager([Typo()])
    assert "plugin 'Typo' (in-process) implements unknown hooks: nativek8s_router_os " \
           "(did you mean nativek8s_router_oses?)" in str(err.value)


def test_hook_arguments_must_match_the_spec():
    class BadArgs:
        @hookimpl
        def nativek8s_validate_topology(self, topo):
            return []

    with pytest.raises(PluginError, match=r"plugin 'BadArgs' \(in-process\) does not match the "
                                          r"hook specifications .*'topo'"):
        make_plugin_manager([BadArgs()])


def test_a_registration_hook_that_raises_names_its_plugin():
    class Broken:
        @hookimpl
        def nativek8s_cnis(self):
            raise RuntimeError("kaput")

    with pytest.raises(PluginError, match=r"plugin 'Broken' \(in-process\) failed in "
                                          r"nativek8s_cnis: RuntimeError\('kaput'\)"):
        Registry(make_plugin_manager([Broken()]))


def test_a_factory_that_raises_names_its_plugin():
    class Fails:
        @hookimpl
        def nativek8s_cnis(self):
            return [CNISpec(name="flaky", factory=lambda: 1 / 0)]

    reg = Registry(make_plugin_manager([Fails()]))
    with pytest.raises(PluginError, match=r"CNI plugin 'flaky' \(in-process\) failed to start: "
                                          r"ZeroDivisionError"):
        reg.create("cni", "flaky")


def test_an_object_lacking_its_interface_is_refused(sample_registry):
    with pytest.raises(PluginError, match=r"router OS plugin 'hollow' \(in-process\) lacks "
                                          r"bgp_daemon, bgp_sessions required by RouterOS"):
        sample_registry.create("router", "hollow")


@pytest.mark.parametrize("disable", ["proxmox", "proxmox, libvirt"])
def test_disable_by_entry_point_name(monkeypatch: pytest.MonkeyPatch, disable: str):
    monkeypatch.setenv(DISABLE_ENV, disable)
    names = Registry(make_plugin_manager()).names("hypervisor")
    assert "proxmox" not in names and "netns" in names
    assert ("libvirt" in names) == ("libvirt" not in disable)


def test_disable_by_distribution_name(monkeypatch: pytest.MonkeyPatch):
    # Other installed plugin distributions (examples/nativek8s-frr) are disabled too.
    monkeypatch.setenv(DISABLE_ENV, ", ".join(["nativek8s", *other_plugin_distributions()]))
    assert Registry(make_plugin_manager()).all() == []
    reset_registry(None)
    result = run_cli(["plugins"])
    assert result.stdout == "no plugins installed\n"


def test_registry_is_loaded_once_and_can_be_replaced():
    first = registry()
    assert registry() is first
    replacement = Registry(make_plugin_manager([_Routers("other")]))
    reset_registry(replacement)
    assert registry() is replacement


def test_unknown_plugin_flag_is_a_usage_error(builtin_registry, isolated):
    result = run_cli(["plan", "--router", "nope", "--cni", "calico"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --router nope: no router OS plugin is named 'nope'; choose one of: openwrt (")
    assert "\n--cni calico: no CNI plugin is named 'calico'; choose one of: cilium (" in \
        result.stderr
    assert result.stdout == "" and isolated.untouched()
