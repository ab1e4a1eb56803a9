"""Options of the `openwrt` plugin (`options.openwrt` in a topology, top level or per
datacentre)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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

    @model_validator(mode="after")
    def _error_wait_ordered(self) -> OpenWrtOptions:
        low, high = self.error_wait_time
        if low < 1 or high < low:
            raise ValueError("error_wait_time must be [min, max] with 1 <= min <= max")
        return self
