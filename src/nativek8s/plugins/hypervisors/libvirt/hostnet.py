"""This host's IPv4 routes and interfaces, read (never changed) for preflight on local URIs."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path


@dataclass(frozen=True)
class HostRoute:
    prefix: IPv4Network
    dev: str


def _le_address(hexword: str) -> IPv4Address:
    return IPv4Address(int.from_bytes(bytes.fromhex(hexword), "little"))


class HostNetwork:
    """Reads /proc/net/route and /sys/class/net of this process's network namespace."""

    def __init__(self, proc: Path = Path("/proc/net/route"),
                 sys_net: Path = Path("/sys/class/net")):
        self.proc, self.sys_net = proc, sys_net

    def routes(self) -> list[HostRoute]:
        try:
            lines = self.proc.read_text().splitlines()[1:]
        except OSError:
            return []
        out = []
        for line in lines:
            cols = line.split()
            if len(cols) < 8:
                continue
            dest, mask = _le_address(cols[1]), _le_address(cols[7])
            prefix = IPv4Network(f"{dest}/{mask}", strict=False)
            if prefix.prefixlen:  # the default route overlaps everything: not a clash
                out.append(HostRoute(prefix, cols[0]))
        return out

    def uplink(self) -> str | None:
        """The device of this host's default route (where NAT traffic leaves), if any."""
        try:
            lines = self.proc.read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            cols = line.split()
            if len(cols) >= 8 and cols[1] == "00000000" and cols[7] == "00000000":
                return cols[0]
        return None

    def links(self) -> set[str]:
        try:
            return {p.name for p in self.sys_net.iterdir()}
        except OSError:
            return set()
