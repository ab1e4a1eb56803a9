"""A lab on the stand-ins for the cilium plugin's cluster tests: the plan's nodes in a
stand-in Kubernetes API server, the lab's state folder with its kubeconfig, and the
helm/cilium CLI stand-ins on PATH.

A plain module (not conftest) so tests import it by a name no other test folder uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nativek8s.api import LabContext, LabState, Plan
from nativek8s.plugins.cni.cilium.kube import Kube, kubeconfig_path
from nativek8s.plugins.cni.cilium.node_labels import kube_node_name
from tests.standins.kube_api import KubeApiServer, kube_api_server

Ctx = LabContext  # the real context, with no other plugins (cilium's steps need none)


def make_ctx(plan: Plan, root: Path) -> LabContext:
    state = LabState(plan.lab, root=root)
    state.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return LabContext.of(plan, state, echo=lambda _line: None)


def calls(log: Path) -> list[dict[str, Any]]:
    """The CLI stand-ins' recorded calls."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@contextmanager
def cluster(ctx: Ctx, labelled: bool = True, cilium_crds: str | None = None,
            pod_cidrs: bool = True, **options: Any) -> Iterator[KubeApiServer]:
    """A stand-in API server holding the plan's nodes (with their planned PodCIDRs, or with
    none as they register when the controller-manager's node IPAM is off), its kubeconfig
    where the lab keeps it."""
    with kube_api_server(kubeconfig_path(ctx), cilium_crds=cilium_crds, **options) as srv:
        for node in ctx.plan.nodes:
            register(srv, ctx, node, labelled, str(node.pod_cidr) if pod_cidrs else "")
        yield srv


def register(srv: KubeApiServer, ctx: Ctx, node: Any, labelled: bool = True,
             pod_cidr: str = "") -> dict[str, Any]:
    """A kubelet registering a planned node (its Node object appears)."""
    labels = {"dc": node.datacentre} if labelled else {}
    return srv.add_node(kube_node_name(node), labels, internal_ip=str(node.address.ip),
                        pod_cidr=pod_cidr)


def connect(ctx: Ctx) -> Kube:
    return Kube.connect(kubeconfig_path(ctx), ctx.state.dir / "discovery-test.json")
