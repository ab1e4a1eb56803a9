"""`options.libvirt` in a topology (top level, or per datacentre under
`datacentres.<dc>.options.libvirt`).

Options are merged shallowly (a datacentre's value replaces the top-level one), so they are
flat. `pool` and `wan_cidr` are lab-wide: they are read from the top level only.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nativek8s.api import Plan

PLUGIN = "libvirt"
DEFAULT_URI = "qemu:///system"


class LibvirtOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: str = Field(DEFAULT_URI, min_length=1,
                     description="libvirt connection URI, e.g. qemu:///system or "
                                 "qemu+ssh://host/system")
    pool: str | None = Field(
        None, min_length=1,
        description="an existing storage pool for the lab's volumes; default: a directory "
                    "pool nk8s-<lab> under the lab's state, created when absent")
    domain_type: Literal["auto", "kvm", "qemu"] = Field(
        "auto", description="kvm, qemu (TCG emulation, slow), or auto: kvm when the host "
                            "offers it, else qemu (deploy says so)")
    machine: str = Field("q35", min_length=1, description="QEMU machine type")
    wan: Literal["nat", "bridge", "macvtap"] = Field(
        "nat", description="routers' WAN: a libvirt NAT network (nat), an existing host "
                           "bridge (bridge) or a macvtap on a host device (macvtap)")
    wan_device: str | None = Field(
        None, min_length=1, max_length=15,
        description="host bridge (wan: bridge) or host interface (wan: macvtap)")
    wan_cidr: IPv4Network | None = Field(
        None, description="subnet of the NAT WAN network; default: a /24 in "
                          "192.168.128.0/17 derived from the lab name")
    console_dir: str | None = Field(
        None, description="where serial console logs go on the libvirt host; default: the "
                          "lab's state (set it for remote URIs)")
    router_memory_mib: int = Field(256, ge=64, description="memory of each router VM")
    router_cpus: int = Field(1, ge=1, description="vCPUs of each router VM")
    node_memory_mib: int = Field(
        4096, ge=128, description="memory of each node VM (Talos recommends 4 GiB for a "
                                  "control plane; the minimum is 2 GiB)")
    node_cpus: int = Field(2, ge=1, description="vCPUs of each node VM")
    node_disk_gib: int | None = Field(
        None, ge=1, description="size of each node's empty install disk; default: what the "
                                "node OS asks for (10 GiB for Talos)")

    @model_validator(mode="after")
    def _wan_device(self) -> LibvirtOptions:
        if self.wan in ("bridge", "macvtap") and not self.wan_device:
            raise ValueError(f"wan: {self.wan} needs wan_device (the host "
                             f"{'bridge' if self.wan == 'bridge' else 'interface'} to use)")
        if self.wan == "nat" and self.wan_device:
            raise ValueError("wan_device is only for wan: bridge or wan: macvtap")
        return self


def options_of(plan: Plan, datacentre: str | None = None) -> LibvirtOptions:
    """The options of one datacentre (or the top level); lab-wide fields from the top."""
    top = LibvirtOptions.model_validate(plan.options_for(PLUGIN))
    if datacentre is None:
        return top
    opts = LibvirtOptions.model_validate(plan.options_for(PLUGIN, datacentre))
    return opts.model_copy(update={"pool": top.pool, "wan_cidr": top.wan_cidr})


def wan_cidr(plan: Plan) -> IPv4Network:
    """The NAT WAN's subnet: the option, else a /24 stable per lab name."""
    chosen = options_of(plan).wan_cidr
    if chosen is not None:
        return chosen
    third = 128 + hashlib.sha256(f"wan\0{plan.lab}".encode()).digest()[0] % 96
    return IPv4Network(f"192.168.{third}.0/24")
