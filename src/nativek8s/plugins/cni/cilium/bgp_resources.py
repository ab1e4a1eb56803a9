"""Cilium BGP resources of one datacentre, from its :class:`DcPeering`.

BGPv2 (1.16+): a CiliumBGPClusterConfig selecting the datacentre's nodes, with one BGP
instance in the cluster's AS peering with each router; a CiliumBGPPeerConfig per distinct
timer/MD5 setting, whose IPv4 unicast family selects a CiliumBGPAdvertisement of type
PodCIDR by label (without a matching advertisement Cilium announces nothing).

PeeringPolicy (≤1.18, on request): the article's CiliumBGPPeeringPolicy, one virtual router
with ``exportPodCIDR`` and the routers as neighbours. A node may match only one policy;
the ``dc`` label guarantees that.
"""

from __future__ import annotations

from typing import Any

from .labels import ADVERTISE, owned
from .peering import DcPeering, PeerSettings
from .secret import SECRET_NAME
from .versions import BgpApi, BgpFlavour

Resource = dict[str, Any]


def _meta(name: str, lab: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    # Every kind here is cluster-scoped: no namespace.
    return {"name": name, "labels": {**owned(lab), **(extra or {})}}


def cluster_config_name(dc: DcPeering) -> str:
    return dc.datacentre


def peer_config_name(dc: DcPeering, settings: PeerSettings) -> str:
    index = dc.peer_settings.index(settings)
    return f"{dc.datacentre}-peer" + (f"-{index + 1}" if index else "")


def advertisement_name(dc: DcPeering) -> str:
    return f"{dc.datacentre}-pod-cidr"


def advertisement_labels(dc: DcPeering) -> dict[str, str]:
    return {ADVERTISE: advertisement_name(dc)}


def _timers(s: PeerSettings) -> dict[str, int]:
    return {"holdTimeSeconds": s.hold_time, "keepAliveTimeSeconds": s.keepalive_time,
            "connectRetryTimeSeconds": s.connect_retry}


def _cluster_config(dc: DcPeering, api: BgpApi, lab: str) -> Resource:
    peers = [{"name": p.name, "peerASN": p.asn, "peerAddress": str(p.address),
              "peerConfigRef": {"name": peer_config_name(dc, p.settings)}} for p in dc.peers]
    return {
        "apiVersion": api.api_version, "kind": "CiliumBGPClusterConfig",
        "metadata": _meta(cluster_config_name(dc), lab),
        "spec": {
            "nodeSelector": {"matchLabels": dc.selector},
            "bgpInstances": [{"name": f"as{dc.local_asn}", "localASN": dc.local_asn,
                              "peers": peers}],
        },
    }


def _peer_config(dc: DcPeering, settings: PeerSettings, api: BgpApi, lab: str) -> Resource:
    spec: dict[str, Any] = {
        "timers": _timers(settings),
        "families": [{"afi": "ipv4", "safi": "unicast",
                      "advertisements": {"matchLabels": advertisement_labels(dc)}}],
    }
    if settings.md5:
        spec["authSecretRef"] = SECRET_NAME
    return {"apiVersion": api.api_version, "kind": "CiliumBGPPeerConfig",
            "metadata": _meta(peer_config_name(dc, settings), lab), "spec": spec}


def _advertisement(dc: DcPeering, api: BgpApi, lab: str) -> Resource:
    return {"apiVersion": api.api_version, "kind": "CiliumBGPAdvertisement",
            "metadata": _meta(advertisement_name(dc), lab, advertisement_labels(dc)),
            "spec": {"advertisements": [{"advertisementType": "PodCIDR"}]}}


def _peering_policy(dc: DcPeering, api: BgpApi, lab: str) -> Resource:
    neighbours = []
    for p in dc.peers:
        n: dict[str, Any] = {"peerAddress": f"{p.address}/32", "peerASN": p.asn,
                             **_timers(p.settings)}
        if p.settings.md5:
            n["authSecretRef"] = SECRET_NAME
        neighbours.append(n)
    return {
        "apiVersion": api.api_version, "kind": "CiliumBGPPeeringPolicy",
        "metadata": _meta(cluster_config_name(dc), lab),
        "spec": {
            "nodeSelector": {"matchLabels": dc.selector},
            "virtualRouters": [{"localASN": dc.local_asn, "exportPodCIDR": True,
                                "neighbors": neighbours}],
        },
    }


def dc_resources(dc: DcPeering, api: BgpApi, lab: str) -> list[Resource]:
    """The datacentre's resources, in apply order (referenced objects first)."""
    if api.flavour == BgpFlavour.peering_policy:
        return [_peering_policy(dc, api, lab)]
    return [
        _advertisement(dc, api, lab),
        *(_peer_config(dc, s, api, lab) for s in dc.peer_settings),
        _cluster_config(dc, api, lab),
    ]
