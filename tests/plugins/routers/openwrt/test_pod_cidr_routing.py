"""The lab routes with the PodCIDRs Kubernetes gives the nodes, end to end: the Kubernetes
stand-in registers the nodes in the "wrong" order (node-2, across the peering network,
first; node-1 late), each node's BGP speaker (BIRD standing in for Cilium's) announces the
PodCIDR its Node object has, and the routers run the rendered bird.conf in real BIRD 2 in
network namespaces.

- Handed out in registration order (what kube-controller-manager's node IPAM does): every
  session Established, both PodCIDRs filtered by the routers, no pod route anywhere.
- Given by nativek8s from the plan (cilium's pod_cidrs): every router's kernel table is the
  planned one.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

from nativek8s.api import NativeK8sError, RenderContext, SecretStore
from nativek8s.plugins.cni.cilium.kube import Kube
from nativek8s.plugins.cni.cilium.node_labels import kube_node_name
from nativek8s.plugins.cni.cilium.pod_cidrs import ensure_pod_cidrs, live_pod_cidrs
from nativek8s.plugins.routers.openwrt.openwrt import BIRD_CONF, Openwrt
from nativek8s.shared.bird import parse_protocols
from nativek8s.shared.waiting import WaitTimeout
from tests.standins.kube_api import kube_api_server

from .conftest import plan_of
from .netns_lab import NetnsLab, expected_kernel_routes, node_speaker_config, wait_for
from .test_bird_netns import Lab, _build, _requirements

pytestmark = pytest.mark.netns

TOPOLOGY = """
name: pcr
datacentres:
  dc1: {nodes: {node-1: {role: controlplane}}}
  dc2: {nodes: {node-2: {}}}
"""


def _register(srv, node) -> None:
    srv.add_node(kube_node_name(node), {"dc": node.datacentre},
                 internal_ip=str(node.address.ip))


def _announce(lab: Lab, cidrs: dict[str, list[str]]) -> None:
    """(Re)start every node's speaker announcing the PodCIDR its Node object has."""
    for node in lab.plan.nodes:
        lab.netns.stop_bird(node.name)
        lab.netns.start_bird(node.name, node_speaker_config(
            lab.plan, node, [IPv4Network(c) for c in cidrs[node.name]], None))


def _import_counts(lab: Lab, router: str, node: str) -> tuple[str, dict[str, int]] | None:
    """The session's state and import counters (None while BIRD is still starting)."""
    try:
        (status,) = parse_protocols(lab.birdc(router, "show", "protocols", "all",
                                              f"'{router}--{node}'"))
    except NativeK8sError:
        return None
    return status.bgp_state or status.state, dict(status.import_updates)


def test_the_plans_pod_cidrs_route_whatever_order_nodes_register(tmp_path: Path) -> None:
    if reason := _requirements():
        pytest.skip(reason)
    plan = plan_of(tmp_path, TOPOLOGY)
    node1, node2 = plan.nodes
    files = Openwrt().render(RenderContext(plan=plan, secrets=SecretStore(tmp_path / "s")))
    netns = NetnsLab(tmp_path)
    try:
        lab = Lab(netns, plan, "")
        _build(lab)
        for router in plan.routers:
            conf = next(f for f in files if f.machine == router.name and f.target == BIRD_CONF)
            netns.start_bird(router.name, conf.content)

        # Registration order decides (node IPAM on): node-2 came first, got the first /24.
        raced = {node2.name: [str(node1.pod_cidr)], node1.name: [str(node2.pod_cidr)]}
        _announce(lab, raced)
        pairs = [("router-1", "node-1"), ("router-2", "node-2")]
        assert wait_for(lambda: all(_import_counts(lab, r, n) == (
            "Established", {"received": 1, "rejected": 0, "filtered": 1, "ignored": 0,
                            "accepted": 0}) for r, n in pairs), timeout=30), \
            [_import_counts(lab, r, n) for r, n in pairs]
        pod_routes = {node1.pod_cidr, node2.pod_cidr}
        for router in plan.routers:
            assert not {p for p, _, _ in netns.kernel_routes(router.name)} & pod_routes

        # nativek8s: the same order, node-1 even later, and the plan's PodCIDRs.
        kubeconfig = tmp_path / "kubeconfig"
        with kube_api_server(kubeconfig) as srv:
            _register(srv, node2)
            kube = Kube.connect(kubeconfig, tmp_path / "discovery.json")
            with pytest.raises(WaitTimeout, match=f"not registered: {kube_node_name(node1)}"):
                ensure_pod_cidrs(kube, plan, timeout=0, interval=0)
            _register(srv, node1)
            ensure_pod_cidrs(kube, plan, timeout=10, interval=0)
            given = {n.name: live_pod_cidrs(kube, kube_node_name(n)) for n in plan.nodes}
        assert given == {n.name: [str(n.pod_cidr)] for n in plan.nodes}
        _announce(lab, given)
        assert wait_for(lab.converged, timeout=30), {
            r.name: netns.kernel_routes(r.name) ^ expected_kernel_routes(plan, r.name)
            for r in plan.routers}
        for router, node in pairs:
            found = _import_counts(lab, router, node)
            assert found is not None
            state, counts = found
            assert (state, counts["accepted"], counts["filtered"]) == ("Established", 1, 0)
    finally:
        netns.close()
