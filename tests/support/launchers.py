"""Launchers for the CLI stand-ins (talosctl, helm, cilium): small executables to put first on
PATH so code under test runs them as it would run the real tools.

A launcher runs the stand-in's ``main`` with this test run's interpreter and module path (given
through PYTHONPATH), so it needs no version-manager shim and no path set-up of its own; ``-S``
skips the site start-up (every .pth file), ~0.1-0.2 s a call.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

STANDINS = {
    "talosctl": "tests.standins.talos_cli",
    "helm": "tests.standins.kube_api.cli_helm",
    "cilium": "tests.standins.kube_api.cli_cilium",
}


def write_launchers(directory: Path, tools: tuple[str, ...] = tuple(STANDINS)) -> Path:
    """Write ``directory/<tool>`` for each tool; return directory (to prepend to PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in sys.path if p)
    for tool in tools:
        code = f"import sys; sys.argv[0] = {tool!r}; from {STANDINS[tool]} import main; sys.exit(main(sys.argv[1:]))"
        launcher = directory / tool
        launcher.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(path)} exec {shlex.quote(sys.executable)} "
                            f"-S -c {shlex.quote(code)} \"$@\"\n")
        launcher.chmod(0o755)
    return directory
