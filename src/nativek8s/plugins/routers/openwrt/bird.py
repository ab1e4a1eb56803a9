"""What one router's bird.conf says, taken from the plan (the template only lays it out)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from nativek8s.api import (
    MD5_SECRET,
    Plan,
    RouteOrigin,
    RouterPeer,
    RouterPlan,
    SecretStore,
    UsageError,
)

from .options import OpenWrtOptions

SYM_MAX_LEN = 64  # BIRD's longest symbol (conf/conf.h)
TCP_MD5_MAX_KEY = 80  # Linux TCP_MD5SIG_MAXKEYLEN
LAN_AGGREGATE = "lan_aggregate"  # name of the static protocol holding the LAN aggregate


class BirdPeer(RouterPeer):
    """One BGP protocol of the router: the plan's view of a session from the router's side,
    with the password when the session uses MD5."""

    password: str | None = None

    @property
    def protocol(self) -> str:
        """BIRD protocol name: the session's name, so birdc output maps back."""
        return self.session


@dataclass(frozen=True)
class BirdConfig:
    lab: str
    router: str
    router_id: IPv4Address
    asn: int
    source_address: IPv4Address  # krt_prefsrc: an address the router owns
    lan: IPv4Network  # its datacentre's LAN, announced as an aggregate
    connected: tuple[IPv4Network, ...]  # prefixes the kernel already has as connected routes
    peers: tuple[BirdPeer, ...]
    connect_delay_time: int
    error_wait_time: tuple[int, int]
    lan_aggregate: str = LAN_AGGREGATE

    @property
    def has_password(self) -> bool:
        return any(p.password for p in self.peers)


def bird_config(plan: Plan, router: RouterPlan, options: OpenWrtOptions,
                secrets: SecretStore) -> BirdConfig:
    views = plan.router_peers(router.name)
    password = _password(secrets) if any(v.md5 for v in views) else None
    peers = tuple(_peer(v, password) for v in views)
    lan_key = plan.datacentre(router.datacentre).lan
    lan = plan.network(lan_key).cidr
    assert lan is not None, "a datacentre LAN always has a CIDR in the plan"
    return BirdConfig(
        lab=plan.lab, router=router.name, router_id=router.router_id, asn=router.asn,
        source_address=router.source_address, lan=lan,
        connected=tuple(r.prefix for r in router.routes if r.origin == RouteOrigin.connected),
        peers=peers, connect_delay_time=options.connect_delay_time,
        error_wait_time=options.error_wait_time,
    )


def _peer(view: RouterPeer, password: str | None) -> BirdPeer:
    if len(view.session) > SYM_MAX_LEN:
        raise UsageError(f"BGP session {view.session!r} is longer than BIRD's {SYM_MAX_LEN}-"
                         "character protocol names; use shorter machine names")
    return BirdPeer(**dict(view), password=password if view.md5 else None)


def _password(secrets: SecretStore) -> str:
    """The lab's TCP-MD5 password, checked against what a BIRD string can hold."""
    value = secrets.get(MD5_SECRET)
    # BIRD config strings have no escapes: a double quote would end the string early.
    if any(c == '"' or c == "\\" or not c.isprintable() for c in value):
        raise UsageError(f"the BGP MD5 password (secret {MD5_SECRET!r}, {secrets.path(MD5_SECRET)})"
                         " contains a double quote, backslash or control character, which "
                         "bird.conf cannot hold; use printable characters without those")
    if len(value.encode()) > TCP_MD5_MAX_KEY:
        raise UsageError(f"the BGP MD5 password (secret {MD5_SECRET!r}) is longer than the "
                         f"{TCP_MD5_MAX_KEY} bytes Linux allows for a TCP-MD5 key")
    return value
