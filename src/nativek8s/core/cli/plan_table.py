"""The human-readable view of a plan: `nativek8s plan`."""

from __future__ import annotations

from ..plan import ExpectedRoute, Plan


def _route(r: ExpectedRoute) -> str:
    hop = f"via {' | '.join(map(str, r.via))}" if r.via else ""
    dev = f"dev {r.dev}" if r.dev else ""
    return f"    {str(r.prefix):<18} {hop:<24} {dev:<9} {r.origin.value:<9} {r.why}"


def plan_table(plan: Plan) -> str:
    c, comp = plan.cluster, plan.composition
    hyp = comp.hypervisor
    if set(comp.datacentre_hypervisors.values()) != {hyp}:
        hyp = ", ".join(f"{dc}={h}" for dc, h in comp.datacentre_hypervisors.items())
    lines = [
        f"lab {plan.lab}: hypervisor {hyp}, router {comp.router}, nodeos {comp.nodeos}, "
        f"cni {comp.cni}",
        f"cluster {c.name}: endpoint {c.endpoint}, pods {c.pods} (/{c.pod_mask} per node), "
        f"services {c.services}, AS {c.asn}; routers AS {plan.router_asn}",
        "",
        "networks",
        f"  {'NAME':<12} {'KIND':<8} {'CIDR':<16} {'RESOURCE':<16} GATEWAY",
    ]
    for n in plan.networks:
        cidr = str(n.cidr) if n.cidr else "(hypervisor)"
        gw = f"gateway {n.gateway}" if n.gateway else ""
        lines.append(f"  {n.key:<12} {n.kind.value:<8} {cidr:<16} {n.resource_name:<16} {gw}")
    lines += ["", "machines",
              f"  {'NAME':<12} {'KIND':<6} {'DC':<8} {'AS':<9} {'ROUTER ID':<14} PODS, ROLE",
              f"    {'NIC':<5} {'NETWORK':<10} {'ADDRESS':<18} MAC"]
    for m in plan.machines:
        extra = (f"pods {m.pod_cidr}  {m.role.value}" if m.kind == "node"
                 else "route reflector" if m.route_reflector else "")
        lines.append(f"  {m.name:<12} {m.kind:<6} {m.datacentre:<8} AS {m.asn:<6} "
                     f"id {m.router_id}  {extra}")
        for i in m.interfaces:
            addr = str(i.address) if i.address else "(dhcp)"
            lines.append(f"    {i.name:<5} {i.network:<10} {addr:<18} {i.mac}")
    lines += ["", "bgp sessions",
              f"  {'NAME':<24} {'TYPE':<5} SIDE A <-> SIDE B (machine, address, AS)"]
    for s in plan.sessions:
        md5 = "  md5" if s.md5 else ""
        rr = "  rr-client" if (s.a.reflector_client or s.b.reflector_client) else ""
        lines.append(f"  {s.name:<24} {s.kind.value:<5} {s.a.machine} {s.a.address} AS {s.a.asn}"
                     f" <-> {s.b.machine} {s.b.address} AS {s.b.asn}{md5}{rr}")
    lines += ["", "expected routes",
              f"    {'PREFIX':<18} {'NEXT HOP':<24} {'DEV':<9} {'ORIGIN':<9} WHY"]
    for m in plan.machines:
        lines.append(f"  {m.name}")
        lines += [_route(r) for r in m.routes]
    return "\n".join(lines)
