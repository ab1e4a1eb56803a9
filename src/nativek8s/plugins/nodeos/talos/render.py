"""The files the `talos` plugin renders: the patches and the talosctl script.

``nativek8s render`` writes them under ``talos/``; deploy writes the same patches into the
lab's state and runs the same commands (see ``commands``). Nothing here is secret.
"""

from __future__ import annotations

from nativek8s.api import Plan, RenderedFile

from . import commands as cmd
from .disks import Disks, install_disks
from .images import installer_image
from .options import node_options, options_of
from .patches import cluster_patch, controlplane_patch, dump, hostname, node_patch
from .versions import kubernetes_version, supported

SCRIPT = "provision.sh"
# How the script names its paths; the deploy uses the lab's state folder instead.
SCRIPT_LAYOUT = cmd.Layout(secrets="$SECRETS", generated="$GENERATED", patches="$PATCHES",
                           talosconfig="$TALOSCONFIG", kubeconfig="$KUBECONFIG_OUT")


def patch_files(plan: Plan, disks: Disks | None = None) -> list[RenderedFile]:
    disks = disks or install_disks(plan)
    version = supported(plan.versions["talos"])
    kubernetes = kubernetes_version(version, plan.versions.get("kubernetes"))
    form = ("separate documents (Talos 1.14+)" if version.multidoc
            else "the article's v1alpha1 patch form (Talos 1.13)")
    files = [RenderedFile(path=cmd.CLUSTER_PATCH, content=dump(cluster_patch(plan, version), [
        f"Talos {version} patch for every machine of lab {plan.lab}, {form}:",
        ("no CNI (Cilium comes next), no kube-proxy, the plan's pod and service CIDRs"
         + ("." if version.multidoc else ", no PodCIDRs from the controller-manager.")),
        "talosctl gen config --config-patch @cluster.patch.yaml"]))]
    cp = controlplane_patch(version, kubernetes)
    if cp:
        files.append(RenderedFile(path=cmd.CONTROLPLANE_PATCH, content=dump(cp, [
            f"Talos {version} patch for control-plane machines (documents allowed there only):",
            "delete the generated Flannel CNI, turn kube-proxy off, no PodCIDRs from the",
            "controller-manager (nativek8s sets each node's from the plan).",
            "talosctl gen config --config-patch-control-plane @controlplane.patch.yaml"])))
    for node in plan.nodes:
        options = node_options(plan, node)
        files.append(RenderedFile(
            path=f"{node.name}/patch.yaml", machine=node.name,
            content=dump(node_patch(node, version, options, disks[node.name]), [
                (f"Talos {version} patch for {node.name} ({node.role}, {node.datacentre}, "
                 f"{node.address.ip}): install to {disks[node.name]} from "
                 f"{installer_image(options, version)},"),
                (f"label dc={node.datacentre}, hostname (and Kubernetes node name) "
                 f"{hostname(node)}."),
                f"talosctl apply-config --config-patch @{node.name}/patch.yaml"])))
    return files


def script(plan: Plan, disks: Disks | None = None) -> str:
    """The talosctl commands deploy runs, in order, as a POSIX shell script."""
    disks = disks or install_disks(plan)
    version = supported(plan.versions["talos"])
    kubernetes = kubernetes_version(version, plan.versions.get("kubernetes"))
    options = options_of(plan)
    lay = SCRIPT_LAYOUT
    cps = cmd.control_planes(plan)
    first = cps[0]
    lines = [
        "#!/bin/sh",
        (f"# Talos {version} provisioning of lab {plan.lab}: the talosctl commands "
         "`nativek8s deploy` runs,"),
        "# in order (it also waits between them: maintenance mode, installation, API).",
        "# Run it from this folder; secrets stay in files, never on a command line.",
        "set -eu",
        'PATCHES=${PATCHES:-.}',
        'SECRETS=${SECRETS:-./secrets.yaml}',
        'GENERATED=${GENERATED:-./generated}',
        'TALOSCONFIG=${TALOSCONFIG:-./talosconfig}',
        'KUBECONFIG_OUT=${KUBECONFIG_OUT:-./kubeconfig}',
        "umask 077",
        "",
        "# once per lab: the cluster's CAs and tokens",
        f'[ -e "$SECRETS" ] || {cmd.shell_line(cmd.gen_secrets(lay, version))}',
        "",
        "# machine configs of both roles, with the cluster-wide patches",
        cmd.shell_line(cmd.gen_config(plan, lay, version, kubernetes, disks[first.name],
                                      installer_image(options, version),
                                      controlplane_patch=version.multidoc)),
        'mv "$GENERATED/talosconfig" "$TALOSCONFIG"',
        "",
        "# each node, in maintenance mode, gets its role's config and its own patch",
        *(cmd.shell_line(cmd.apply_insecure(lay, n)) for n in plan.nodes),
        "",
        f"# once the nodes run: bootstrap etcd on {first.name}, exactly once per cluster",
        cmd.shell_line(cmd.bootstrap(plan, lay, first)),
        "",
        "# the admin kubeconfig, into its own file (not ~/.kube/config)",
        cmd.shell_line(cmd.kubeconfig(plan, lay, first)),
        "",
        "# readiness with no CNI: every node registered, NotReady until the CNI runs",
        cmd.shell_line(cmd.status(plan, lay, list(plan.nodes))),
    ]
    return "\n".join(lines) + "\n"


def rendered(plan: Plan, disks: Disks | None = None) -> list[RenderedFile]:
    return [*patch_files(plan, disks), RenderedFile(path=SCRIPT, content=script(plan, disks))]
