"""Per-datacentre peering: the one description both the BGP resources and the BGP intent
are derived from.

Cilium configures BGP per group of nodes (a node selector), so nativek8s groups by
datacentre: every node labelled ``dc=<datacentre>`` peers with that datacentre's routers.
Everything here comes from the plan's eBGP sessions; nothing is computed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from nativek8s.api import BgpKind, NodePlan, Plan, PluginError

NODE_LABEL = "dc"  # the article's node label; its value is the datacentre name


@dataclass(frozen=True, order=True)
class PeerSettings:
    """What one CiliumBGPPeerConfig carries: timers and whether TCP-MD5 is on."""

    hold_time: int
    keepalive_time: int
    connect_retry: int
    md5: bool


@dataclass(frozen=True)
class RouterPeer:
    name: str  # the router's machine name; also the peer's name in the resources
    address: IPv4Address  # the router's address on the datacentre LAN
    asn: int
    settings: PeerSettings


@dataclass(frozen=True)
class NodeSpeaker:
    name: str
    router_id: IPv4Address
    pod_cidr: IPv4Network  # what the PodCIDR advertisement announces for this node


@dataclass(frozen=True)
class DcPeering:
    datacentre: str
    local_asn: int
    nodes: tuple[NodeSpeaker, ...]
    peers: tuple[RouterPeer, ...]

    @property
    def selector(self) -> dict[str, str]:
        """matchLabels of the nodes this datacentre's resources apply to."""
        return {NODE_LABEL: self.datacentre}

    @property
    def peer_settings(self) -> tuple[PeerSettings, ...]:
        """Distinct settings, in first-use order: one CiliumBGPPeerConfig each."""
        return tuple(dict.fromkeys(p.settings for p in self.peers))


def _node_peers(plan: Plan, node: NodePlan) -> tuple[RouterPeer, ...]:
    peers = []
    for session in plan.sessions_of(node.name):
        if session.kind != BgpKind.ebgp:
            continue
        local, remote = session.sides(node.name)
        if local.asn != plan.cluster.asn:
            raise PluginError(f"session {session.name}: node {node.name} is in AS {local.asn} "
                              f"but Cilium runs one local AS for the cluster ({plan.cluster.asn})")
        settings = PeerSettings(session.hold_time, session.keepalive_time,
                                session.connect_retry, session.md5)
        peers.append(RouterPeer(remote.machine, remote.address, remote.asn, settings))
    return tuple(sorted(peers, key=lambda p: p.name))


def dc_peerings(plan: Plan) -> list[DcPeering]:
    """Each datacentre with nodes, its nodes' speakers and the routers they peer with."""
    out: list[DcPeering] = []
    for dc in plan.datacentres:
        nodes = [n for n in plan.nodes if n.datacentre == dc.name]
        if not nodes:
            continue  # nothing to select: no resources
        first = _node_peers(plan, nodes[0])
        for node in nodes[1:]:
            if (other := _node_peers(plan, node)) != first:
                raise PluginError(
                    f"datacentre {dc.name}: Cilium gives every node labelled "
                    f"{NODE_LABEL}={dc.name} the same peers, but {nodes[0].name} peers with "
                    f"{[p.name for p in first]} and {node.name} with {[p.name for p in other]}")
        if not first:
            raise PluginError(f"datacentre {dc.name}: its nodes have no eBGP session in the "
                              "plan; their PodCIDRs would not be advertised")
        speakers = tuple(NodeSpeaker(n.name, n.router_id, n.pod_cidr) for n in nodes)
        out.append(DcPeering(dc.name, plan.cluster.asn, speakers, first))
    return out
