"""A small BGP lab in network namespaces for tests: the routers run real BIRD 2 with the
bird.conf this plugin renders, unchanged; each node runs a BIRD that stands in for Cilium's
BGP speaker (it dials its router, never needs to be dialled, and announces prefixes).

Every namespace is named `nk8s-owt-<random>-<machine>`; every daemon has its own socket,
pid and log file under the test's tmp folder and is stopped by its PID. Nothing is added to
the host's namespace.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from nativek8s.api import NativeK8sError, NodePlan, Plan

PREFIX = "nk8s-owt-"


def run(argv: Sequence[str], stdin: str | None = None) -> str:
    result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return result.stdout


@dataclass
class SocketAccess:
    """MachineAccess for a BIRD whose control socket is a file on this host (the netns
    backend's case): birdc runs here, against that socket."""

    machine: str
    bgp_control_socket: str | None

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise NativeK8sError(f"{argv[0]} on {self.machine} failed: "
                                 f"{(result.stdout + result.stderr).strip()}")
        return result.stdout


@dataclass
class Daemon:
    machine: str
    process: subprocess.Popen
    socket: Path
    log: Path


@dataclass
class NetnsLab:
    tmp: Path
    suffix: str = field(default_factory=lambda: secrets.token_hex(3))
    namespaces: list[str] = field(default_factory=list)
    daemons: dict[str, Daemon] = field(default_factory=dict)

    def ns(self, machine: str) -> str:
        return f"{PREFIX}{self.suffix}-{machine}"

    def add_namespace(self, machine: str) -> str:
        name = self.ns(machine)
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)  # from here on, close() deletes it
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        # A new namespace copies rp_filter from the host and does not forward: set both.
        run(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ip_forward=1",
             "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"])
        return name

    def batch(self, machine: str, commands: list[str]) -> None:
        run(["ip", "-n", self.ns(machine), "-batch", "-"], stdin="\n".join(commands) + "\n")

    def start_bird(self, machine: str, config: str) -> Daemon:
        base = self.tmp / machine
        conf, sock, pid, log = (base.with_suffix(s) for s in (".conf", ".ctl", ".pid", ".log"))
        conf.write_text(config)
        conf.chmod(0o600)
        with log.open("w") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(machine), "bird", "-f", "-c", str(conf),
                 "-s", str(sock), "-P", str(pid)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        daemon = self.daemons[machine] = Daemon(machine, process, sock, log)
        return daemon

    def stop_bird(self, machine: str) -> None:
        daemon = self.daemons.pop(machine, None)
        if daemon is None:
            return
        daemon.process.terminate()
        try:
            daemon.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait(timeout=3)

    def close(self) -> None:
        """Stop our daemons by PID, then delete our namespaces by exact name."""
        for machine in list(self.daemons):
            self.stop_bird(machine)
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self.namespaces.clear()

    def kernel_routes(self, machine: str) -> set[tuple[IPv4Network, IPv4Address | None, str]]:
        """(prefix, gateway, device) of the namespace's main IPv4 table; a route that is not
        unicast (unreachable, blackhole, ...) has its type in angle brackets as the device."""
        out = json.loads(run(["ip", "-j", "-4", "-n", self.ns(machine), "route", "show"]))
        routes = set()
        for r in out:
            prefix = IPv4Network("0.0.0.0/0" if r["dst"] == "default" else r["dst"])
            gw = IPv4Address(r["gateway"]) if "gateway" in r else None
            dev = r["dev"] if r.get("type", "unicast") == "unicast" else f"<{r['type']}>"
            routes.add((prefix, gw, dev))
        return routes

    def prefsrc(self, machine: str, prefix: IPv4Network) -> str | None:
        out = json.loads(run(["ip", "-j", "-4", "-n", self.ns(machine), "route", "show",
                              str(prefix)]))
        return out[0].get("prefsrc") if out else None


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2) -> bool:
    """Poll until predicate() is true or timeout passes; returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def node_speaker_config(plan: Plan, node: NodePlan, announce: Sequence[IPv4Network],
                        password: str | None) -> str:
    """BIRD as a node's BGP speaker: dials its router(s) and announces `announce`."""
    routes = "\n".join(f"  route {p} unreachable;" for p in announce)
    sessions = []
    for s in plan.sessions_of(node.name):
        local, remote = s.sides(node.name)
        sessions.append(f"""
protocol bgp '{s.name}' {{
  local {local.address} as {local.asn};
  neighbor {remote.address} as {remote.asn};
  hold time {s.hold_time}; keepalive time {s.keepalive_time};
  connect delay time 1; connect retry time {s.connect_retry}; error wait time 1,5;
  {f'password "{password}";' if password else ''}
  ipv4 {{ import none; export where proto = "announced"; }};
}}""")
    # Long time formats (date and time: two words) so the parsers meet them too.
    return f"""log stderr all;
timeformat protocol iso long;
timeformat route iso long;
router id {node.router_id};
protocol device {{}}
protocol static announced {{
  ipv4 {{ import all; export none; }};
{routes}
}}
{''.join(sessions)}
"""


KernelRoute = tuple[IPv4Network, IPv4Address | None, str]


def expected_kernel_routes(plan: Plan, router: str) -> set[KernelRoute]:
    machine = plan.machine(router)
    out = set()
    for r in machine.routes:
        assert len(r.via) <= 1, "one router per datacentre in these labs"
        out.add((r.prefix, r.via[0] if r.via else None, r.dev))
    return out
