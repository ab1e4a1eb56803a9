"""`nativek8s render`: the libvirt XML of every network, the pool, volumes and domains.

Files go to ``libvirt/networks/<name>.xml``, ``libvirt/pool/<name>.xml``,
``libvirt/volumes/<name>.xml`` and ``libvirt/domains/<name>.xml``; each can be given to
``virsh net-define``, ``pool-define``, ``vol-create`` and ``define`` by hand. The domain
type of ``domain_type: auto`` renders as ``kvm`` (deploy falls back to ``qemu`` when the host
has no KVM).
"""

from __future__ import annotations

from nativek8s.api import RenderContext, RenderedFile, lab_dir

from .media import planned_media
from .options import options_of
from .specs import domain_spec, network_specs, pool_spec
from .xml.domain import domain_xml
from .xml.network import network_xml
from .xml.storage import pool_xml, volume_xml

PLUGIN = "libvirt"


def render(ctx: RenderContext) -> list[RenderedFile]:
    plan = ctx.plan
    state_dir = lab_dir(plan.lab) / "backend" / PLUGIN  # where deploy keeps this lab's files
    files = [RenderedFile(path=f"networks/{s.name}.xml", content=network_xml(s))
             for s in network_specs(plan)]
    pools = {}
    for machine in plan.machines:
        opts = options_of(plan, machine.datacentre)
        media = planned_media(ctx, machine)
        kind = "kvm" if opts.domain_type == "auto" else opts.domain_type
        spec = domain_spec(plan, machine, media, kind, state_dir)
        pool = pool_spec(plan, spec.uri, state_dir)
        if pool.path is not None:
            pools[pool.name] = pool
        files += [RenderedFile(path=f"volumes/{v.name}.xml", content=volume_xml(v),
                               machine=machine.name) for v in spec.volumes]
        files.append(RenderedFile(path=f"domains/{spec.name}.xml", content=domain_xml(spec),
                                  machine=machine.name))
    files += [RenderedFile(path=f"pool/{p.name}.xml", content=pool_xml(p))
              for p in pools.values()]
    return files
