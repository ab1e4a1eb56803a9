"""The talosctl command lines nativek8s runs, built in one place so that the rendered
script (``provision.sh``) and the deploy steps can never disagree.

Paths come from a :class:`Layout`: real paths in the lab's state when deploying, shell
variables when rendering the script. No argument is ever a secret.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from nativek8s.api import NodePlan, Plan

from .versions import TalosVersion


@dataclass(frozen=True)
class Layout:
    """Where talosctl reads and writes (strings: paths or ``$VARIABLES``)."""

    secrets: str  # secrets bundle of `gen secrets` (private)
    generated: str  # folder of controlplane.yaml, worker.yaml, talosconfig (private)
    patches: str  # folder of the rendered patches
    talosconfig: str
    kubeconfig: str

    def config_file(self, node: NodePlan) -> str:
        return f"{self.generated}/{config_name(node)}"

    def node_patch(self, node: NodePlan) -> str:
        return f"{self.patches}/{node.name}/patch.yaml"


CLUSTER_PATCH = "cluster.patch.yaml"
CONTROLPLANE_PATCH = "controlplane.patch.yaml"


def config_name(node: NodePlan) -> str:
    return "controlplane.yaml" if node.role == "controlplane" else "worker.yaml"


def control_planes(plan: Plan) -> list[NodePlan]:
    return [n for n in plan.nodes if n.role == "controlplane"]


def ip(node: NodePlan) -> str:
    return str(node.address.ip)


def endpoints(plan: Plan) -> str:
    """Every control plane answers the Talos API for the others (apid proxies)."""
    return ",".join(ip(n) for n in control_planes(plan))


def gen_secrets(layout: Layout, version: TalosVersion, output: str | None = None) -> list[str]:
    return ["gen", "secrets", "--talos-version", version.tag, "--output-file",
            output or layout.secrets]


def gen_config(plan: Plan, layout: Layout, version: TalosVersion, kubernetes: str,
               install_disk: str, install_image: str, controlplane_patch: bool,
               output: str | None = None) -> list[str]:
    args = ["gen", "config", plan.cluster.name, plan.cluster.endpoint,
            "--with-secrets", layout.secrets,
            "--talos-version", version.tag,
            "--kubernetes-version", kubernetes,
            "--install-disk", install_disk,
            "--install-image", install_image,
            "--config-patch", f"@{layout.patches}/{CLUSTER_PATCH}"]
    if controlplane_patch:
        args += ["--config-patch-control-plane", f"@{layout.patches}/{CONTROLPLANE_PATCH}"]
    return args + ["--with-docs=false", "--with-examples=false",
                   "--output", output or layout.generated]


def _secure(plan: Plan, layout: Layout, nodes: list[NodePlan]) -> list[str]:
    return ["--nodes", ",".join(ip(n) for n in nodes), "--endpoints", endpoints(plan),
            "--talosconfig", layout.talosconfig]


def apply_insecure(layout: Layout, node: NodePlan) -> list[str]:
    return ["apply-config", "--insecure", "--nodes", ip(node),
            "--file", layout.config_file(node), "--config-patch", f"@{layout.node_patch(node)}"]


def apply_secure(plan: Plan, layout: Layout, node: NodePlan) -> list[str]:
    return ["apply-config", *_secure(plan, layout, [node]),
            "--file", layout.config_file(node), "--config-patch", f"@{layout.node_patch(node)}"]


def status_insecure(node: NodePlan) -> list[str]:
    return ["get", "machinestatus", "--insecure", "--nodes", ip(node), "--output", "json"]


def status(plan: Plan, layout: Layout, nodes: list[NodePlan]) -> list[str]:
    return ["get", "machinestatus", *_secure(plan, layout, nodes), "--output", "json"]


def bootstrap(plan: Plan, layout: Layout, node: NodePlan) -> list[str]:
    return ["bootstrap", *_secure(plan, layout, [node])]


def kubeconfig(plan: Plan, layout: Layout, node: NodePlan, output: str | None = None) -> list[str]:
    """Write the admin kubeconfig to a file of its own (never merged into ~/.kube/config)."""
    return ["kubeconfig", output or layout.kubeconfig, "--force", "--merge=false",
            *_secure(plan, layout, [node])]


def kubeconfig_merge(plan: Plan, layout: Layout, node: NodePlan) -> list[str]:
    """Merge into the user's default kubeconfig (only when options.talos.merge_kubeconfig)."""
    return ["kubeconfig", *_secure(plan, layout, [node])]


def shell_line(args: list[str]) -> str:
    """``talosctl ARGS`` for a POSIX shell; ``$VARIABLE`` paths stay expandable."""
    def quote(arg: str) -> str:
        if "$" in arg:
            return '"' + arg.replace('"', '\\"') + '"'
        return shlex.quote(arg)

    return "talosctl " + " ".join(quote(a) for a in args)
