"""Options of the `openwrt` plugin (`options.openwrt` in a topology, top level or per
datacentre)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_BASE_URL = "https://downloads.openwrt.org"
_PACKAGE_NAME = r"^[a-z0-9][a-z0-9+._-]*$"


class OpenWrtOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    firewall: Literal["strict", "open"] = Field(
        "strict",
        description="strict: only BGP from planned peers, DHCP, DNS, SSH from the LAN and ICMP "
                    "reach the router; open: the article's everything-ACCEPT zones",
    )
    ssh_from_wan: bool = Field(
        False, description="strict firewall: also accept SSH on the WAN (managing the router "
                           "from the hypervisor host)",
    )
    connect_delay_time: int = Field(
        0, ge=0, description="BIRD: seconds between a BGP session's start and its first "
                             "connect (BIRD's default is 5; a lab wants its sessions at once)",
    )
    error_wait_time: tuple[int, int] = Field(
        (1, 5), description="BIRD: [min, max] seconds before a failed BGP session restarts "
                            "(BIRD's default 60,300 makes a lab wait minutes after one error)",
    )

    base_url: str = Field(
        DEFAULT_BASE_URL,
        description="images: where OpenWrt releases are (a mirror, or file:///DIR for "
                    "air-gapped use); holds releases/<version>/targets/x86/64/...",
    )
    packages: tuple[Annotated[str, Field(pattern=_PACKAGE_NAME)], ...] = Field(
        ("bird2", "bird2c", "qemu-ga", "ip-full"),
        description="images: packages baked into the router disk and installed at first "
                    "boot, with their dependencies (bird2c provides birdc for verify; "
                    "qemu-ga lets a hypervisor run verify's commands inside the router; "
                    "ip-full gives verify `ip -j route`)",
    )
    rootfs_size_mib: int | None = Field(
        None, ge=16, le=65536,
        description="images: grow each router's root filesystem to this size (MiB); by "
                    "default it grows only when the added files need room",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url_scheme(cls, value: str) -> str:
        if not value.startswith(("https://", "http://", "file:///")):
            raise ValueError("base_url must start with https://, http:// or file:///")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _error_wait_ordered(self) -> OpenWrtOptions:
        low, high = self.error_wait_time
        if low < 1 or high < low:
            raise ValueError("error_wait_time must be [min, max] with 1 <= min <= max")
        return self
