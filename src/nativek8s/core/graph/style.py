"""Colours and glyphs every format shares, so the SVG, HTML and Mermaid agree."""

from __future__ import annotations

import textwrap

from .model import MachineBox, Mark

FONT = "DejaVu Sans,Verdana,sans-serif"  # Pango and CSS both take a list
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"

SESSION_COLOURS = {"ibgp": "#1f5fbf", "ebgp": "#d9730d"}  # planned sessions, by kind
MARK_COLOURS = {
    Mark.planned: "#222222",
    Mark.ok: "#1a7f37",
    Mark.failed: "#cf222e",
    Mark.unexpected: "#cf222e",
    Mark.extra: "#777777",
    Mark.unknown: "#9a6700",
}
MARK_GLYPHS = {Mark.planned: "", Mark.ok: "✓", Mark.failed: "✗", Mark.unexpected: "+",
               Mark.extra: "·", Mark.unknown: "?"}
HEADER_FILL = {"router": "#dbe9ff", "node": "#dcf5e3"}
NETWORK_FILL = {"lan": "#f2f2f2", "peering": "#fff4d6"}


def session_colour(kind: str, mark: Mark) -> str:
    return SESSION_COLOURS.get(kind, "#444444") if mark == Mark.planned else MARK_COLOURS[mark]


def machine_lines(m: MachineBox) -> list[str]:
    """The machine's heading lines, after its name."""
    lines = [f"{m.kind}{' · ' + m.role if m.role else ''} · AS {m.asn} · id {m.router_id}"]
    if m.pod_cidr:
        lines.append(f"PodCIDR {m.pod_cidr}")
    if m.route_reflector:
        lines.append("route reflector")
    if m.state:
        lines.append(f"state: {m.state}")
    return lines


def short_note(note: str, width: int = 48, lines: int = 2) -> list[str]:
    """A note wrapped to fit a machine's box; the HTML tables carry it whole."""
    return textwrap.wrap(note, width, max_lines=lines, placeholder=" …")
