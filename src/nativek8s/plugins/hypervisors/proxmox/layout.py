"""Where the lab goes: the Proxmox node of each datacentre, and the SDN zone type that follows
(one node: a `simple` zone; several: `vxlan`, so a datacentre LAN spans the nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

from nativek8s.api import Plan, UsageError

from .options import ProxmoxOptions

AUTO_NODE = "(the cluster's only node)"  # render's stand-in for a node chosen at deploy


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, str]  # datacentre → Proxmox node

    def node_of(self, datacentre: str) -> str:
        return self.nodes[datacentre]

    @property
    def used_nodes(self) -> list[str]:
        return sorted(set(self.nodes.values()))

    @property
    def zone_type(self) -> str:
        return "vxlan" if len(self.used_nodes) > 1 else "simple"


def make_layout(plan: Plan, options: dict[str, ProxmoxOptions],
                cluster_nodes: list[str] | None) -> Layout:
    """Datacentre → node from the options; a datacentre without one goes to the cluster's
    only node. ``cluster_nodes`` None (render, no API): such datacentres show AUTO_NODE."""
    nodes: dict[str, str] = {}
    problems = []
    for dc, opts in options.items():
        if opts.node:
            if cluster_nodes is not None and opts.node not in cluster_nodes:
                problems.append(f"datacentres.{dc}.options.proxmox.node: no Proxmox node "
                                f"{opts.node!r}; the cluster has: {', '.join(cluster_nodes)}")
            nodes[dc] = opts.node
        elif cluster_nodes is None:
            nodes[dc] = AUTO_NODE
        elif len(cluster_nodes) == 1:
            nodes[dc] = cluster_nodes[0]
        else:
            problems.append(f"datacentres.{dc}.options.proxmox.node: the cluster has several "
                            f"nodes ({', '.join(cluster_nodes)}); say which one hosts {dc}")
    if problems:
        raise UsageError("\n".join(problems))
    return Layout(nodes)
