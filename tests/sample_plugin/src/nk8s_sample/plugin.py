"""BGP speakers straight from the plan's sessions: each node peers with the routers the plan
gives it and announces its PodCIDR (``announce_pods``). The netns backend runs the intent;
render writes a summary."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from nativek8s.api import (
    CNI,
    MD5_SECRET,
    CNISpec,
    PeerIntent,
    Plan,
    RenderContext,
    RenderedFile,
    SpeakerIntent,
    hookimpl,
)


class SampleOptions(BaseModel):
    """`options.sample-bgp` in a topology; `-O sample-bgp.announce_pods=false` for one run."""

    model_config = ConfigDict(extra="forbid")
    announce_pods: bool = True


class SampleBgp(CNI):
    name = "sample-bgp"

    def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]:
        options = SampleOptions.model_validate(plan.options_for(self.name))
        intents = []
        for node in plan.nodes:
            peers = []
            listen = True
            for session in plan.sessions_of(node.name):
                local, remote = session.sides(node.name)
                listen = local.listens
                peers.append(PeerIntent(
                    address=remote.address, asn=remote.asn, hold_time=session.hold_time,
                    keepalive_time=session.keepalive_time,
                    connect_retry=session.connect_retry,
                    md5_secret=MD5_SECRET if session.md5 else None))
            intents.append(SpeakerIntent(
                node=node.name, router_id=node.router_id, local_asn=node.asn,
                listen=listen, peers=tuple(peers),
                prefixes=(node.pod_cidr,) if options.announce_pods else ()))
        return intents

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        options = ctx.options(self.name, SampleOptions)
        lines = [f"{i.node} AS{i.local_asn} -> {', '.join(str(p.address) for p in i.peers)}"
                 for i in self.bgp_intent(ctx.plan)]
        lines.append(f"announce_pods: {options.announce_pods}")
        return [RenderedFile(path="speakers.txt", content="\n".join(lines) + "\n")]


@hookimpl
def nativek8s_cnis() -> list[CNISpec]:
    return [CNISpec(name="sample-bgp", factory=SampleBgp, options=SampleOptions,
                    description="BGP speakers from the plan's sessions (sample)")]
