"""What one router's frr.conf says, taken from the plan (the template only lays it out).

No address arithmetic here: every address and prefix is the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from nativek8s.api import MD5_SECRET, BgpKind, BgpSession, Plan, RouterPlan, SecretStore, UsageError

from .options import FrrOptions

TCP_MD5_MAX_KEY = 80  # Linux TCP_MD5SIG_MAXKEYLEN


@dataclass(frozen=True)
class FrrPeer:
    """One BGP neighbour of the router: a plan session seen from the router's side."""

    session: str  # the plan's session name: the neighbour's description, so output maps back
    kind: BgpKind
    peer: str  # the other machine
    local_address: IPv4Address
    remote_address: IPv4Address
    remote_asn: int
    imports: tuple[IPv4Network, ...] | None  # prefixes taken from the peer; None: all
    exports: tuple[IPv4Network, ...] | None  # prefixes the peer takes; None: the lab's routes
    rr_client: bool  # we reflect routes to this peer
    hold_time: int
    keepalive_time: int
    connect_retry: int
    password: str | None

    @property
    def ibgp(self) -> bool:
        return self.kind == BgpKind.ibgp

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
    sessions = plan.sessions_of(router.name)
    password = md5_password(secrets) if any(s.md5 for s in sessions) else None
    lan = plan.network(plan.datacentre(router.datacentre).lan).cidr
    assert lan is not None, "a datacentre LAN always has a CIDR in the plan"
    return FrrConfig(
        lab=plan.lab, router=router.name, router_id=router.router_id, asn=router.asn,
        source_address=router.source_address, lan=lan,
        peers=tuple(_peer(router, s, password) for s in sessions),
        log_level=options.log_level,
    )


def _peer(router: RouterPlan, session: BgpSession, password: str | None) -> FrrPeer:
    local, remote = session.sides(router.name)
    return FrrPeer(
        session=session.name, kind=session.kind, peer=remote.machine,
        local_address=local.address, remote_address=remote.address, remote_asn=remote.asn,
        imports=local.accepts, exports=remote.accepts,
        rr_client=remote.reflector_client and not local.reflector_client,
        hold_time=session.hold_time, keepalive_time=session.keepalive_time,
        connect_retry=session.connect_retry,
        password=password if session.md5 else None,
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
