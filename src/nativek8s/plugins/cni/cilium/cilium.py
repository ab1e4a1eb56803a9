"""The `cilium` plugin object: renders Helm values and BGP resources, gives each node's
BGP intent, deploys on a real cluster and checks it there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nativek8s.api import (
    CNI,
    MD5_SECRET,
    CheckResult,
    LabContext,
    Plan,
    RenderContext,
    RenderedFile,
    SpeakerIntent,
    Step,
)

from .bgp_resources import dc_resources
from .intent import speaker_intents
from .manifests import yaml_documents, yaml_file
from .node_labels import node_labels
from .options import chart_version, options_of
from .peering import NODE_LABEL, dc_peerings
from .secret import md5_secret
from .values import helm_values
from .versions import BgpFlavour, bgp_api

if TYPE_CHECKING:
    from .observer import CiliumObserver


class Cilium(CNI):
    name = "cilium"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
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

    def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]:
        return speaker_intents(plan)

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        """install → (with node labels) BGP resources → BGP sessions up; see deploy.py."""
        from .deploy import deploy_steps

        return list(deploy_steps(ctx))

    def cluster_checks(self, ctx: LabContext) -> list[CheckResult] | None:
        """Verify checks through Kubernetes (BGP per node, running config, pod sources)."""
        from .deploy import cluster_checks

        return cluster_checks(ctx)

    def observer(self, ctx: LabContext) -> CiliumObserver:
        """The node half of an Observer for a real cluster (close() it after use)."""
        from .deploy import observer

        return observer(ctx)
