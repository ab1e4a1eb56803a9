"""Each node's BGP speaker as a backend-neutral intent, from the same per-datacentre
peering the Cilium resources come from (:func:`peering.dc_peerings`).

What Cilium does with the resources, the intent says directly: the node dials out (it
does not listen on 179) from its own address, in the cluster's AS, to its datacentre's
routers, and exports only its own PodCIDR.
"""

from __future__ import annotations

from nativek8s.api import MD5_SECRET, PeerIntent, Plan, SpeakerIntent

from .peering import DcPeering, RouterPeer, dc_peerings


def _peer(p: RouterPeer) -> PeerIntent:
    s = p.settings
    return PeerIntent(address=p.address, asn=p.asn, hold_time=s.hold_time,
                      keepalive_time=s.keepalive_time, connect_retry=s.connect_retry,
                      md5_secret=MD5_SECRET if s.md5 else None)


def dc_intents(dc: DcPeering) -> list[SpeakerIntent]:
    peers = tuple(_peer(p) for p in dc.peers)
    return [SpeakerIntent(node=n.name, router_id=n.router_id, local_asn=dc.local_asn,
                          listen=False, peers=peers, prefixes=(n.pod_cidr,))
            for n in dc.nodes]


def speaker_intents(plan: Plan) -> list[SpeakerIntent]:
    """One intent per node, in plan order of datacentres."""
    return [intent for dc in dc_peerings(plan) for intent in dc_intents(dc)]
