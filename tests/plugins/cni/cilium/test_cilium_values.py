"""Helm values from the plan, validated against the Cilium chart's values schema."""

from __future__ import annotations

import pytest

from nativek8s.plugins.cni.cilium.options import (
    CiliumOptions,
    chart_version,
    options_of,
)
from nativek8s.plugins.cni.cilium.values import helm_values
from tests.plugins.cni.cilium.cilium_plans import make_plan, three_dc, with_cilium
from tests.plugins.cni.cilium.cilium_upstream import values_errors

TALOS_ONLY = {"kubeProxyReplacement", "securityContext", "cgroup", "k8sServiceHost",
              "k8sServicePort"}


def _values(plan):
    return helm_values(plan, options_of(plan))


def test_reference_lab_values():
    v = _values(make_plan())
    assert v["routingMode"] == "native"
    assert v["bgpControlPlane"] == {"enabled": True}
    assert v["enableIPv4Masquerade"] is False
    assert v["ipv4NativeRoutingCIDR"] == "10.244.0.0/16"
    assert v["ipam"] == {"mode": "kubernetes"}
    assert (v["autoDirectNodeRoutes"], v["directRoutingSkipUnreachable"]) == (True, True)
    # Talos (the reference lab's node OS): the values Talos' Cilium guide requires.
    assert v["kubeProxyReplacement"] is True
    assert (v["k8sServiceHost"], v["k8sServicePort"]) == ("localhost", 7445)
    assert v["cgroup"] == {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"}
    caps = v["securityContext"]["capabilities"]
    assert caps["cleanCiliumState"] == ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"]
    assert "SYS_MODULE" not in caps["ciliumAgent"] and "NET_ADMIN" in caps["ciliumAgent"]


def test_talos_values_only_on_talos():
    v = _values(make_plan({"plugins": {"nodeos": "kubeadm"}}))
    assert not TALOS_ONLY & set(v)
    assert v["routingMode"] == "native" and v["ipam"] == {"mode": "kubernetes"}


def test_native_routing_cidr_follows_the_plan():
    plan = make_plan({"networks": {"pods": "172.20.0.0/16", "pod_mask": 26}})
    assert _values(plan)["ipv4NativeRoutingCIDR"] == "172.20.0.0/16"


def test_without_direct_node_routes_skip_unreachable_is_not_set():
    v = _values(make_plan({"networks": {"direct_node_routes": False}}))
    assert v["autoDirectNodeRoutes"] is False
    assert "directRoutingSkipUnreachable" not in v  # the agent refuses it without the other


def test_cluster_pool_ipam_takes_the_planned_pool():
    plan = make_plan({"networks": {"pods": "172.20.0.0/16", "pod_mask": 25},
                      **with_cilium("1.18.0", ipam="cluster-pool")})
    assert _values(plan)["ipam"] == {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["172.20.0.0/16"], "clusterPoolIPv4MaskSize": 25}}


def test_md5_pins_the_bgp_secrets_namespace():
    v = _values(three_dc(md5=True))
    assert v["bgpControlPlane"] == {"enabled": True,
                                    "secretsNamespace": {"create": False, "name": "kube-system"}}
    assert "secretsNamespace" not in _values(three_dc())["bgpControlPlane"]


def test_chart_version_defaults_to_the_cilium_version():
    assert chart_version(make_plan(with_cilium("1.17.4"))) == "1.17.4"
    assert chart_version(make_plan(with_cilium("1.17.4", chart_version="1.17.6"))) == "1.17.6"


def test_options_refuse_unknown_keys():
    with pytest.raises(ValueError, match="extra"):
        CiliumOptions.model_validate({"peering_polcy": True})


PLANS = {
    "reference": lambda: make_plan(),
    "not-talos": lambda: make_plan({"plugins": {"nodeos": "kubeadm"}}),
    "no-direct-routes": lambda: make_plan({"networks": {"direct_node_routes": False}}),
    "cluster-pool": lambda: make_plan(with_cilium("1.18.0", ipam="cluster-pool")),
    "three-dc-md5": lambda: three_dc(md5=True),
}


@pytest.mark.parametrize("name", PLANS)
def test_values_validate_against_the_chart_schema(name):
    assert values_errors(_values(PLANS[name]())) == []


def test_the_values_check_can_fail():
    v = _values(make_plan())
    bad = {**v, "enableIPv4Masquerade": "no", "routingMod": "native",
           "bgpControlPlane": {"enabled": True, "enable": True}}
    errors = values_errors(bad)
    assert any(e.startswith("enableIPv4Masquerade:") for e in errors)
    assert "routingMod: not a value of the Cilium chart" in errors
    assert "bgpControlPlane.enable: not a value of the Cilium chart" in errors
