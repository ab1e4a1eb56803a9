"""Graphviz DOT text of a lab graph: datacentres as clusters, the peering network on top,
routers, LANs, nodes; every machine a table with its routing table; BGP sessions dashed."""

from __future__ import annotations

from html import escape

from .model import LabGraph, MachineBox, Mark, NetworkBox
from .style import (
    FONT,
    HEADER_FILL,
    MARK_COLOURS,
    MARK_GLYPHS,
    MONO,
    NETWORK_FILL,
    machine_lines,
    session_colour,
    short_note,
)


def _q(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _h(text: str) -> str:
    return escape(text, quote=True)


def _machine_label(m: MachineBox, live: bool) -> str:
    span = 5 if live else 4
    header = HEADER_FILL.get(m.kind, "#eeeeee")
    rows = [f'<tr><td colspan="{span}" bgcolor="{header}"><b>{_h(m.name)}</b></td></tr>']
    rows += [f'<tr><td colspan="{span}">{_h(line)}</td></tr>' for line in machine_lines(m)]
    rows += [f'<tr><td colspan="{span}"><font color="{MARK_COLOURS[Mark.unknown]}" '
             f'point-size="9">{_h(line)}</font></td></tr>' for line in short_note(m.note)]
    if m.routes:
        rows.append(f'<tr><td colspan="{span}" align="left"><font point-size="9"><i>routing table'
                    '</i></font></td></tr>')
    for r in m.routes:
        colour = MARK_COLOURS[r.mark]
        cells = [*([MARK_GLYPHS[r.mark]] if live else []), r.prefix,
                 f"via {r.via}" if r.via else "", r.dev, r.origin]
        rows.append("<tr>" + "".join(
            f'<td align="left"><font face="{MONO}" point-size="9" color="{colour}">'
            f'{_h(c) or " "}</font></td>' for c in cells) + "</tr>")
    return ('<<table border="1" color="#888888" cellborder="0" cellspacing="0" '
            'cellpadding="3" style="rounded">' + "".join(rows) + "</table>>")


def _network_node(n: NetworkBox) -> str:
    title = f"{n.datacentre} LAN" if n.kind == "lan" else f"{n.key} network"
    label = _q(f"{title}\n{n.cidr}")
    return (f'  {n.id} [shape=box, style="rounded,filled", fillcolor="{NETWORK_FILL.get(n.kind)}",'
            f' color="#999999", label={label}];')


def to_dot(graph: LabGraph) -> str:
    title = f"lab {graph.lab}{' (live)' if graph.live else ''}\n{graph.summary}"
    out = [
        f"graph {_q(graph.lab)} {{",
        (f'  graph [fontname="{FONT}", label={_q(title)}, labelloc=t, fontsize=14, '
         'nodesep=0.5, ranksep=0.45, newrank=true, bgcolor="white", pad=0.3];'),
        f'  node [fontname="{FONT}", fontsize=11, shape=plain];',
        f'  edge [fontname="{FONT}", fontsize=9, color="#888888"];',
    ]
    by_id = {n.id: n for n in graph.networks}
    lans = {dc.lan for dc in graph.datacentres}
    for n in graph.networks:
        if n.id not in lans:
            out.append(_network_node(n))
    machines = {m.id: m for m in graph.machines}
    for dc in graph.datacentres:
        out.append(f"  subgraph {_q('cluster_' + dc.name)} {{")
        label = _q(f"{dc.name} ({dc.hypervisor})")
        out.append(f'    label={label}; style="rounded,dashed"; color="#aaaaaa"; fontsize=13;')
        if dc.lan in by_id:
            out.append("  " + _network_node(by_id[dc.lan]))
        for mid in dc.machines:
            out.append(f"    {mid} [label={_machine_label(machines[mid], graph.live)}];")
        out.append("  }")
    # Edge direction sets the layout: peering above routers, LAN between routers and nodes.
    for link in graph.links:
        net = by_id[link.network]
        kind = machines[link.machine].kind
        a, b = ((link.network, link.machine) if net.kind == "peering" or kind == "node"
                else (link.machine, link.network))
        out.append(f"  {a} -- {b} [label={_q(link.label)}];")
    for s in graph.sessions:
        colour = session_colour(s.kind, s.mark)
        label = s.label + (f"\n{s.state}" if s.state and s.mark != Mark.ok else "")
        out.append(f"  {s.a} -- {s.b} [style=dashed, penwidth=2, color={_q(colour)}, "
                   f"fontcolor={_q(colour)}, constraint=false, label={_q(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"
