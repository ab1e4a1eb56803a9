"""The commented topology `nativek8s init` writes."""

from __future__ import annotations

from .load import reference_text

_HEADER_END = "datacentres:\n"


def topology_text(datacentres: int | None, nodes_per_dc: int | None, name: str | None) -> str:
    """The reference lab's file, or one with N datacentres of M nodes, same comments."""
    ref = reference_text()
    if datacentres is None and nodes_per_dc is None:
        return ref if name is None else ref.replace("name: reference", f"name: {name}", 1)
    dcs, per_dc = datacentres or 2, nodes_per_dc or 1
    head, rest = ref.split(_HEADER_END, 1)
    tail = rest[rest.index("\nasn:") + 1:]
    head = head.replace("name: reference", f"name: {name or 'lab'}", 1)
    body = [_HEADER_END.rstrip("\n")]
    for d in range(1, dcs + 1):
        body += [f"  dc{d}:", f"    lan: 10.{d}.0.0/24"]
        if d == 1:
            body.append("    # routers: {router-1: {}} # default: one router named router-<index>")
        body.append("    nodes:")
        for k in range(1, per_dc + 1):
            role = "controlplane" if d == 1 and k == 1 else "worker"
            body.append(f"      dc{d}-node-{k}: {{role: {role}}}")
    return head + "\n".join(body) + "\n\n" + tail
