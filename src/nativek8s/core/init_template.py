"""The commented topology `nativek8s init` writes."""

from __future__ import annotations

from .load import reference_text

_HEADER_END = "datacentres:\n"
# The defaults (LANs 10.N.0.0/24, pods 10.244.0.0/16 in /24s, services 10.96.0.0/12) hold 95
# datacentres and 256 nodes. Bigger labs get LANs 10.0.N.0/24 and pods 10.128.0.0/10, which
# overlap neither each other nor the services and peering networks.
_DEFAULT_MAX_DCS = 95
_DEFAULT_MAX_NODES = 256
_BIG_PODS_PREFIX = 10
MAX_DATACENTRES = 254  # one router each, at .N of the /24 peering network


def topology_text(datacentres: int | None, nodes_per_dc: int | None, name: str | None) -> str:
    """The reference lab's file, or one with N datacentres of M nodes, same comments."""
    ref = reference_text()
    if datacentres is None and nodes_per_dc is None:
        return ref if name is None else ref.replace("name: reference", f"name: {name}", 1)
    dcs, per_dc = datacentres or 2, nodes_per_dc or 1
    big = dcs > _DEFAULT_MAX_DCS or dcs * per_dc > _DEFAULT_MAX_NODES
    head, rest = ref.split(_HEADER_END, 1)
    tail = rest[rest.index("\nasn:") + 1:]
    head = head.replace("name: reference", f"name: {name or 'lab'}", 1)
    body = [_HEADER_END.rstrip("\n")]
    for d in range(1, dcs + 1):
        lan = f"10.0.{d}.0/24" if big else f"10.{d}.0.0/24"
        body += [f"  dc{d}:", f"    lan: {lan}"]
        if d == 1:
            body.append("    # routers: {router-1: {}} # default: one router named router-<index>")
        body.append("    nodes:")
        for k in range(1, per_dc + 1):
            role = "controlplane" if d == 1 and k == 1 else "worker"
            body.append(f"      dc{d}-node-{k}: {{role: {role}}}")
    if big:
        tail = _big_pods(tail, dcs * per_dc)
    return head + "\n".join(body) + "\n\n" + tail


def _big_pods(tail: str, nodes: int) -> str:
    """Pods in 10.128.0.0/10 with the shortest per-node mask (from /24) that fits every node."""
    mask = 24
    while (1 << (mask - _BIG_PODS_PREFIX)) < nodes:
        mask += 1
    tail = tail.replace("pods: 10.244.0.0/16", f"pods: 10.128.0.0/{_BIG_PODS_PREFIX}", 1)
    return tail.replace("pod_mask: 24                # each node's PodCIDR is a /24",
                        f"pod_mask: {mask}                # each node's PodCIDR is a /{mask}", 1)
