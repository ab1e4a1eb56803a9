"""Talos machine-config patches (strategic merge documents) generated from the plan.

Three patches, applied in this order by talosctl:

- cluster (``gen config --config-patch``): CNI none, kube-proxy off, pod/service CIDRs.
- control plane (``--config-patch-control-plane``, 1.14 only): the documents 1.14 allows on
  control-plane machines only (KubeFlannelCNIConfig, KubeProxyConfig).
- node (``apply-config --config-patch``): install disk and pinned installer, the
  ``dc=<datacentre>`` label the CNI's BGP selectors match, and the static hostname.

1.13 takes the article's v1alpha1 form; 1.14 the separate documents that replace it (see
``versions``). Hostname: the plan's ``resource_name`` (``<lab>-<node>``), which is also the
Kubernetes node name other plugins use. Addresses are not configured here: the node keeps
the address its datacentre router's DHCP hands its planned MAC (see docs/nodeos/talos.md).
"""

from __future__ import annotations

from typing import Any

import yaml

from nativek8s.api import NodePlan, Plan

from .images import installer_image
from .options import TalosOptions
from .versions import TalosVersion

NODE_LABEL = "dc"  # the article's label; its value is the node's datacentre
DEFAULT_POD_MASK = 24  # kube-controller-manager's default IPv4 node CIDR size
KUBE_PROXY_IMAGE = "registry.k8s.io/kube-proxy"  # constants.KubeProxyImage

Doc = dict[str, Any]


def _doc(kind: str, **fields: Any) -> Doc:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


def hostname(node: NodePlan) -> str:
    return node.resource_name


def cluster_patch(plan: Plan, version: TalosVersion) -> list[Doc]:
    """For every machine: no CNI, no kube-proxy, the plan's pod and service CIDRs."""
    pods, services = [str(plan.cluster.pods)], [str(plan.cluster.services)]
    mask = plan.cluster.pod_mask
    if version.multidoc:
        network = _doc("KubeNetworkConfig", podSubnets=pods, serviceSubnets=services)
        if mask != DEFAULT_POD_MASK:
            network["nodeCIDRMaskSizeIPv4"] = mask
        return [network]
    cluster: Doc = {
        "network": {"cni": {"name": "none"}, "podSubnets": pods, "serviceSubnets": services},
        "proxy": {"disabled": True},
    }
    if mask != DEFAULT_POD_MASK:
        cluster["controllerManager"] = {"extraArgs": {"node-cidr-mask-size-ipv4": str(mask)}}
    return [{"cluster": cluster}]


def controlplane_patch(version: TalosVersion, kubernetes: str) -> list[Doc]:
    """1.14: delete the generated Flannel document and turn kube-proxy off. Both kinds are
    control-plane-only documents (a worker config holding them is refused)."""
    if not version.multidoc:
        return []
    return [
        _doc("KubeFlannelCNIConfig", **{"$patch": "delete"}),
        # image is required by the schema; the same one gen config writes for this version
        _doc("KubeProxyConfig", enabled=False, image=f"{KUBE_PROXY_IMAGE}:v{kubernetes}"),
    ]


def node_patch(node: NodePlan, version: TalosVersion, options: TalosOptions) -> list[Doc]:
    """One node's install target, datacentre label and hostname."""
    image = installer_image(options, version)
    labels = {NODE_LABEL: node.datacentre}
    name = _doc("HostnameConfig", auto="off", hostname=hostname(node))
    if version.multidoc:
        match = f'disk.dev_path == "{options.install_disk}"'
        return [
            _doc("UnattendedInstallConfig", installer={"image": image},
                 provisioning={"diskSelector": {"match": match}}),
            _doc("KubeNodeConfig", labels=labels),
            name,
        ]
    machine = {"install": {"disk": options.install_disk, "image": image}, "nodeLabels": labels}
    return [{"machine": machine}, name]


def dump(docs: list[Doc], header: list[str] | None = None) -> str:
    """YAML documents; strings YAML 1.1 would read as booleans (``off``) come out quoted."""
    body = "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False)
                        for d in docs)
    comments = "".join(f"# {line}\n" for line in header or [])
    return comments + body
