"""The ``dc=<datacentre>`` node labels the BGP resources select on, as partial Node objects
(what a server-side apply of the labels sends; Talos sets the same labels at boot)."""

from __future__ import annotations

from typing import Any

from nativek8s.api import NodePlan, Plan

from .peering import NODE_LABEL


def kube_node_name(node: NodePlan) -> str:
    # The node OS names the machine "<lab>-<name>" (plan: VM, namespace and hostname).
    return node.resource_name


def node_labels(plan: Plan) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Node",
             "metadata": {"name": kube_node_name(n), "labels": {NODE_LABEL: n.datacentre}}}
            for n in plan.nodes]
