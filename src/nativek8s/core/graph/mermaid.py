"""Mermaid flowchart text of a lab graph (for Markdown docs: GitHub renders it)."""

from __future__ import annotations

from html import escape

from .model import LabGraph, MachineBox, Mark, NetworkBox
from .style import (
    HEADER_FILL,
    MARK_GLYPHS,
    NETWORK_FILL,
    machine_lines,
    session_colour,
    short_note,
)


def _text(text: str) -> str:
    # Inside a quoted Mermaid label: HTML is rendered, a double quote ends the label.
    return escape(text, quote=False).replace('"', "#quot;")


def _machine_label(m: MachineBox) -> str:
    lines = [f"<b>{_text(m.name)}</b>", *map(_text, machine_lines(m))]
    lines += [f"<i>{_text(line)}</i>" for line in short_note(m.note)]
    for r in m.routes:
        glyph = MARK_GLYPHS[r.mark]
        lines.append(f"{glyph + ' ' if glyph else ''}{_text(r.text)}")
    return "<br/>".join(lines)


def to_mermaid(graph: LabGraph) -> str:
    out = [
        "---",
        f"title: lab {graph.lab}{' (live)' if graph.live else ''}: {graph.summary}",
        "---",
        "flowchart TB",
    ]
    by_id = {n.id: n for n in graph.networks}
    lans = {dc.lan for dc in graph.datacentres}
    machines = {m.id: m for m in graph.machines}

    def network(n: NetworkBox) -> str:
        title = f"{n.datacentre} LAN" if n.kind == "lan" else f"{n.key} network"
        return f'{n.id}[["{_text(title)}<br/>{n.cidr}"]]:::nk_{n.kind}'

    out += [f"  {network(n)}" for n in graph.networks if n.id not in lans]
    for dc in graph.datacentres:
        out.append(f'  subgraph dc_{dc.lan}["{_text(dc.name)} ({_text(dc.hypervisor)})"]')
        if dc.lan in by_id:
            out.append(f"    {network(by_id[dc.lan])}")
        for mid in dc.machines:
            m = machines[mid]
            out.append(f'    {mid}["{_machine_label(m)}"]:::nk_{m.kind}')
        out.append("  end")
    styles = []
    for link in graph.links:
        out.append(f'  {link.network} ---|"{_text(link.label)}"| {link.machine}')
    for i, s in enumerate(graph.sessions, start=len(graph.links)):
        label = s.label + (f": {s.state}" if s.state and s.mark != Mark.ok else "")
        out.append(f'  {s.a} -.-|"{_text(label)}"| {s.b}')
        styles.append(f"  linkStyle {i} stroke:{session_colour(s.kind, s.mark)},"
                      "stroke-width:2px")
    out += styles
    out += [f"  classDef nk_{kind} fill:{fill},stroke:#888" for kind, fill in HEADER_FILL.items()]
    out += [f"  classDef nk_{kind} fill:{fill},stroke:#999" for kind, fill in NETWORK_FILL.items()]
    out.append("  %% routes: ✓ as planned, ✗ differs from the plan, + not in the plan "
               "(a fault), · not in the plan (harmless)")
    return "\n".join(out) + "\n"
