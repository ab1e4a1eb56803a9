"""SVG through Graphviz's `dot`: the field's standard renderer (netlab uses it too)."""

from __future__ import annotations

import shutil
import subprocess

from ..errors import NativeK8sError, UsageError


def render_svg(dot_text: str, timeout: float = 60.0) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise UsageError("SVG needs Graphviz's `dot`, which is not installed: "
                         "`apt-get install graphviz` (scripts/install-deps.sh does it), or "
                         "choose --format dot, mermaid (text) instead")
    proc = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise NativeK8sError(f"dot failed to render the graph: {proc.stderr.strip()}")
    return proc.stdout


def inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML prolog or DOCTYPE), to embed in HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
