"""What one router's frr.conf says, taken from the plan (the template only lays it out).

No address arithmetic here: every address and prefix is the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from nativek8s.api import MD5_SECRET, Plan, RouterPeer, RouterPlan, SecretStore, UsageError

from .options import FrrOptions

TCP_MD5_MAX_KEY = 80  # Linux TCP_MD5SIG_MAXKEYLEN


class FrrPeer(RouterPeer):
    """One BGP neighbour of the router: the plan's view of a session from the router's side
    (its name is the neighbour's description, so output maps back), with the password when
    the session uses MD5."""

    password: str | None = None

    @property
    def policy(self) -> str:
        """Name stem of this neighbour's prefix-lists and route-maps."""
        return f"nk-{self.peer}"


@dataclass(frozen=True)
class FrrConfig:
    lab: str
    router: str
    router_id: IPv4Address
    asn: int
    source_address: IPv4Address  # preferred source of the routes zebra installs
    lan: IPv4Network  # its datacentre's LAN, announced to the other routers
    peers: tuple[FrrPeer, ...]
    log_level: str

    @property
    def has_password(self) -> bool:
        return any(p.password for p in self.peers)


def frr_config(plan: Plan, router: RouterPlan, options: FrrOptions,
               secrets: SecretStore) -> FrrConfig:
    views = plan.router_peers(router.name)
    password = md5_password(secrets) if any(v.md5 for v in views) else None
    lan = plan.network(plan.datacentre(router.datacentre).lan).cidr
    assert lan is not None, "a datacentre LAN always has a CIDR in the plan"
    return FrrConfig(
        lab=plan.lab, router=router.name, router_id=router.router_id, asn=router.asn,
        source_address=router.source_address, lan=lan,
        peers=tuple(FrrPeer(**dict(v), password=password if v.md5 else None)
                    for v in views),
        log_level=options.log_level,
    )


def password_problem(value: str) -> str | None:
    """Why frr.conf cannot hold this TCP-MD5 password, or None. FRR's `neighbor X password
    WORD` takes one word: no whitespace; Linux caps TCP-MD5 keys at 80 bytes."""
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        return ("is empty or contains whitespace or control characters, which FRR's "
                "`neighbor ... password WORD` cannot hold; use one word of printable characters")
    if len(value.encode()) > TCP_MD5_MAX_KEY:
        return f"is longer than the {TCP_MD5_MAX_KEY} bytes Linux allows for a TCP-MD5 key"
    return None


def md5_password(secrets: SecretStore) -> str:
    value = secrets.get(MD5_SECRET)
    problem = password_problem(value)
    if problem:
        raise UsageError(f"the BGP MD5 password (secret {MD5_SECRET!r}, "
                         f"{secrets.path(MD5_SECRET)}) {problem}")
    return value
