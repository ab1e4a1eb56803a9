"""What installing Cilium on a real cluster needs from this host
(``nativek8s_doctor_checks``): the `kubernetes` Python package, helm 3 or the cilium CLI
(``options.cilium.installer``), and the cilium CLI where the BGP wait reads sessions
through it (CiliumBGPPeeringPolicy)."""

from __future__ import annotations

import re
import shutil
import subprocess

from nativek8s.api import Finding, LabContext, NativeK8sError, role_is_deployed

from .install import Installer, choose_installer
from .kube import require_kubernetes
from .options import PLUGIN, options_of
from .versions import BgpFlavour, bgp_api

HELM_MAJOR = 3  # the Cilium chart is a Helm 3 chart (apiVersion v2)


def _helm_version(installer: Installer) -> Finding:
    try:
        done = subprocess.run([installer.executable, "version", "--short"], capture_output=True,
                              text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding(PLUGIN, "helm", False, f"{installer.executable} does not run: {exc}")
    match = re.match(r"v?(\d+)\.(\d+)", done.stdout.strip())
    if done.returncode != 0 or match is None:
        return Finding(PLUGIN, "helm", False, f"`{installer.executable} version --short` "
                       f"failed: {(done.stderr or done.stdout).strip()[:200]}")
    if int(match[1]) != HELM_MAJOR:
        return Finding(PLUGIN, "helm", False, (
            f"{installer.executable} is helm {done.stdout.strip()}; the Cilium chart needs "
            f"helm {HELM_MAJOR}: https://helm.sh/docs/intro/install/"))
    return Finding(PLUGIN, "helm", True, f"{done.stdout.strip()} at {installer.executable}")


def checks(ctx: LabContext) -> list[Finding]:
    plan = ctx.plan
    if plan.composition.cni != PLUGIN or not role_is_deployed(ctx, "cni"):
        return []
    options = options_of(plan)
    out = []
    try:
        require_kubernetes()
        out.append(Finding(PLUGIN, "kubernetes Python package", True, "installed"))
    except NativeK8sError as exc:
        out.append(Finding(PLUGIN, "kubernetes Python package", False, str(exc)))
    try:
        installer = choose_installer(options.installer)
    except NativeK8sError as exc:
        out.append(Finding(PLUGIN, "installer", False, str(exc)))
    else:
        out.append(_helm_version(installer) if installer.kind == "helm" else
                   Finding(PLUGIN, "installer", True, f"cilium CLI at {installer.executable}"))
    api = bgp_api(plan.versions["cilium"], options.peering_policy)
    if api.flavour != BgpFlavour.bgpv2 and shutil.which("cilium") is None:
        out.append(Finding(PLUGIN, "cilium CLI", False, (
            "CiliumBGPPeeringPolicy reports no session state through the API: without the "
            "cilium CLI deploy cannot wait for the nodes' BGP sessions; install it "
            "(https://github.com/cilium/cilium-cli)"), warning=True))
    return out
