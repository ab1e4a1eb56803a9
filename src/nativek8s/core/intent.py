"""BGP intent: what one node's BGP speaker must do, independent of who realises it.

The CNI plugin derives it from the plan (the same data its cluster resources come from);
the netns backend runs it with GoBGP or BIRD; a real cluster runs it with Cilium.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from pydantic import BaseModel, ConfigDict


class PeerIntent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    address: IPv4Address
    asn: int
    hold_time: int
    keepalive_time: int
    connect_retry: int
    md5_secret: str | None = None  # name of the lab secret with the password; never the value


class SpeakerIntent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    node: str
    router_id: IPv4Address
    local_asn: int
    listen: bool = False  # Cilium dials out only
    peers: tuple[PeerIntent, ...]
    prefixes: tuple[IPv4Network, ...]  # exported to every peer
