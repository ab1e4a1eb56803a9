"""The `cilium` plugin object: renders Helm values and BGP resources, gives each node's
BGP intent, deploys on a real cluster and checks it there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nativek8s.api import (
    CNI,
    CheckResult,
    LabContext,
    Plan,
    RenderContext,
    RenderedFile,
    SpeakerIntent,
    Step,
)

# Only the BGP intent is imported with the class: it is all a netns lab (which emulates
# the CNI) asks of Cilium, in every deploy, verify and status; render's modules (YAML) and
# the cluster's (Kubernetes) are imported when used.
from .intent import speaker_intents

if TYPE_CHECKING:
    from .observer import CiliumObserver


class Cilium(CNI):
    name = "cilium"

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        """Helm values, BGP resources, node labels (and the MD5 Secret); see render.py."""
        from .render import rendered

        return rendered(ctx)

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
