"""`nativek8s destroy` on Proxmox: the lab's VMs (name and lab tags must match: a vmid that
now holds somebody else's VM is kept), the boot disks it uploaded, its vnets and zone
(SDN objects of others, even inside the lab's zone, are kept), then the SDN is applied.
Installer ISOs stay: they are shared by content with other labs.
"""

from __future__ import annotations

from nativek8s.api import LabContext

from .images import remove_lab_images
from .sdn import remove_sdn
from .site import connect
from .vms import Vms


def destroy(ctx: LabContext) -> list[str]:
    plan, state, echo = ctx.plan, ctx.state, ctx.echo
    conn, options = connect(plan)
    timeout = next(iter(options.values())).task_timeout
    vms = Vms(conn, plan, state, timeout)
    listing = vms.cluster_vms()
    removed: list[str] = []
    for machine in plan.machines:
        gone = vms.remove(machine, echo, listing)
        if gone:
            removed.append(gone)
    # Where the lab's disks may be: each image storage on every node the lab used.
    nodes = {str(v["node"]) for v in listing if vms.ours_any(v)}
    nodes |= {o.node for o in options.values() if o.node}
    nodes |= {str(r["node"]) for k, r in state.resources().items()
              if k.startswith("proxmox:vm:") and "node" in r}
    if not nodes:
        nodes = {str(n["node"]) for n in conn.get("/nodes") or []}
    places = {(n, o.image_storage) for n in nodes for o in options.values()}
    removed += remove_lab_images(conn, plan, state, places, timeout)
    removed += remove_sdn(conn, plan, state, echo, timeout)
    return removed
