"""Reading BIRD 2's state: `birdc show protocols [all]` and `birdc show route [all]` parsed
into typed records, and a BIRD's BGP sessions for verify/status. Shared by every plugin that
runs or reads BIRD (router OSes, backends running BIRD node speakers).

Both birdc's plain output and its verbose one (`birdc -v`, every line prefixed by BIRD's
4-digit reply code) are understood; in verbose output an error reply (8xxx/9xxx) raises.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv4Network

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.kinds import BgpSessionState, MachineAccess

# The kernel's `proto` word on routes BIRD installs (`ip route`: "proto bird").
KERNEL_PROTOCOL = "bird"

_CODE = re.compile(r"^(\d{4})([- ])")
# Error replies as plain birdc prints them (no reply code to go by).
_PLAIN_ERRORS = re.compile(r"^(syntax error|Unknown command|No protocols match|Access denied|"
                           r"Unable to connect|There is no table|Unknown protocol)")
NOT_FOUND = "Network not found"
_VERBOSE_CONT = " " * 5  # verbose continuation lines repeat no code, only its width


class BirdError(NativeK8sError):
    """BIRD answered a command with an error reply."""


def _plain_lines(output: str) -> list[str]:
    """Lines as plain birdc prints them: reply codes stripped, greeting dropped."""
    lines = output.splitlines()
    verbose = bool(lines) and lines[0].startswith("0001 ")
    out: list[str] = []
    for line in lines:
        if verbose:
            match = _CODE.match(line)
            if match:
                code = int(match.group(1))
                if code == 8001 and line[5:].strip() == NOT_FOUND:
                    line = NOT_FOUND
                elif code >= 8000:
                    raise BirdError(f"BIRD refused the command: {line[5:].strip()}")
                else:
                    line = line[5:]
            elif line.startswith(_VERBOSE_CONT):
                line = line[5:]
        if line.startswith("BIRD ") and line.rstrip().endswith("ready."):
            continue  # greeting
        if _PLAIN_ERRORS.match(line):
            raise BirdError(f"BIRD refused the command: {line.strip()}")
        out.append(line)
    return out


# -- show protocols --------------------------------------------------------------------

@dataclass(frozen=True)
class ProtocolStatus:
    """One line of `show protocols`, with the details `show protocols all` adds."""

    name: str
    proto: str  # "BGP", "Kernel", "Static", "Device"
    table: str
    state: str  # BIRD's protocol state: up, start, down, ...
    since: str
    info: str  # for BGP: the BGP state, then the last error
    details: dict[str, str] = field(default_factory=dict)  # "BGP state" → "Established", ...
    import_updates: dict[str, int] = field(default_factory=dict)  # received, filtered, ...

    @property
    def bgp_state(self) -> str | None:
        """The BGP state (Established, Active, Passive, Connect, Down, ...)."""
        if self.proto != "BGP":
            return None
        if "BGP state" in self.details:
            return self.details["BGP state"]
        if self.state == "down":
            return "Down"
        return self.info.split()[0] if self.info.split() else None

    @property
    def last_error(self) -> str:
        if "Last error" in self.details:
            return self.details["Last error"]
        if self.proto != "BGP":
            return ""
        if self.state == "down":
            return self.info.strip()
        return self.info.strip().partition(" ")[2].strip()

    @property
    def neighbor_address(self) -> IPv4Address | None:
        value = self.details.get("Neighbor address")
        return IPv4Address(value) if value else None


_SINCE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STATS_HEADER = "Route change stats:"


def parse_protocols(output: str) -> list[ProtocolStatus]:
    """Parse `birdc show protocols` or `birdc show protocols all [NAME]`."""
    protocols: list[dict] = []
    stats_columns: list[str] = []
    for line in _plain_lines(output):
        if not line.strip():
            continue
        if line.startswith("Name ") and "Proto" in line:
            continue  # column header
        if not line[0].isspace():
            protocols.append(_protocol_line(line))
            continue
        if not protocols:
            raise BirdError(f"unexpected line before any protocol: {line.strip()!r}")
        current = protocols[-1]
        text = line.strip()
        if text.startswith(_STATS_HEADER):
            stats_columns = text[len(_STATS_HEADER):].split()
            continue
        key, sep, value = text.partition(":")
        if not sep:
            continue  # capability lists and channel titles carry no value
        key, value = key.strip(), value.strip()
        if key == "Import updates" and stats_columns:
            counts = value.split()
            current["import_updates"] = {
                col: int(n) for col, n in zip(stats_columns, counts, strict=False) if n.isdigit()
            }
        current["details"].setdefault(key, value)
    return [ProtocolStatus(**p) for p in protocols]


def _protocol_line(line: str) -> dict:
    # Columns are padded to a width but shift right when a name is longer: split on blanks.
    parts = line.split(None, 5)
    if len(parts) < 5:
        raise BirdError(f"cannot read protocol line {line.strip()!r}")
    name, proto, table, state, since = parts[:5]
    rest = parts[5] if len(parts) > 5 else ""
    if _SINCE_DATE.match(since) and re.match(r"^\d{2}:\d{2}", rest):
        extra, _, rest = rest.partition(" ")  # `timeformat protocol iso long`: date and time
        since = f"{since} {extra}"
    return {"name": name, "proto": proto, "table": table, "state": state, "since": since,
            "info": rest.strip(), "details": {}, "import_updates": {}}


# -- show route ------------------------------------------------------------------------

@dataclass(frozen=True)
class Nexthop:
    gateway: IPv4Address | None  # None: a device route
    dev: str | None


@dataclass(frozen=True)
class BirdRoute:
    """One route of `show route`: the best one of its prefix has primary=True."""

    table: str
    prefix: IPv4Network
    dest: str  # unicast, unreachable, blackhole, prohibit
    protocol: str
    since: str
    primary: bool
    preference: int
    source_info: str = ""  # BIRD's summary in brackets: "AS65001i", "i", ...
    learned_from: IPv4Address | None = None  # "from" address, when not the gateway
    nexthops: tuple[Nexthop, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)  # `show route all`: BGP.as_path...

    @property
    def gateways(self) -> tuple[IPv4Address, ...]:
        return tuple(n.gateway for n in self.nexthops if n.gateway is not None)


_ROUTE = re.compile(
    r"^(?P<prefix>\S+)?\s+(?P<dest>unicast|unreachable|blackhole|prohibit|\w+)\s+"
    r"\[(?P<proto>\S+)\s+(?P<since>[^\]]*?)(?:\s+from\s+(?P<from>\S+))?\]\s+"
    r"(?P<primary>\*)?\s*\((?P<pref>\d+)(?:/[^)]*)?\)(?:\s+\[(?P<info>[^\]]*)\])?"
)
_VIA = re.compile(r"^via\s+(?P<gw>\S+)(?:\s+on\s+(?P<dev>\S+))?")
_DEV = re.compile(r"^dev\s+(?P<dev>\S+)")


def parse_routes(output: str) -> list[BirdRoute]:
    """Parse `birdc show route [all] [...]` (every table, every route, best ones marked)."""
    routes: list[dict] = []
    table = ""
    prefix: IPv4Network | None = None
    for line in _plain_lines(output):
        text = line.strip()
        if not text or text == NOT_FOUND:
            continue
        if text.startswith("Table ") and text.endswith(":"):
            table = text[len("Table "):-1]
            continue
        if not line[0].isspace() or _ROUTE.match(line):
            match = _ROUTE.match(line)
            if match is None:
                raise BirdError(f"cannot read route line {text!r}")
            if match.group("prefix"):
                prefix = IPv4Network(match.group("prefix"))
            if prefix is None:
                raise BirdError(f"route line without a prefix before it: {text!r}")
            learned = match.group("from")
            routes.append({
                "table": table, "prefix": prefix, "dest": match.group("dest"),
                "protocol": match.group("proto"), "since": match.group("since"),
                "primary": bool(match.group("primary")), "preference": int(match.group("pref")),
                "source_info": match.group("info") or "",
                "learned_from": IPv4Address(learned) if learned else None,
                "nexthops": [], "attributes": {},
            })
            continue
        if not routes:
            raise BirdError(f"unexpected line before any route: {text!r}")
        current = routes[-1]
        if via := _VIA.match(text):
            current["nexthops"].append(Nexthop(IPv4Address(via.group("gw")), via.group("dev")))
        elif dev := _DEV.match(text):
            current["nexthops"].append(Nexthop(None, dev.group("dev")))
        else:
            key, sep, value = text.partition(":")
            if sep:
                current["attributes"].setdefault(key.strip(), value.strip())
    return [BirdRoute(**{**r, "nexthops": tuple(r["nexthops"])}) for r in routes]


def best_routes(routes: Iterable[BirdRoute]) -> dict[IPv4Network, BirdRoute]:
    """Prefix → the route BIRD selected (the one it exports to the kernel)."""
    return {r.prefix: r for r in routes if r.primary}


# -- the router's sessions ---------------------------------------------------------------

def birdc_argv(socket: str | None, *command: str) -> list[str]:
    """birdc with the daemon's control socket (None: birdc's default socket)."""
    return ["birdc", *(["-s", socket] if socket else []), *command]


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def _routes_imported(protocol: ProtocolStatus) -> int | None:
    """`Routes: 2 imported, 2 exported, 2 preferred`: the peer's routes now in the table."""
    match = re.search(r"(\d+) imported", protocol.details.get("Routes", ""))
    return int(match.group(1)) if match else None


def _received(protocol: ProtocolStatus) -> int | None:
    """Prefixes the peer announces now: import updates received minus withdraws received
    (exact while the peer does not re-announce a prefix with changed attributes)."""
    updates = protocol.import_updates.get("received")
    withdraws = protocol.details.get("Import withdraws", "").split()
    if updates is None:
        return None
    gone = _int(withdraws[0]) if withdraws else 0
    return max(updates - (gone or 0), 0)


def uptime_of(since: str, now: datetime) -> float | None:
    """Seconds since BIRD's `since` column: `15:10:58.324` (today, BIRD's default for recent
    times), or `2026-12-04 15:10:58` (`timeformat protocol iso long`); None for a date alone
    (BIRD's default for older times). Read on this host's clock, in its time zone."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        with contextlib.suppress(ValueError):
            return max((now - datetime.strptime(since, fmt)).total_seconds(), 0.0)
    for fmt in ("%H:%M:%S.%f", "%H:%M:%S"):
        try:
            clock = datetime.strptime(since, fmt).time()
        except ValueError:
            continue
        then = datetime.combine(now.date(), clock)
        if then > now:  # shown as a time of day: it was yesterday
            then -= timedelta(days=1)
        return (now - then).total_seconds()
    return None


def session_state(protocol: ProtocolStatus, now: datetime | None = None,
                  refused: Iterable[IPv4Network] = ()) -> BgpSessionState:
    """``refused``: the prefixes its import filter refuses now (kept by `import keep
    filtered`); BIRD's "filtered" counter only ever grows, so a withdrawn hijack would
    count for ever."""
    neighbor = protocol.neighbor_address
    prefixes = tuple(sorted(str(p) for p in set(refused)))
    state = protocol.bgp_state or protocol.state
    up = state.lower() == "established"
    return BgpSessionState(
        name=protocol.name, peer=str(neighbor) if neighbor else "",
        state=state, info=protocol.last_error,
        refused=len(prefixes), refused_prefixes=prefixes,
        local_as=_int(protocol.details.get("Local AS")),
        peer_as=_int(protocol.details.get("Neighbor AS")),
        since=protocol.since,
        uptime_seconds=uptime_of(protocol.since, now or datetime.now()) if up else None,
        received=_received(protocol) if up else None,
        accepted=_routes_imported(protocol) if up else None,
    )


def hint(machine: str) -> str:
    """Where to look when a BIRD's session is not up."""
    return f"birdc show protocols all on {machine}; its log"


def session_states(access: MachineAccess) -> list[BgpSessionState]:
    """Every BGP protocol of the router's BIRD; protocol names are the plan's session names.

    `show protocols all` rather than `show protocols`: only the details carry the
    neighbour's address. `show route filtered`: the routes import filters refuse now.
    """
    sock = access.bgp_control_socket
    output = access.run(birdc_argv(sock, "show", "protocols", "all"))
    filtered: dict[str, list[IPv4Network]] = {}
    for route in parse_routes(access.run(birdc_argv(sock, "show", "route", "filtered"))):
        filtered.setdefault(route.protocol, []).append(route.prefix)
    now = datetime.now()
    return [session_state(p, now, filtered.get(p.name, ())) for p in parse_protocols(output)
            if p.proto == "BGP"]
