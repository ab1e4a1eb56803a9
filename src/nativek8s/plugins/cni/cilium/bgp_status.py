"""Each node's BGP sessions as Cilium reports them, and the wait until they are up.

BGPv2 (the ClusterConfig kinds): the agent writes every peer's ``peeringState`` into the
status of the node's CiliumBGPNodeConfig (named after the node; the operator creates one
per node a CiliumBGPClusterConfig selects). CiliumBGPPeeringPolicy has no such status: its
sessions are read with ``cilium bgp peers -o json`` when the cilium CLI is present.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nativek8s.api import BgpSessionState, NativeK8sError, Plan, Reporter
from nativek8s.shared.waiting import Poll, wait_for

from .kube import Kube
from .node_labels import kube_node_name
from .peering import dc_peerings
from .readiness import NAMESPACE

NODE_CONFIG = "CiliumBGPNodeConfig"
CLI_TIMEOUT = 120  # seconds for `cilium bgp peers` (it execs into every agent)

# node name → its sessions, or None when the node has no BGP state at all
PeerReader = Callable[[str], list[BgpSessionState] | None]


def _asn(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _uptime_since(established: Any) -> float | None:
    """Seconds since an RFC 3339 `establishedTime`."""
    try:
        then = datetime.fromisoformat(str(established).replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((datetime.now(UTC) - then).total_seconds(), 0.0)


def _sessions(status: dict[str, Any]) -> list[BgpSessionState]:
    out = []
    for instance in status.get("bgpInstances") or []:
        for peer in instance.get("peers") or []:
            route_counts = peer.get("routeCount") or []
            counts = ", ".join(f"{c.get('afi', '')}/{c.get('safi', '')} "
                               f"{c.get('advertised', 0)} advertised {c.get('received', 0)} "
                               f"received" for c in route_counts)
            established = peer.get("establishedTime")
            ipv4 = [int(c.get("advertised") or 0) for c in route_counts
                    if (c.get("afi"), c.get("safi")) == ("ipv4", "unicast")]
            out.append(BgpSessionState(
                name=f"{instance.get('name', '')}/{peer.get('name', '')}",
                peer=str(peer.get("peerAddress", "")),
                state=str(peer.get("peeringState") or "unknown"),
                info=f"AS {peer.get('peerASN', '?')}" + (f"; {counts}" if counts else ""),
                local_as=_asn(instance.get("localASN")), peer_as=_asn(peer.get("peerASN")),
                since=str(established or ""),
                uptime_seconds=_uptime_since(established) if established else None,
                received=(sum(c.get("received", 0) for c in route_counts)
                          if route_counts else None),
                advertised=sum(ipv4) if ipv4 else None))
    return out


def _cli_session(p: dict[str, Any]) -> BgpSessionState:
    """One peer of `cilium bgp peers -o json`; Cilium counts received, not accepted."""
    families = p.get("families") or []
    up = str(p.get("session-state", "")).lower() == "established"
    nanos = p.get("uptime-nanoseconds")
    return BgpSessionState(
        name=str(p.get("peer-address", "")), peer=str(p.get("peer-address", "")),
        state=str(p.get("session-state", "unknown")), info=f"AS {p.get('peer-asn', '?')}",
        local_as=_asn(p.get("local-asn")), peer_as=_asn(p.get("peer-asn")),
        uptime_seconds=nanos / 1e9 if up and isinstance(nanos, int) else None,
        received=sum(f.get("received", 0) for f in families) if up and families else None)


def node_config_reader(kube: Kube, api_version: str) -> PeerReader:
    """Sessions from CiliumBGPNodeConfig status (BGPv2)."""
    def read(node: str) -> list[BgpSessionState] | None:
        config = kube.get(api_version, NODE_CONFIG, node)
        return None if config is None else _sessions(config.get("status") or {})
    return read


def cilium_cli_reader(executable: str, kubeconfig: Path) -> PeerReader:
    """Sessions from `cilium bgp peers -o json` (any flavour, through the agents)."""
    def read(node: str) -> list[BgpSessionState] | None:
        argv = [executable, "bgp", "peers", "-o", "json", "--node", node,
                "--namespace", NAMESPACE, "--kubeconfig", str(kubeconfig)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                                  env={**os.environ, "KUBECONFIG": str(kubeconfig)},
                                  check=False)
        except subprocess.TimeoutExpired:
            raise NativeK8sError(f"`cilium bgp peers` did not answer in {CLI_TIMEOUT} s") \
                from None
        if done.returncode != 0:
            raise NativeK8sError(f"`cilium bgp peers` failed: {done.stderr.strip()[-300:]}")
        peers = json.loads(done.stdout or "{}").get(node)
        if peers is None:
            return None
        return [_cli_session(p) for p in peers]
    return read


def expected_peers(plan: Plan) -> dict[str, list[str]]:
    """Kubernetes node name → the router addresses it must have a session with."""
    return {kube_node_name(n): [str(p.address) for p in dc.peers]
            for dc in dc_peerings(plan) for n in plan.nodes if n.datacentre == dc.datacentre}


# node name → the PodCIDRs the API gives it (what Cilium announces in kubernetes IPAM)
CidrReader = Callable[[str], list[str]]


def _announcement(state: BgpSessionState | None) -> tuple[bool, str]:
    """Whether a session is up and carries the node's prefix, in words."""
    if state is None:
        return False, "no session"
    if not state.established:
        return False, state.state
    if state.advertised is None:
        return True, state.state  # the reader cannot count routes (CiliumBGPPeeringPolicy)
    if state.advertised < 1:
        return False, f"{state.state}, but advertising nothing"
    return True, f"{state.state}, advertising {state.advertised}"


def bgp_converged(plan: Plan, read: PeerReader, cidrs: CidrReader | None = None) -> Poll:
    """Every node's sessions Established, each announcing a route, and (given ``cidrs``)
    the prefix it announces is its planned PodCIDR: the one its router's import filter
    accepts from it, so an Established session with another prefix is not converged."""
    done, notes = True, []
    planned = {kube_node_name(n): str(n.pod_cidr) for n in plan.nodes}
    for node, peers in expected_peers(plan).items():
        if cidrs is not None:
            have = cidrs(node)
            if have != [planned[node]]:
                done = False
                notes.append(f"{node}: PodCIDR {', '.join(have) or 'none'}, the router "
                             f"accepts only {planned[node]}")
                continue
        sessions = read(node)
        if sessions is None:
            done = False
            notes.append(f"{node}: no BGP state (is it labelled and selected?)")
            continue
        by_peer = {s.peer: s for s in sessions}
        states = []
        for address in peers:
            ok, words = _announcement(by_peer.get(address))
            done &= ok
            states.append(f"{address} {words}")
        notes.append(f"{node}: {', '.join(states)}")
    return Poll(done, "; ".join(notes))


def wait_bgp(plan: Plan, read: PeerReader, source: str, timeout: float,
             interval: float = 2.0, report: Reporter | None = None,
             cidrs: CidrReader | None = None) -> str:
    return wait_for("every node's BGP sessions Established, announcing its planned PodCIDR",
                    source, lambda: bgp_converged(plan, read, cidrs), timeout, interval,
                    "the routers' `birdc show protocols all` (import filtered); `cilium bgp "
                    "peers`; `kubectl get nodes -o wide`; the agents' logs (grep bgp)",
                    report=report).answer
