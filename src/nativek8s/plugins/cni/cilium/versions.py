"""Which Cilium versions nativek8s supports, and which BGP resources each one takes.

Facts (Cilium release notes and CRDs; the tests check against those CRDs, docs/testing.md):
- 1.16 and 1.17 serve the BGPv2 kinds (CiliumBGPClusterConfig, CiliumBGPPeerConfig,
  CiliumBGPAdvertisement) as ``cilium.io/v2alpha1``, beside the older CiliumBGPPeeringPolicy.
- 1.18 promotes the BGPv2 kinds to ``cilium.io/v2`` and deprecates CiliumBGPPeeringPolicy.
- 1.19 removes CiliumBGPPeeringPolicy: a policy applied there is ignored and nothing is
  advertised, so nativek8s refuses to generate one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nativek8s.api import UsageError
from nativek8s.shared.versions import Version
from nativek8s.shared.versions import parse_version as shared_parse

MIN_SUPPORTED = (1, 16)  # first release with the BGPv2 kinds
V2_FROM = (1, 18)  # BGPv2 kinds promoted to cilium.io/v2
POLICY_DEPRECATED = (1, 18)
POLICY_REMOVED = (1, 19)

class BgpFlavour(StrEnum):
    bgpv2 = "bgpv2"  # ClusterConfig + PeerConfig + Advertisement
    peering_policy = "peering-policy"  # the article's CiliumBGPPeeringPolicy


CiliumVersion = Version


def parse_version(text: str) -> CiliumVersion:
    return shared_parse(text, "versions.cilium", "a Cilium version", "1.18.0")


@dataclass(frozen=True)
class BgpApi:
    """The BGP resources to generate for one Cilium version."""

    flavour: BgpFlavour
    api_version: str  # "cilium.io/v2" or "cilium.io/v2alpha1"
    warning: str | None = None  # said once at validation, and as a comment in the files


@dataclass(frozen=True)
class Support:
    api: BgpApi | None
    error: str | None = None  # why this combination is refused, and what to do
    error_on: str = "versions.cilium"  # the topology key the error belongs to


def support(version: CiliumVersion, peering_policy: bool) -> Support:
    """Whether nativek8s can configure this Cilium version's BGP, and with what."""
    v = version.minor_version
    if v < MIN_SUPPORTED:
        return Support(None, (
            f"Cilium {version} is not supported: nativek8s needs 1.16 or newer, the first "
            "release with the BGPv2 resources (CiliumBGPClusterConfig, CiliumBGPPeerConfig, "
            "CiliumBGPAdvertisement); set versions.cilium to 1.16 or newer"))
    if not peering_policy:
        group = "cilium.io/v2" if v >= V2_FROM else "cilium.io/v2alpha1"
        return Support(BgpApi(BgpFlavour.bgpv2, group))
    if v >= POLICY_REMOVED:
        return Support(None, (
            f"CiliumBGPPeeringPolicy was removed in Cilium 1.19 (deprecated in 1.18): Cilium "
            f"{version} would ignore the policy and advertise nothing; remove peering_policy "
            "to get CiliumBGPClusterConfig/PeerConfig/Advertisement, or set versions.cilium "
            "to 1.17 or older"), "options.cilium.peering_policy")
    warning = None
    if v >= POLICY_DEPRECATED:
        warning = (f"CiliumBGPPeeringPolicy is deprecated in Cilium {version} and removed in "
                   "1.19; remove peering_policy to use the BGPv2 resources "
                   "(CiliumBGPClusterConfig/PeerConfig/Advertisement) instead")
    return Support(BgpApi(BgpFlavour.peering_policy, "cilium.io/v2alpha1", warning))


def bgp_api(version_text: str, peering_policy: bool) -> BgpApi:
    """The BGP API for a version; raises UsageError (with what to do) when refused."""
    found = support(parse_version(version_text), peering_policy)
    if found.api is None:
        raise UsageError(f"{found.error_on}: {found.error}")
    return found.api
