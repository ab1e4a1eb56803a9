"""Verify checks of a real cluster that only Kubernetes can answer: every node's BGP
sessions Established, Cilium's running configuration (no tunnel, no masquerade), and pods
in every datacentre seeing each other's own addresses. Each check says what was expected,
what was seen and where to look, like core's verify."""

from __future__ import annotations

from nativek8s.api import CheckResult, NativeK8sError, Plan

from .bgp_status import PeerReader
from .kube import Kube
from .node_labels import kube_node_name
from .probes import PROBE_TIMEOUT, ProbeSession, probe_nodes
from .running_config import config_checks

BGP_HINT = "`cilium bgp peers`; the router's `birdc show protocols all`; the agent's log"
SNAT_HINT = ("masquerading (SNAT) on the path: cilium-config enable-ipv4-masquerade, "
             "ipv4-native-routing-cidr, the routers' NAT rules")


def bgp_checks(plan: Plan, read: PeerReader) -> list[CheckResult]:
    results = []
    for node in plan.nodes:
        name = kube_node_name(node)
        try:
            sessions, error = read(name), ""
        except NativeK8sError as exc:
            sessions, error = [], str(exc)
        by_peer = {s.peer: s for s in sessions or []}
        if sessions is None:
            error = f"no BGP state for {name}: is it labelled dc={node.datacentre}?"
        for session in plan.sessions_of(node.name):
            _, router = session.sides(node.name)
            state = by_peer.get(str(router.address))
            observed = (f"{state.state} ({state.info})" if state
                        else error or f"no session with {router.address} on {name}")
            results.append(CheckResult(
                "bgp", f"{node.name} → {router.machine} ({router.address})",
                bool(state and state.established), "Established", observed,
                node.datacentre, node.name, BGP_HINT))
    return results


def source_checks(kube: Kube, plan: Plan, timeout: float = PROBE_TIMEOUT,
                  interval: float = 2.0) -> list[CheckResult]:
    nodes = probe_nodes(plan)
    pairs = [(a, b) for a in nodes for b in nodes if a.datacentre != b.datacentre]
    if not pairs:
        return []
    results = []
    try:
        with ProbeSession(kube, plan, nodes, timeout, interval) as session:
            for src, dst in pairs:
                near, far = session.pods[src.name], session.pods[dst.name]
                subject = (f"{src.datacentre}→{dst.datacentre} "
                           f"({near.address} → {far.address})")
                seen = session.client_address(src.name, dst.name)
                where = {"datacentre": src.datacentre, "machine": src.name}
                results.append(CheckResult("tcp", subject, seen.ok, "an HTTP answer",
                                           seen.detail, **where,
                                           hint="the BGP sessions and routes above"))
                if seen.ok:
                    results.append(CheckResult(
                        "source", subject, seen.value == near.address,
                        f"the far pod sees {near.address}", f"it saw {seen.value}", **where,
                        hint=SNAT_HINT))
    except NativeK8sError as exc:
        return [CheckResult("tcp", f"{a.datacentre}→{b.datacentre}", False,
                            "test pods in every datacentre", str(exc), a.datacentre, a.name)
                for a, b in pairs]
    return results


def cluster_checks(kube: Kube, plan: Plan, read: PeerReader,
                   probe_timeout: float = PROBE_TIMEOUT) -> list[CheckResult]:
    return bgp_checks(plan, read) + config_checks(kube, plan) + \
        source_checks(kube, plan, probe_timeout)
