"""The files Cilium's render gives: Helm values, each datacentre's BGP resources, the node
labels they select on, and the MD5 Secret when the lab uses one."""

from __future__ import annotations

from nativek8s.api import MD5_SECRET, RenderContext, RenderedFile

from .bgp_resources import dc_resources
from .manifests import yaml_documents, yaml_file
from .node_labels import node_labels
from .options import chart_version, options_of
from .peering import NODE_LABEL, dc_peerings
from .secret import md5_secret
from .values import helm_values
from .versions import BgpFlavour, bgp_api


def rendered(ctx: RenderContext) -> list[RenderedFile]:
    plan = ctx.plan
    options = options_of(plan)
    version = plan.versions["cilium"]
    api = bgp_api(version, options.peering_policy)
    kinds = ("CiliumBGPPeeringPolicy" if api.flavour == BgpFlavour.peering_policy
             else "CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement")
    files = [RenderedFile(path="values.yaml", content=yaml_file(
        helm_values(plan, options),
        [f"Helm values for chart cilium/cilium {chart_version(plan)} (lab {plan.lab}):",
         "native routing, BGP control plane, no masquerade."]))]
    for dc in dc_peerings(plan):
        header = [f"Cilium {version} BGP resources of datacentre {dc.datacentre} "
                  f"({api.api_version}): {kinds}.",
                  f"Nodes labelled {NODE_LABEL}={dc.datacentre} peer with "
                  f"{', '.join(p.name for p in dc.peers)}."]
        if api.warning:
            header.append(f"WARNING: {api.warning}")
        files.append(RenderedFile(path=f"bgp/{dc.datacentre}.yaml",
                                  content=yaml_documents(dc_resources(dc, api, plan.lab),
                                                         header)))
    if plan.md5:
        password = ctx.secrets.get(MD5_SECRET)
        files.append(RenderedFile(
            path="bgp-secret.yaml", secret=True,
            content=yaml_file(md5_secret(password, plan.lab),
                              ["TCP-MD5 password of the BGP sessions (lab secret "
                               f"{MD5_SECRET}); keep private."])))
    files.append(RenderedFile(path="node-labels.yaml", content=yaml_documents(
        node_labels(plan), [f"Node labels the BGP resources select on ({NODE_LABEL}=...)."])))
    return files
