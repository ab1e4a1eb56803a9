"""`nativek8s render` for Proxmox: the SDN objects and each VM's create parameters, as the
API calls deploy would make, and the routes this host needs into the LANs, without
contacting the cluster (so what only the cluster knows -- vmids, VNIs, uploaded file
names, the routers' WAN addresses -- is shown as a placeholder).
"""

from __future__ import annotations

import json
from typing import Any

from nativek8s.api import Machine, Plan, RenderContext, RenderedFile

from .layout import make_layout
from .management import render_management
from .options import ProxmoxOptions
from .sdn import sdn_spec
from .site import lab_options
from .vmconfig import Media, is_router, vm_params


def _placeholder_media(plan: Plan, machine: Machine, opts: ProxmoxOptions) -> Media:
    if is_router(machine):
        return Media(disk=f"{opts.image_storage}:import/nk8s-{plan.lab}-{machine.name}-"
                          "<sha256[:16]>.<raw|qcow2>")
    return Media(iso=f"{opts.image_storage}:iso/nk8s-<installer>-<sha256[:16]>.iso")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def render(ctx: RenderContext) -> list[RenderedFile]:
    plan = ctx.plan
    options = lab_options(plan)
    layout = make_layout(plan, options, None)
    peers: dict[str, str] = {}
    for dc_opts in options.values():
        peers.update(dc_opts.vxlan_peers or {})
    for node in layout.used_nodes:
        peers.setdefault(node, f"<address of {node} from /cluster/status>")
    spec = sdn_spec(plan, layout, peers)
    vni = "<free VNI chosen at deploy>" if spec.type == "vxlan" else None
    sdn = {
        "zone": {"POST /cluster/sdn/zones": spec.zone_params()},
        "vnets": [{"network": v.key, "POST /cluster/sdn/vnets": spec.vnet_params(v, vni)}
                  for v in spec.vnets],
        "apply": "PUT /cluster/sdn",
    }
    files = [RenderedFile(path="sdn.json", content=_json(sdn)),
             RenderedFile(path="management.json", content=_json(render_management(plan)))]
    for position, m in enumerate(plan.machines):
        opts = options.get(m.datacentre)
        if opts is None:
            continue
        node = layout.node_of(m.datacentre)
        media = _placeholder_media(plan, m, opts)
        params = vm_params(plan, m, opts, spec.type == "vxlan", media,
                           f"<{opts.vmid_start + position}, or the next free id>")
        vm = {f"POST /nodes/{node}/qemu": params,
              "then": f"POST /nodes/{node}/qemu/<vmid>/status/start"}
        files.append(RenderedFile(path=f"vms/{m.name}.json", content=_json(vm),
                                  machine=m.name))
    return files
