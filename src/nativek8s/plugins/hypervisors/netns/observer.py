"""Observing a netns lab: commands in its namespaces, the speakers' state, probes."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nativek8s.api import (
    BgpSessionState,
    KernelRoute,
    LabContext,
    MachineStatus,
    NativeK8sError,
    NodePlan,
    Observer,
    ProbeResult,
    RouterPlan,
    SpeakerIntent,
    UsageError,
)
from nativek8s.shared import bird, birdctl

from . import daemons, iproute, netlink
from .names import machine_ns, pod_ns
from .podagent import client_address
from .wiring import POD_GATEWAY

# gobgp's session_state numbers (BGP FSM, RFC 4271 order)
_FSM = {1: "Idle", 2: "Connect", 3: "Active", 4: "OpenSent", 5: "OpenConfirm", 6: "Established"}


@dataclass
class NetnsAccess:
    """Runs commands inside one machine's namespace."""

    machine: str
    namespace: str
    bgp_control_socket: str | None = None
    bgp_daemon: str | None = None  # "bird" or "gobgpd": which client the socket speaks to

    def host_command(self, argv: Sequence[str]) -> list[str]:
        """`ip netns exec` into the machine; birdc and gobgp pointed at its daemon."""
        if os.geteuid() != 0:
            raise UsageError(f"entering {self.machine} (namespace {self.namespace}) needs "
                             "root; run it with sudo")
        _present(self.machine, self.namespace)
        return iproute.ns_exec(self.namespace, self._pointed(list(argv)))

    def _pointed(self, argv: list[str]) -> list[str]:
        tool = os.path.basename(argv[0]) if argv else ""
        wants = {"birdc": "bird", "birdcl": "bird", "gobgp": "gobgpd"}.get(tool)
        if wants is None or self.bgp_control_socket is None:
            return argv
        if wants != self.bgp_daemon:
            other = "gobgp" if self.bgp_daemon == "gobgpd" else "birdc"
            raise UsageError(f"{self.machine} runs {self.bgp_daemon}, not {wants}: use "
                             f"`nativek8s exec {self.machine} {other} ...`")
        if tool.startswith("birdc") and "-s" not in argv:
            return [argv[0], "-s", self.bgp_control_socket, *argv[1:]]
        if tool == "gobgp" and not any(a in ("-u", "--target") or a.startswith("--target=")
                                       for a in argv):
            return [argv[0], "--target", f"unix://{self.bgp_control_socket}", *argv[1:]]
        return argv

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        _present(self.machine, self.namespace)
        if (command := _birdc_command(argv)) is not None:
            # birdc only talks to the control socket (on this host's filesystem): asked
            # directly, without a process, as verify polls it many times a second.
            return birdctl.query(command[0], command[1], timeout)
        if argv and argv[0] == "ip":  # `ip -n` enters the namespace itself: one exec less
            return iproute.run(["ip", "-n", self.namespace, *argv[1:]], timeout=timeout).stdout
        return iproute.run(iproute.ns_exec(self.namespace, argv), timeout=timeout).stdout


def _present(machine: str, namespace: str) -> str:
    """The machine's namespace, or why there is none."""
    if not iproute.namespace_exists(namespace):
        raise NativeK8sError(f"{machine}: namespace {namespace} does not exist; "
                             "run `nativek8s deploy` to recreate it")
    return namespace


def _birdc_command(argv: Sequence[str]) -> tuple[str, str] | None:
    """(socket, command) of a plain `birdc -s SOCKET COMMAND...`; None for anything else
    (other options, no socket given), which runs as a process."""
    if len(argv) < 4 or argv[0] != "birdc" or argv[1] != "-s" or argv[3].startswith("-"):
        return None
    return argv[2], " ".join(argv[3:])


class NetnsObserver(Observer):
    def __init__(self, ctx: LabContext, speaker: str, port: int,
                 intents: dict[str, SpeakerIntent]):
        self.ctx, self.speaker, self.port, self.intents = ctx, speaker, port, intents
        self.lab = ctx.plan.lab
        # The kernel's word on routes each speaker installs: verify flags unplanned ones.
        self.node_route_protocols = frozenset(
            {bird.KERNEL_PROTOCOL if speaker == "bird" else "gobgp"})
        self._protocols = netlink.protocol_names()

    def access(self, machine: str) -> NetnsAccess:
        m = self.ctx.plan.machine(machine)
        if isinstance(m, RouterPlan):  # the router OS's own daemon, as its plugin says
            answer = daemons.router_answer(self.ctx, m)
            return NetnsAccess(machine, machine_ns(self.lab, machine), answer.control_socket,
                               answer.processes[-1].name if answer.processes else None)
        daemon = daemons.node_daemon(self.ctx, machine, self.speaker)
        return NetnsAccess(machine, machine_ns(self.lab, machine), str(daemon.socket),
                           daemon.kind)

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        daemon = daemons.node_daemon(self.ctx, node.name, self.speaker)
        if not daemons.running_pid(self.ctx, daemon):
            raise NativeK8sError(f"the {daemon.kind} of {node.name} is not running "
                                 f"(log: {daemon.log})")
        if daemon.kind == "gobgpd":
            now = time.time()
            return [gobgp_session(n, now) for n in daemons.gobgp_neighbors(daemon.api_socket)]
        return _bird_speaker_sessions(self.intents[node.name], daemon)

    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        proc = subprocess.run(iproute.ns_exec(pod_ns(self.lab, src.name), [
            "ping", "-c", "1", "-W", "2", "-q", str(dst.probe_pod)]),
            capture_output=True, text=True, timeout=10)
        summary = next((ln for ln in proc.stdout.splitlines() if "packet" in ln),
                       proc.stderr.strip() or "no output")
        return ProbeResult(proc.returncode == 0, summary.strip())

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        try:
            seen = client_address(pod_ns(self.lab, src.name), str(dst.probe_pod), self.port)
        except OSError as exc:
            return ProbeResult(False, f"{exc.strerror or exc} connecting to "
                                      f"{dst.probe_pod}:{self.port}")
        return ProbeResult(True, f"answered: {seen}", seen)

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        try:
            proc = subprocess.run(iproute.ns_exec(pod_ns(self.lab, src.name), [
                "traceroute", "-n", "-q", "1", "-w", "1", "-m", "8", str(dst.probe_pod)]),
                capture_output=True, text=True, timeout=20)
        except FileNotFoundError:
            return ["(traceroute not installed: apt-get install traceroute)"]
        hops = []
        for line in proc.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2:
                hop = parts[1]
                # The pod's gateway is its node: name the node by its LAN address.
                hops.append(str(src.address.ip) if hop == POD_GATEWAY else hop)
        return hops

    # The tables are read over netlink in this process: a big lab has thousands of them.
    def kernel_routes(self, machine: str) -> list[KernelRoute]:
        return netlink.routes(self._existing(machine), self._protocols)

    def policy_rules(self, machine: str) -> list[dict] | None:
        return netlink.rules(self._existing(machine))

    def link_kinds(self, machine: str) -> dict[str, str]:
        return netlink.link_kinds(self._existing(machine))

    def _existing(self, machine: str) -> str:
        self.ctx.plan.machine(machine)  # a name the plan does not have: KeyError, named
        return _present(machine, machine_ns(self.lab, machine))

    def machines(self) -> list[MachineStatus]:
        existing = iproute.namespaces()
        out = []
        for m in self.ctx.plan.machines:
            ns = machine_ns(self.lab, m.name)
            if isinstance(m, RouterPlan):
                procs = daemons.router_daemons(self.ctx, m)
            else:
                procs = [daemons.node_daemon(self.ctx, m.name, self.speaker)]
            pids = {d.kind: daemons.running_pid(self.ctx, d) for d in procs}
            down = [kind for kind, pid in pids.items() if not pid]
            state = ("missing" if ns not in existing else "degraded" if down else "running")
            detail = f"{', '.join(down)} not running" if down else ""
            out.append(MachineStatus(m.name, m.kind, state, detail,
                                     {kind: pid for kind, pid in pids.items() if pid}))
        return out

    def faults(self) -> list[tuple[str, str]]:
        """Machines whose namespace is gone or whose daemon died: BGP will not converge
        by waiting for it."""
        existing = iproute.namespaces()
        out = []
        for m in self.ctx.plan.machines:
            ns = machine_ns(self.lab, m.name)
            if ns not in existing:
                out.append((m.name, f"namespace {ns} does not exist"))
                continue
            procs = (daemons.router_daemons(self.ctx, m) if isinstance(m, RouterPlan)
                     else [daemons.node_daemon(self.ctx, m.name, self.speaker)])
            for daemon in procs:
                if not daemons.running_pid(self.ctx, daemon):
                    out.append((m.name, f"{daemon.kind} is not running (log: {daemon.log})"))
        return out


def gobgp_session(neighbor: dict, now: float) -> BgpSessionState:
    """One entry of `gobgp neighbor -j`. Its JSON leaves out zero counters, and its
    uptime is the epoch second the session came up."""
    conf, state = neighbor.get("conf", {}), neighbor.get("state", {})
    fsm = state.get("session_state", 0)
    up = fsm == 6
    families = [a.get("state", {}) for a in neighbor.get("afi_safis", [])]
    since = neighbor.get("timers", {}).get("state", {}).get("uptime", {}).get("seconds")
    return BgpSessionState(
        name=state.get("neighbor_address", "?"),
        peer=conf.get("neighbor_address", "?"),
        state=_FSM.get(fsm, str(fsm)),
        local_as=conf.get("local_asn"), peer_as=conf.get("peer_asn") or state.get("peer_asn"),
        since=(datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds")
               if up and since else ""),
        uptime_seconds=max(now - since, 0.0) if up and since else None,
        received=sum(f.get("received", 0) for f in families) if up else None,
        accepted=sum(f.get("accepted", 0) for f in families) if up else None,
    )


def _bird_speaker_sessions(intent: SpeakerIntent,
                           daemon: daemons.Daemon) -> list[BgpSessionState]:
    """`birdc show protocols` of a BIRD node speaker; its protocols are peer0, peer1, ...
    The AS numbers are the ones its configuration gives it (made from the intent)."""
    peers = intent.peers
    out = birdctl.query(str(daemon.api_socket), "show protocols")
    now = datetime.now()
    states = []
    for protocol in bird.parse_protocols(out):
        index = protocol.name[4:]
        if protocol.proto != "BGP" or not protocol.name.startswith("peer") \
                or not index.isdigit() or int(index) >= len(peers):
            continue
        peer = peers[int(index)]
        state = protocol.bgp_state or protocol.state
        up = state.lower() == "established"
        states.append(BgpSessionState(
            protocol.name, str(peer.address), state,
            local_as=intent.local_asn, peer_as=peer.asn, since=protocol.since,
            uptime_seconds=bird.uptime_of(protocol.since, now) if up else None))
    return states
