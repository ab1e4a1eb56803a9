"""A self-contained HTML page: the SVG inline, then sessions, addresses and routing tables
as tables. No script, no external resource: it opens from a file anywhere."""

from __future__ import annotations

from html import escape

from .model import LabGraph, MachineBox, RouteRow
from .style import FONT, MARK_COLOURS, MARK_GLYPHS, MONO, session_colour
from .svg import inline_svg


def _family(fonts: str) -> str:
    return ", ".join(f'"{f}"' if " " in f else f for f in fonts.split(","))


CSS = f"""
body {{ font-family: {_family(FONT)}; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }}
.summary {{ color: #555; margin-top: 0; }}
.picture {{ overflow: auto; border: 1px solid #ddd; padding: 0.5em; }}
.picture svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; margin: 0.4em 0 1.2em; }}
th, td {{ border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }}
th {{ background: #f4f4f4; }}
td.mono {{ font-family: {_family(MONO)}; }}
.machines {{ display: flex; flex-wrap: wrap; gap: 1.5em; }}
.machine h3 {{ margin-bottom: 0.2em; }}
""" + "".join(f".mark-{m.value} {{ color: {c}; }}\n" for m, c in MARK_COLOURS.items())


def _h(text: object) -> str:
    return escape(str(text), quote=True)


def _sessions(graph: LabGraph) -> str:
    machines = {m.id: m.name for m in graph.machines}
    rows = []
    for s in graph.sessions:
        colour = session_colour(s.kind, s.mark)
        rows.append(
            f'<tr class="session" data-session="{_h(s.name)}"><td>{_h(s.name)}</td>'
            f'<td style="color:{colour}">{_h(s.label)}</td><td>{_h(machines[s.a])}</td>'
            f'<td>{_h(machines[s.b])}</td><td class="mark-{s.mark.value}">'
            f'{_h(s.state or s.mark.value)}</td></tr>')
    return ("<table><tr><th>session</th><th>kind</th><th>side a</th><th>side b</th>"
            "<th>state</th></tr>" + "".join(rows) + "</table>")


def _machine(m: MachineBox, live: bool) -> str:
    head = " · ".join([m.kind, *([m.role] if m.role else []), f"AS {m.asn}",
                       f"router id {m.router_id}", *([f"PodCIDR {m.pod_cidr}"] if m.pod_cidr
                                                    else []),
                       *([f"state {m.state}"] if m.state else [])])
    addrs = "".join(f"<tr><td>{_h(a.interface)}</td><td>{_h(a.network)}</td>"
                    f'<td class="mono">{_h(a.address)}</td></tr>' for a in m.addresses)

    def row(r: RouteRow) -> str:
        cells = [f'<td class="mono">{_h(r.prefix)}</td>', f'<td class="mono">{_h(r.via)}</td>',
                 f"<td>{_h(r.dev)}</td>", f"<td>{_h(r.origin)}</td>"]
        if live:  # the mark first, what was seen last
            cells = [f"<td>{MARK_GLYPHS[r.mark]}</td>", *cells, f"<td>{_h(r.observed)}</td>"]
        return (f'<tr class="route mark-{r.mark.value}" data-machine="{_h(m.name)}" '
                f'data-prefix="{_h(r.prefix)}">{"".join(cells)}</tr>')

    heads = ["prefix", "via", "dev", "origin"]
    heads = ["", *heads, "observed"] if live else heads
    routes = ("<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"
              + "".join(map(row, m.routes)))
    note = f'<p class="mark-unknown">{_h(m.note)}</p>' if m.note else ""
    return (f'<div class="machine" id="machine-{_h(m.name)}"><h3>{_h(m.name)}</h3>'
            f"<div>{_h(head)}</div>{note}"
            "<table><tr><th>interface</th><th>network</th><th>address</th></tr>"
            f"{addrs}</table>"
            f"<table>{routes}</table></div>")


def to_html(graph: LabGraph, svg: str) -> str:
    title = f"lab {graph.lab}{' (live)' if graph.live else ''}"
    diffs = graph.differences
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>", f'<p class="summary">{_h(graph.summary)}</p>',
        f'<div class="picture">{inline_svg(svg)}</div>',
    ]
    if graph.live:
        parts.append("<h2>Differences from the plan</h2>")
        parts.append("<ul>" + "".join(f'<li class="mark-failed">{_h(d)}</li>' for d in diffs)
                     + "</ul>" if diffs else "<p class=\"mark-ok\">none</p>")
    if graph.notes:
        parts.append("<ul>" + "".join(f'<li class="mark-unknown">{_h(n)}</li>'
                                      for n in graph.notes) + "</ul>")
    legend = ("✓ as planned, ✗ differs from the plan, + not in the plan (a fault), "
              "· not in the plan (harmless), ? not observable")
    parts += ["<h2>BGP sessions</h2>", _sessions(graph), "<h2>Machines and routing tables</h2>",
              f"<p>routes: {_h(legend)}</p>" if graph.live else "",
              '<div class="machines">', *(_machine(m, graph.live) for m in graph.machines),
              "</div>", "</body></html>"]
    return "\n".join(parts) + "\n"
