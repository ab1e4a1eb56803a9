"""Talos machine-config patches (strategic merge documents) generated from the plan.

Three patches, applied in this order by talosctl:

- cluster (``gen config --config-patch``): CNI none, kube-proxy off, pod/service CIDRs, and
  (1.13) kube-controller-manager's ``allocate-node-cidrs`` off and control planes
  schedulable (``allowSchedulingOnControlPlanes``).
- control plane (``--config-patch-control-plane``, 1.14 only): the documents 1.14 allows on
  control-plane machines only (KubeFlannelCNIConfig, KubeProxyConfig,
  KubeControllerManagerConfig with ``allocate-node-cidrs`` off), and the control-plane
  NoSchedule taint deleted from their KubeNodeConfig (schedulable, as 1.13's flag).

PodCIDRs: the routers accept from each node exactly the PodCIDR the plan gives it, so the
controller-manager must not hand them out (it does so in registration order, a race between
datacentres). Its node IPAM is turned off here and the CNI plugin writes each Node's
``spec.podCIDR`` from the plan as the node registers (see docs/nodeos/talos.md).
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
KUBE_CONTROLLER_MANAGER_IMAGE = "registry.k8s.io/kube-controller-manager"
# Talos starts kube-controller-manager with --allocate-node-cidrs=true; extraArgs replace a
# default of the same name (it is not one of the flags Talos refuses to override).
NO_NODE_IPAM = {"allocate-node-cidrs": "false"}
# The taint gen config puts on control planes (1.14: in their KubeNodeConfig).
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"

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
    args = dict(NO_NODE_IPAM)
    if mask != DEFAULT_POD_MASK:
        args["node-cidr-mask-size-ipv4"] = str(mask)
    cluster: Doc = {
        "network": {"cni": {"name": "none"}, "podSubnets": pods, "serviceSubnets": services},
        "proxy": {"disabled": True},
        "controllerManager": {"extraArgs": args},
        # a lab's control planes run workloads too: a datacentre whose only node is the
        # control plane still gets the user's pods (the article's ping test)
        "allowSchedulingOnControlPlanes": True,
    }
    return [{"cluster": cluster}]


def controlplane_patch(version: TalosVersion, kubernetes: str) -> list[Doc]:
    """1.14: delete the generated Flannel document, turn kube-proxy off and the
    controller-manager's node IPAM off. These kinds are control-plane-only documents (a
    worker config holding them is refused)."""
    if not version.multidoc:
        return []
    # image is required by the schema; the same ones gen config writes for this version
    return [
        _doc("KubeFlannelCNIConfig", **{"$patch": "delete"}),
        _doc("KubeProxyConfig", enabled=False, image=f"{KUBE_PROXY_IMAGE}:v{kubernetes}"),
        _doc("KubeControllerManagerConfig", image=f"{KUBE_CONTROLLER_MANAGER_IMAGE}:v{kubernetes}",
             extraArgs=dict(NO_NODE_IPAM)),
        # 1.14 replaces allowSchedulingOnControlPlanes by the taint in KubeNodeConfig:
        # control planes run workloads too (see cluster_patch)
        _doc("KubeNodeConfig", taints={CONTROL_PLANE_TAINT: {"$patch": "delete"}}),
    ]


def node_patch(node: NodePlan, version: TalosVersion, options: TalosOptions,
               disk: str) -> list[Doc]:
    """One node's install target (``disk``, see ``disks``), datacentre label and hostname."""
    image = installer_image(options, version)
    labels = {NODE_LABEL: node.datacentre}
    name = _doc("HostnameConfig", auto="off", hostname=hostname(node))
    if version.multidoc:
        match = f'disk.dev_path == "{disk}"'
        return [
            _doc("UnattendedInstallConfig", installer={"image": image},
                 provisioning={"diskSelector": {"match": match}}),
            _doc("KubeNodeConfig", labels=labels),
            name,
        ]
    machine = {"install": {"disk": disk, "image": image}, "nodeLabels": labels}
    return [{"machine": machine}, name]


def dump(docs: list[Doc], header: list[str] | None = None) -> str:
    """YAML documents; strings YAML 1.1 would read as booleans (``off``) come out quoted."""
    body = "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False)
                        for d in docs)
    comments = "".join(f"# {line}\n" for line in header or [])
    return comments + body
