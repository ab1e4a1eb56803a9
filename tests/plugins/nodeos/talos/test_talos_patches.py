"""The generated patches validate against Talos's own config schema (1.13 and 1.14), for
the reference lab and a three-datacentre lab, and say what the plan says."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nativek8s.api import Plan
from nativek8s.plugins.nodeos.talos.render import patch_files
from nativek8s.plugins.nodeos.talos.versions import parse_version
from tests.plugins.nodeos.talos.talos_plans import VERSIONS, reference, three_dc
from tests.plugins.nodeos.talos.talos_upstream import ERRATUM_DEF, ERRATUM_KINDS, raw_schema, schema_errors

PLANS = {"reference": reference, "three-dc": three_dc}
# container.ControlplaneOnlyConfig
CONTROLPLANE_ONLY = {"KubeFlannelCNIConfig", "KubeProxyConfig", "KubeControllerManagerConfig"}


def _patches(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    return {f.path: [d for d in yaml.safe_load_all(f.content) if d is not None]
            for f in patch_files(plan)}


def _kinds(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d.get("kind", "v1alpha1"): d for d in docs}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("lab", sorted(PLANS))
def test_every_patch_validates_against_the_talos_schema(lab: str, version: str) -> None:
    plan = PLANS[lab](version)
    minor = parse_version(version).minor_version
    patches = _patches(plan)
    assert {f"{n.name}/patch.yaml" for n in plan.nodes} <= set(patches)
    checked = 0
    for path, docs in patches.items():
        for doc in docs:
            assert schema_errors(doc, minor) == [], f"{path}: {doc}"
            checked += 1
    assert checked >= len(plan.nodes) * 2 + 1


@pytest.mark.parametrize("version", VERSIONS)
def test_the_validator_rejects_what_talos_would_refuse(version: str) -> None:
    """The checks above can fail: the same documents, broken, do not validate."""
    minor = parse_version(version).minor_version
    docs = _patches(reference(version))
    node = docs["node-1/patch.yaml"]
    hostname = _kinds(node)["HostnameConfig"]
    assert schema_errors({**hostname, "auto": "sometimes"}, minor)
    assert schema_errors({**hostname, "hostnme": "x"}, minor)
    if minor >= (1, 14):
        # 1.14 removed these v1alpha1 fields (the article's form) from the schema
        assert schema_errors({"cluster": {"proxy": {"disabled": True}}}, minor)
        assert schema_errors({"machine": {"install": {"disk": "/dev/vda"}}}, minor)
        assert schema_errors({"apiVersion": "v1alpha1", "kind": "KubeProxyConfig",
                              "enabled": False}, minor)  # image is required
    else:
        assert schema_errors({"cluster": {"proxy": {"disabled": "yes"}}}, minor)
        assert schema_errors({"machine": {"nodeLabels": {"dc": 1}}}, minor)


def test_talos_schema_erratum_still_present() -> None:
    """The 1.14.0-rc.1 schema misnames UnattendedInstallConfig (siderolabs/talos#14349).
    When the schema file is replaced by a fixed one, drop the erratum in talos_upstream."""
    kind = raw_schema((1, 14))["$defs"][ERRATUM_DEF]["properties"]["kind"]["enum"]
    assert kind == [ERRATUM_KINDS[0]], "the schema is fixed: remove the erratum"


def test_113_uses_the_article_form() -> None:
    plan = reference("1.13.9")
    patches = _patches(plan)
    (cluster,) = patches["cluster.patch.yaml"]
    assert cluster == {"cluster": {
        "network": {"cni": {"name": "none"}, "podSubnets": ["10.244.0.0/16"],
                    "serviceSubnets": ["10.96.0.0/12"]},
        "proxy": {"disabled": True},
        # PodCIDRs come from the plan, not in registration order (docs/nodeos/talos.md)
        "controllerManager": {"extraArgs": {"allocate-node-cidrs": "false"}},
        "allowSchedulingOnControlPlanes": True}}
    assert "controlplane.patch.yaml" not in patches
    for node in plan.nodes:
        kinds = _kinds(patches[f"{node.name}/patch.yaml"])
        machine = kinds["v1alpha1"]["machine"]
        assert machine["install"] == {
            "disk": "/dev/vda",
            "image": "factory.talos.dev/installer/"
                     "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515:v1.13.9"}
        assert machine["nodeLabels"] == {"dc": node.datacentre}
        # a static hostname is a HostnameConfig document (gen config writes one with
        # auto: stable since 1.12; machine.network.hostname would conflict with it)
        assert "network" not in machine
        assert kinds["HostnameConfig"] == {"apiVersion": "v1alpha1", "kind": "HostnameConfig",
                                           "auto": "off", "hostname": node.resource_name}


def test_114_uses_the_separate_documents() -> None:
    plan = reference("1.14.0-rc.1")
    patches = _patches(plan)
    (network,) = patches["cluster.patch.yaml"]
    assert network == {"apiVersion": "v1alpha1", "kind": "KubeNetworkConfig",
                       "podSubnets": ["10.244.0.0/16"], "serviceSubnets": ["10.96.0.0/12"]}
    cp = _kinds(patches["controlplane.patch.yaml"])
    assert cp["KubeFlannelCNIConfig"] == {"apiVersion": "v1alpha1",
                                          "kind": "KubeFlannelCNIConfig", "$patch": "delete"}
    assert cp["KubeProxyConfig"]["enabled"] is False
    assert cp["KubeProxyConfig"]["image"] == "registry.k8s.io/kube-proxy:v1.37.0-rc.0"
    # control planes run workloads: the taint gen config gives them is deleted
    assert cp["KubeNodeConfig"]["taints"] == {
        "node-role.kubernetes.io/control-plane": {"$patch": "delete"}}
    manager = cp["KubeControllerManagerConfig"]
    assert manager["extraArgs"] == {"allocate-node-cidrs": "false"}
    assert manager["image"] == "registry.k8s.io/kube-controller-manager:v1.37.0-rc.0"
    for node in plan.nodes:
        kinds = _kinds(patches[f"{node.name}/patch.yaml"])
        assert "v1alpha1" not in kinds
        install = kinds["UnattendedInstallConfig"]
        assert install["installer"]["image"].endswith(":v1.14.0-rc.1")
        assert install["provisioning"]["diskSelector"]["match"] == 'disk.dev_path == "/dev/vda"'
        assert kinds["KubeNodeConfig"]["labels"] == {"dc": node.datacentre}
        assert kinds["HostnameConfig"]["hostname"] == node.resource_name


@pytest.mark.parametrize("version", VERSIONS)
def test_controlplane_only_documents_stay_in_the_controlplane_patch(version: str) -> None:
    """Talos refuses a worker config holding control-plane-only documents."""
    for path, docs in _patches(three_dc(version)).items():
        if path != "controlplane.patch.yaml":
            assert not CONTROLPLANE_ONLY & set(_kinds(docs)), path


@pytest.mark.parametrize("version", VERSIONS)
def test_three_dc_per_datacentre_disk_and_pod_mask(version: str) -> None:
    plan = three_dc(version)
    patches = _patches(plan)
    multidoc = parse_version(version).multidoc
    for node in plan.nodes:
        kinds = _kinds(patches[f"{node.name}/patch.yaml"])
        disk = "/dev/sda" if node.datacentre == "dc2" else "/dev/vda"
        if multidoc:
            match = kinds["UnattendedInstallConfig"]["provisioning"]["diskSelector"]["match"]
            assert match == f'disk.dev_path == "{disk}"'
            assert kinds["KubeNodeConfig"]["labels"] == {"dc": node.datacentre}
        else:
            assert kinds["v1alpha1"]["machine"]["install"]["disk"] == disk
    (cluster,) = patches["cluster.patch.yaml"]
    if multidoc:
        assert cluster["nodeCIDRMaskSizeIPv4"] == 25
        assert cluster["podSubnets"] == ["10.128.0.0/14"]
        assert cluster["serviceSubnets"] == ["10.112.0.0/16"]
    else:
        assert cluster["cluster"]["controllerManager"] == {
            "extraArgs": {"allocate-node-cidrs": "false", "node-cidr-mask-size-ipv4": "25"}}
        assert cluster["cluster"]["network"]["podSubnets"] == ["10.128.0.0/14"]


def test_settings_follow_the_topology() -> None:
    plan = reference("1.13.9", versions={"kubernetes": "1.35.2"}, options={"talos": {
        "schematic": "a" * 64, "factory_url": "http://127.0.0.1:8080"}})
    patches = _patches(plan)
    image = _kinds(patches["node-1/patch.yaml"])["v1alpha1"]["machine"]["install"]["image"]
    assert image == f"127.0.0.1:8080/installer/{'a' * 64}:v1.13.9"
    plan = reference("1.14.0-rc.1", versions={"kubernetes": "1.35.2"},
                     options={"talos": {"install_image": "registry.lab/installer:v1.14.0"}})
    patches = _patches(plan)
    cp = _kinds(patches["controlplane.patch.yaml"])
    assert cp["KubeProxyConfig"]["image"] == "registry.k8s.io/kube-proxy:v1.35.2"
    node = _kinds(patches["node-2/patch.yaml"])
    assert node["UnattendedInstallConfig"]["installer"]["image"] == "registry.lab/installer:v1.14.0"
