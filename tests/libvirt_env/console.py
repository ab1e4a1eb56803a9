"""The stand-in guest's console protocol: the kernel command line it reads and the report it
prints (see ``standin_init.sh``). Report lines look like ``NK8S NIC name=eth0 mac=...``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

BASE_CMDLINE = "console=ttyS0 quiet panic=-1"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


def kernel_cmdline(addrs: Mapping[str, str] | None = None, ping: Sequence[str] = (),
                   ping_timeout: int | None = None, base: str = BASE_CMDLINE) -> str:
    """Command line for the guest. ``addrs`` maps an interface name or a lower-case MAC to an
    ``ADDR/PREFIX``; ``ping`` lists peers the guest pings once its addresses are set."""
    words = [base]
    specs = []
    for key, addr in (addrs or {}).items():
        if not (_MAC.match(key) or _IFNAME.match(key)):
            raise ValueError(f"not an interface name or lower-case MAC: {key!r}")
        ipaddress.ip_interface(addr)  # raises ValueError on a bad address
        if "/" not in addr:
            raise ValueError(f"address needs a prefix length: {addr!r}")
        specs.append(f"{key}:{addr}")
    if specs:
        words.append("nk8s.addr=" + ",".join(specs))
    if ping:
        words.append("nk8s.ping=" + ",".join(str(ipaddress.ip_address(p)) for p in ping))
    if ping_timeout is not None:
        words.append(f"nk8s.ping_timeout={int(ping_timeout)}")
    return " ".join(words)


@dataclass
class Report:
    """What a guest printed. ``complete`` once the END line was seen."""

    kernel: str | None = None
    nics: dict[str, str] = field(default_factory=dict)      # name -> mac
    disks: dict[str, int] = field(default_factory=dict)     # name -> bytes
    addrs: list[dict[str, str]] = field(default_factory=list)
    pings: dict[str, dict[str, str]] = field(default_factory=dict)  # peer -> fields
    failed_modules: list[str] = field(default_factory=list)
    uptime: float | None = None
    status: int | None = None  # exit status of the report subshell; 0 unless it broke
    complete: bool = False

    @property
    def macs(self) -> set[str]:
        return set(self.nics.values())


def _fields(words: list[str]) -> dict[str, str]:
    out = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value
    return out


_NEEDS = {"NIC": ("name", "mac"), "DISK": ("name", "bytes"), "PING": ("peer",),
          "MODULE": ("name",), "END": ("uptime", "status")}


def parse_report(text: str) -> Report:
    """Parse a console log. Only lines starting with ``NK8S `` count; the last boot wins."""
    report = Report()
    for line in text.splitlines():
        words = line.strip().split()
        if len(words) < 2 or words[0] != "NK8S":
            continue
        kind, f = words[1], _fields(words[2:])
        if any(k not in f for k in _NEEDS.get(kind, ())):
            continue  # cut by a kernel message on the same console: the test names what is missing
        if kind == "BEGIN":
            report = Report(kernel=f.get("kernel"))
        elif kind == "NIC":
            report.nics[f["name"]] = f["mac"].lower()
        elif kind == "DISK":
            report.disks[f["name"]] = int(f["bytes"])
        elif kind == "ADDR":
            report.addrs.append(f)
        elif kind == "PING":
            report.pings[f["peer"]] = f
        elif kind == "MODULE":
            report.failed_modules.append(f["name"])
        elif kind == "END":
            report.uptime = float(f["uptime"])
            report.status = int(f["status"])
            report.complete = True
    return report
