"""Options of the proxmox hypervisor (`options: {proxmox: {...}}` in a topology, and per
datacentre under `datacentres.<dc>.options.proxmox`, which override the top level).

The API token is never an option value: it comes from a file (``token_file``) or from the
environment, so it never lands in a topology, the plan or the lab's state.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nativek8s.api import Plan

HOST_ENV = "NATIVEK8S_PROXMOX_HOST"
TOKEN_FILE_ENV = "NATIVEK8S_PROXMOX_TOKEN_FILE"
# Token values (USER@REALM!TOKENID=SECRET), in this order; the second is the Terraform
# provider bpg/proxmox's name for the same format, so one environment serves both.
TOKEN_ENVS = ("NATIVEK8S_PROXMOX_TOKEN", "PROXMOX_VE_API_TOKEN")


class ProxmoxOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, description=f"API address, HOST or HOST:PORT (default port "
                                               f"8006); default: ${HOST_ENV}")
    token_file: Path | None = Field(
        None, description="file (mode 0600) holding USER@REALM!TOKENID=SECRET; default: "
                          f"${TOKEN_FILE_ENV}, else the token itself in ${TOKEN_ENVS[0]} or "
                          f"${TOKEN_ENVS[1]}")
    verify_tls: bool = Field(True, description="verify the API's TLS certificate")
    ca_file: Path | None = Field(None, description="CA bundle for the API certificate "
                                                   "(e.g. a copy of /etc/pve/pve-root-ca.pem)")
    node: str | None = Field(None, description="Proxmox node for this datacentre's VMs "
                                               "(default: the cluster's only node)")
    storage: str = Field("local-lvm", description="storage for VM disks (content 'images')")
    image_storage: str = Field("local", description="file-based storage for uploaded images "
                                                    "(content 'import' and 'iso')")
    bridge: str = Field("vmbr0", description="bridge for the routers' WAN NICs")
    vxlan_peers: dict[str, str] | None = Field(
        None, description="node → underlay IP for a VXLAN zone (default: from the cluster "
                          "status)")
    vmid_start: int = Field(1000, ge=100, le=999_999_999,
                            description="the lab's first VM id: machines take the ids from "
                                        "here in plan order, skipping ids in use")
    router_memory: int = Field(256, ge=64, description="router memory, MiB")
    router_cores: int = Field(1, ge=1, le=128)
    node_memory: int = Field(4096, ge=512, description="node memory, MiB (Talos recommends 4 GiB "
                                                         "for a control plane; 2 GiB minimum)")
    node_cores: int = Field(2, ge=1, le=128)
    node_disk_gib: int = Field(10, ge=1, description="node install disk, GiB, when the node "
                                                     "OS does not say")
    request_timeout: float = Field(30.0, gt=0, description="seconds per API request")
    task_timeout: float = Field(900.0, gt=0, description="seconds one Proxmox task may take")
    command_timeout: float = Field(
        30.0, gt=0, description="seconds a command verify runs inside a router VM (birdc, ip) "
        "may take, through the guest agent")
    boot_timeout: float = Field(
        300.0, ge=0, description="seconds deploy waits for each router's guest agent to report "
        "its WAN address, to check this host's way into the LANs (0: ask once)")

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or "/" in value):
            raise ValueError("give HOST or HOST:PORT only (no https://, no path), e.g. "
                             "pve1.example.net:8006")
        return value


def options_for(plan: Plan, datacentre: str | None = None) -> ProxmoxOptions:
    """The datacentre's options (top level merged with its overrides), with env defaults."""
    opts = ProxmoxOptions.model_validate(plan.options_for("proxmox", datacentre))
    if opts.host is None and os.environ.get(HOST_ENV):
        opts = opts.model_copy(update={"host": os.environ[HOST_ENV]})
    return opts


def all_options(plan: Plan) -> dict[str, ProxmoxOptions]:
    """Datacentre → its options, for the datacentres the proxmox plugin hosts."""
    return {dc.name: options_for(plan, dc.name) for dc in plan.datacentres
            if dc.hypervisor == "proxmox"}
