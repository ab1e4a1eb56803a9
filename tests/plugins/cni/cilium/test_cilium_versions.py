"""Supported Cilium versions and the BGP API each gets."""

from __future__ import annotations

import pytest

from nativek8s.api import UsageError
from nativek8s.plugins.cni.cilium.versions import (
    BgpFlavour,
    CiliumVersion,
    bgp_api,
    parse_version,
    support,
)


@pytest.mark.parametrize("text, expected", [
    ("1.18.0", (1, 18, 0)), ("v1.16.5", (1, 16, 5)), ("1.19", (1, 19, 0)),
    ("1.19.0-rc.1", (1, 19, 0)), ("1.17.3+build.1", (1, 17, 3)),
])
def test_parse_version(text, expected):
    v = parse_version(text)
    assert (v.major, v.minor, v.patch) == expected
    assert str(v) == text


@pytest.mark.parametrize("text", ["latest", "1", "one.two"])
def test_parse_version_refuses_what_is_not_a_version(text):
    with pytest.raises(UsageError, match="not a Cilium version"):
        parse_version(text)


@pytest.mark.parametrize("version, group", [
    ("1.16.0", "cilium.io/v2alpha1"), ("1.17.9", "cilium.io/v2alpha1"),
    ("1.18.0", "cilium.io/v2"), ("1.19.2", "cilium.io/v2"), ("1.20.0", "cilium.io/v2"),
])
def test_bgpv2_group_by_version(version, group):
    api = bgp_api(version, peering_policy=False)
    assert (api.flavour, api.api_version, api.warning) == (BgpFlavour.bgpv2, group, None)


@pytest.mark.parametrize("version", ["1.15.7", "1.14.0", "0.9.0"])
def test_versions_before_1_16_are_refused(version):
    found = support(parse_version(version), peering_policy=False)
    assert found.api is None and found.error_on == "versions.cilium"
    assert "needs 1.16 or newer" in found.error and version in found.error


@pytest.mark.parametrize("version", ["1.16.0", "1.17.3"])
def test_peering_policy_up_to_1_17_without_warning(version):
    api = bgp_api(version, peering_policy=True)
    assert (api.flavour, api.api_version, api.warning) == (
        BgpFlavour.peering_policy, "cilium.io/v2alpha1", None)


def test_peering_policy_on_1_18_is_warned():
    api = bgp_api("1.18.1", peering_policy=True)
    assert api.flavour == BgpFlavour.peering_policy
    assert "deprecated in Cilium 1.18.1 and removed in 1.19" in api.warning


@pytest.mark.parametrize("version", ["1.19.0", "1.19.0-pre.1", "1.21.0"])
def test_peering_policy_from_1_19_is_refused_with_the_reason(version):
    found = support(parse_version(version), peering_policy=True)
    assert found.api is None and found.error_on == "options.cilium.peering_policy"
    assert "removed in Cilium 1.19" in found.error and "advertise nothing" in found.error
    with pytest.raises(UsageError, match="options.cilium.peering_policy: CiliumBGPPeeringPolicy"):
        bgp_api(version, peering_policy=True)


def test_versions_order_by_number_not_text():
    assert parse_version("1.9.0") < parse_version("1.16.0") < parse_version("1.18.0")
    assert CiliumVersion(1, 18).minor_version == (1, 18)
