"""Choosing a format (from --format or the output file's extension) and writing it."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .dot import to_dot
from .html import to_html
from .mermaid import to_mermaid
from .model import LabGraph
from .svg import render_svg

FORMATS = ("svg", "html", "dot", "mermaid")
EXTENSIONS = {".svg": "svg", ".html": "html", ".htm": "html", ".dot": "dot", ".gv": "dot",
              ".mmd": "mermaid", ".mermaid": "mermaid"}
DEFAULT = "dot"  # on stdout, without -o or --format: text, not an image


def format_for(output: str | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    if output is None or output == "-":
        return DEFAULT
    ext = Path(output).suffix.lower()
    if ext not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise UsageError(f"-o {output}: cannot tell the format from {ext or 'no extension'!r}; "
                         f"use one of {known}, or say --format {'|'.join(FORMATS)}")
    return EXTENSIONS[ext]


def write(graph: LabGraph, fmt: str) -> str:
    dot = to_dot(graph)
    if fmt == "dot":
        return dot
    if fmt == "mermaid":
        return to_mermaid(graph)
    svg = render_svg(dot)
    return svg if fmt == "svg" else to_html(graph, svg)
