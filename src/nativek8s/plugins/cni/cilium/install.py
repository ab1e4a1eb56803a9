"""Installing Cilium as an ensure: the chart pinned to the plan's version with the plan's
Helm values, by ``helm upgrade --install`` or the cilium CLI (``options.cilium.installer``;
auto: helm if on PATH, else the cilium CLI). A deployed release with the same chart
version and values is left alone; a different one is upgraded.

Both tools get the lab's kubeconfig with ``--kubeconfig`` (and in $KUBECONFIG), never the
user's default cluster. Neither is asked to wait: readiness.py waits, and says what it saw.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nativek8s.api import NativeK8sError, Plan

from .kube import Kube
from .manifests import yaml_file
from .options import CiliumOptions, chart_version
from .readiness import NAMESPACE
from .release import current_release
from .values import helm_values

RELEASE = "cilium"
CHART, CHART_REPO = "cilium", "https://helm.cilium.io"
TOOLS = {"helm": "helm", "cilium-cli": "cilium"}  # installer → executable name
INSTALL_TIMEOUT = 900  # seconds the installer process may run (chart download included)


@dataclass(frozen=True)
class Installer:
    kind: str  # "helm" or "cilium-cli"
    executable: str


def choose_installer(choice: str, which: Callable[[str], str | None] = shutil.which) -> Installer:
    kinds = ["helm", "cilium-cli"] if choice == "auto" else [choice]
    for kind in kinds:
        path = which(TOOLS[kind])
        if path:
            return Installer(kind, path)
    if choice == "auto":
        raise NativeK8sError(
            "neither `helm` nor the `cilium` CLI is on PATH: install one of them "
            "(https://helm.sh/docs/intro/install/ or https://github.com/cilium/cilium-cli) "
            "to install Cilium")
    raise NativeK8sError(f"options.cilium.installer is {choice}, but `{TOOLS[choice]}` is not "
                         "on PATH: install it, or set installer: auto")


def install_argv(installer: Installer, version: str, kubeconfig: Path, values: Path,
                 upgrade: bool) -> list[str]:
    common = ["--version", version, "--namespace", NAMESPACE, "--kubeconfig", str(kubeconfig),
              "--values", str(values)]
    if installer.kind == "helm":
        return [installer.executable, "upgrade", "--install", RELEASE, CHART,
                "--repo", CHART_REPO, *common, "--reset-values"]
    if upgrade:
        return [installer.executable, "upgrade", *common, "--reset-values"]
    return [installer.executable, "install", *common]


def write_values(path: Path, plan: Plan, options: CiliumOptions) -> dict[str, Any]:
    """The values file the installer reads (same content as `nativek8s render`)."""
    values = helm_values(plan, options)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"Helm values for chart cilium/cilium {chart_version(plan)} (lab {plan.lab})."
    path.write_text(yaml_file(values, [header]))
    # What the tool will read back: compare releases against this, not the Python dict.
    return yaml.safe_load(path.read_text())


def _run(argv: list[str], kubeconfig: Path) -> None:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    shown = " ".join([Path(argv[0]).name, *argv[1:3]])
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise NativeK8sError(f"`{shown}` did not finish in {INSTALL_TIMEOUT} s") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise NativeK8sError(f"`{shown}` failed (exit {done.returncode}): "
                             + (" | ".join(lines[-5:]) or "no output"))


def ensure_installed(kube: Kube, installer: Installer, plan: Plan, options: CiliumOptions,
                     kubeconfig: Path, values_file: Path) -> str:
    """Install or upgrade Cilium unless the planned release is deployed; a note."""
    version = chart_version(plan)
    wanted = write_values(values_file, plan, options)
    current = current_release(kube, NAMESPACE, RELEASE)
    if current and (current.status, current.chart_version, current.values) == \
            ("deployed", version, wanted):
        return f"chart {version} already deployed (revision {current.revision})"
    _run(install_argv(installer, version, kubeconfig, values_file, current is not None),
         kubeconfig)
    verb = "upgraded" if current else "installed"
    return f"{verb} chart {version} with {Path(installer.executable).name}"
