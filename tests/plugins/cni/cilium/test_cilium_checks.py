"""The plugin's topology checks, through core's loader and the real plugin registry."""

from __future__ import annotations

import pytest

from nativek8s.core.errors import TopologyError
from nativek8s.core.load import load_topology, parse_topology
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.plugins.cni.cilium import plugin
from nativek8s.plugins.cni.cilium.options import CiliumOptions
from tests.plugins.cni.cilium.cilium_plans import topology_text, with_cilium


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = Registry(make_plugin_manager())
    if reg.by_kind["cni"].get("cilium") is None:
        pytest.skip("the cilium entry point is not installed (pip install -e .)")
    return reg


def _load(tmp_path, registry, changes):
    path = tmp_path / "lab.yaml"
    path.write_text(topology_text(changes))
    return load_topology(str(path), registry)


def _problems(tmp_path, registry, changes):
    with pytest.raises(TopologyError) as info:
        _load(tmp_path, registry, changes)
    return {p.path: p for p in info.value.problems}


def test_the_plugin_registers_its_options(registry):
    found = registry.get("cni", "cilium")
    assert found.spec.options is CiliumOptions
    assert "nativek8s_validate_topology" in found.hooks


@pytest.mark.parametrize("version", ["1.16.0", "1.17.2", "1.18.0", "1.19.1"])
def test_supported_versions_load(tmp_path, registry, version):
    topo, warnings = _load(tmp_path, registry, with_cilium(version))
    assert topo.versions.cilium == version and warnings == []


def test_old_version_is_refused_at_its_line(tmp_path, registry):
    problems = _problems(tmp_path, registry, with_cilium("1.15.6"))
    p = problems["versions.cilium"]
    assert "Cilium 1.15.6 is not supported: nativek8s needs 1.16 or newer" in p.message
    text = (tmp_path / "lab.yaml").read_text().splitlines()
    assert p.line is not None and "cilium: 1.15.6" in text[p.line - 1]


def test_peering_policy_on_1_19_is_refused(tmp_path, registry):
    problems = _problems(tmp_path, registry, with_cilium("1.19.0", peering_policy=True))
    message = problems["options.cilium.peering_policy"].message
    assert "removed in Cilium 1.19" in message and "remove peering_policy" in message


def test_peering_policy_on_1_18_is_a_warning(tmp_path, registry):
    _, warnings = _load(tmp_path, registry, with_cilium("1.18.0", peering_policy=True))
    (warning,) = warnings
    assert warning.warning and warning.path == "options.cilium.peering_policy"
    assert warning.line is not None  # located in the file like any problem
    assert warning.message.startswith("CiliumBGPPeeringPolicy is deprecated in Cilium 1.18.0")


def test_peering_policy_on_1_17_is_fine(tmp_path, registry):
    _, warnings = _load(tmp_path, registry, with_cilium("1.17.0", peering_policy=True))
    assert warnings == []


def test_chart_version_of_another_minor_is_refused(tmp_path, registry):
    problems = _problems(tmp_path, registry, with_cilium("1.18.0", chart_version="1.17.6"))
    assert "pin a 1.18.x chart" in problems["options.cilium.chart_version"].message
    _load(tmp_path, registry, with_cilium("1.18.0", chart_version="1.18.4"))


def test_zero_hold_time_is_refused(tmp_path, registry):
    problems = _problems(tmp_path, registry, {"bgp": {"hold_time": 0}})
    assert "at least 3 s" in problems["bgp.hold_time"].message


def test_options_per_datacentre_are_refused(tmp_path, registry):
    changes = {"datacentres": {"dc1": {"nodes": {"node-1": {"role": "controlplane"}},
                                       "options": {"cilium": {"ipam": "cluster-pool"}}},
                               "dc2": {"nodes": {"node-2": {}}}}}
    problems = _problems(tmp_path, registry, changes)
    assert "move them to options.cilium" in problems["datacentres.dc1.options.cilium"].message


def test_unknown_option_is_refused_by_core_with_the_option_names(tmp_path, registry):
    problems = _problems(tmp_path, registry, {"options": {"cilium": {"peering": True}}})
    message = problems["options.cilium.peering"].message
    assert "installer" in message and "peering_policy" in message


def test_other_cnis_are_left_alone():
    topo, _ = parse_topology(topology_text({"plugins": {"cni": "other"},
                                            **with_cilium("1.10.0")}))
    assert plugin.nativek8s_validate_topology(topology=topo) == []
    topo = topo.with_plugins(cni="cilium")
    assert [p.path for p in plugin.nativek8s_validate_topology(topology=topo)] == [
        "versions.cilium"]


def test_cluster_pool_ipam_is_a_warning_about_pod_cidrs(tmp_path, registry):
    _, warnings = _load(tmp_path, registry, with_cilium("1.18.0", ipam="cluster-pool"))
    (warning,) = warnings
    assert warning.path == "options.cilium.ipam" and warning.line is not None
    assert "not the plan's" in warning.message and "ipam: kubernetes" in warning.message
