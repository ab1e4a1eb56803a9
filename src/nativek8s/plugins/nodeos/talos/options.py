"""`options.talos` in a topology: images, install target, talosctl and deadlines."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nativek8s.api import NodePlan, Plan

PLUGIN = "talos"
# Image Factory schematic with only the siderolabs/qemu-guest-agent extension
# (docs/nodeos/talos.md).
QEMU_GUEST_AGENT_SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
DEFAULT_FACTORY = "https://factory.talos.dev"

# Options that may differ per datacentre (different hypervisors, different disks); the
# others describe the one cluster and belong at the top level.
PER_DATACENTRE = frozenset({"install_disk", "disk_size_gib", "kernel_args", "media"})


class TalosOptions(BaseModel):
    """Settings of the `talos` node OS plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schematic: str = Field(
        QEMU_GUEST_AGENT_SCHEMATIC, pattern=r"^[0-9a-f]{64}$",
        description="Image Factory schematic id of the boot media and the installer "
                    "(default: only the qemu-guest-agent extension)")
    factory_url: str = Field(
        DEFAULT_FACTORY, pattern=r"^https?://[^/\s]+/?$",
        description="Image Factory base URL; its host is also the installer's registry")
    install_disk: str | None = Field(
        None, pattern=r"^/dev/\S+$",
        description="disk Talos installs itself to; default: the one the hypervisor "
                    "attaches (libvirt /dev/vda, Proxmox /dev/sda)")
    install_image: str | None = Field(
        None, min_length=1,
        description="installer image; default: the Factory installer of the same schematic "
                    "and version (pinned, or the first upgrade drops the extensions)")
    kernel_args: tuple[str, ...] = Field(
        (), description="kernel arguments added after the article's ones (boot media only)")
    media: Literal["kernel", "iso"] = Field(
        "kernel", description="what boot_media gives hypervisors: kernel+initramfs for "
                              "direct kernel boot, or the installer ISO (Proxmox)")
    disk_size_gib: int = Field(10, ge=10, description="size of the empty install disk")
    checksums: dict[str, str] = Field(
        default_factory=dict,
        description="expected sha256 per downloaded file name (kernel-amd64, "
                    "initramfs-amd64.xz, metal-amd64.iso); checked before caching")
    talosctl: str | None = Field(
        None, min_length=1, description="talosctl executable; default: found on PATH")
    merge_kubeconfig: bool = Field(
        False, description="also merge the cluster's kubeconfig into your default "
                           "kubeconfig ($KUBECONFIG or ~/.kube/config)")
    maintenance_timeout: float = Field(
        600.0, gt=0, description="seconds to wait for each node's maintenance mode")
    install_timeout: float = Field(
        900.0, gt=0, description="seconds from apply-config to the node's API answering")
    api_timeout: float = Field(
        600.0, gt=0, description="seconds from bootstrap to the Kubernetes API serving")
    ready_timeout: float = Field(
        600.0, gt=0, description="seconds for every node to register (NotReady until the "
                                 "CNI runs)")
    poll_interval: float = Field(2.0, gt=0, description="seconds between two polls")
    command_timeout: float = Field(120.0, gt=0, description="seconds one talosctl call may take")


def options_of(plan: Plan, datacentre: str | None = None) -> TalosOptions:
    """The plugin's options; per-datacentre values apply when a datacentre is given."""
    return TalosOptions.model_validate(plan.options_for(PLUGIN, datacentre))


def node_options(plan: Plan, node: NodePlan) -> TalosOptions:
    return options_of(plan, node.datacentre)
