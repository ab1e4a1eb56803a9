"""Topology checks of the talos plugin: unsupported versions and misplaced options become
core Problems at the right YAML path; the hook stays silent for other node OSes."""

from __future__ import annotations

import pytest

from nativek8s.api import Problem, UsageError
from nativek8s.plugins.nodeos.talos.plugin import nativek8s_validate_topology
from nativek8s.plugins.nodeos.talos.versions import supported
from tests.plugins.nodeos.talos.talos_plans import THREE_DC, topology


@pytest.mark.parametrize("version", ["1.13.0", "1.13.9", "1.14.0", "1.14.0-rc.1"])
def test_supported_versions_pass(version: str) -> None:
    assert nativek8s_validate_topology(topology({"versions": {"talos": version}})) == []


@pytest.mark.parametrize("version", ["1.12.6", "1.15.0", "2.0.0"])
def test_unsupported_versions_are_problems_at_versions_talos(version: str) -> None:
    problems = nativek8s_validate_topology(topology({"versions": {"talos": version}}))
    assert [p.path for p in problems] == ["versions.talos"]
    assert f"Talos v{version} is not supported" in problems[0].message
    assert "1.13.x and 1.14.x" in problems[0].message
    with pytest.raises(UsageError, match="versions.talos"):
        supported(version)


def test_other_node_os_is_not_checked() -> None:
    topo = topology({"versions": {"talos": "1.9.0"}}).with_plugins(nodeos="other")
    assert nativek8s_validate_topology(topo) == []


def test_kubernetes_version_must_be_one_talos_runs() -> None:
    ok = topology({"versions": {"talos": "1.13.9", "kubernetes": "1.31.0"}})
    assert nativek8s_validate_topology(ok) == []
    for too in ("1.30.4", "1.37.0"):
        problems = nativek8s_validate_topology(
            topology({"versions": {"talos": "1.13.9", "kubernetes": too}}))
        assert [p.path for p in problems] == ["versions.kubernetes"], too
        assert "runs Kubernetes 1.31 to 1.36" in problems[0].message


def test_cluster_wide_options_are_refused_per_datacentre() -> None:
    dcs = {**THREE_DC["datacentres"]}
    dcs["dc3"] = {**dcs["dc3"], "options": {"talos": {"schematic": "b" * 64,
                                                      "install_disk": "/dev/sdb"}}}
    problems = nativek8s_validate_topology(topology({**THREE_DC, "datacentres": dcs}))
    assert problems == [Problem(
        "datacentres.dc3.options.talos.schematic",
        "schematic applies to the whole cluster; move it to options.talos (per datacentre "
        "only: disk_size_gib, install_disk, kernel_args, media)")]


def test_kernel_args_with_iso_media_are_refused() -> None:
    problems = nativek8s_validate_topology(topology({"options": {"talos": {
        "media": "iso", "kernel_args": ["talos.dashboard.disabled=1"]}}}))
    assert [p.path for p in problems] == ["options.talos.kernel_args"]  # once, not per dc
    assert "schematic" in problems[0].message


def test_long_node_names_are_refused() -> None:
    name = "n" * 60
    problems = nativek8s_validate_topology(topology({"datacentres": {
        "dc1": {"nodes": {name: {"role": "controlplane"}}}}}))
    assert [p.path for p in problems] == [f"datacentres.dc1.nodes.{name}"]
