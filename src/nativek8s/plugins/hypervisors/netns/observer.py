"""Observing a netns lab: commands in its namespaces, the speakers' state, probes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from nativek8s.core.engine.context import LabContext
from nativek8s.core.errors import NativeK8sError, UsageError
from nativek8s.core.intent import SpeakerIntent
from nativek8s.core.kinds import BgpSessionState
from nativek8s.core.observe import MachineStatus, ProbeResult
from nativek8s.core.plan import NodePlan

from . import daemons, iproute
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
        if self.namespace not in iproute.namespaces():
            raise NativeK8sError(f"{self.machine}: namespace {self.namespace} does not exist; "
                                 "run `nativek8s deploy` to recreate it")
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
        if self.namespace not in iproute.namespaces():
            raise NativeK8sError(f"{self.machine}: namespace {self.namespace} does not exist; "
                                 "run `nativek8s deploy` to recreate it")
        if argv and argv[0] == "ip":  # `ip -n` enters the namespace itself: one exec less
            return iproute.run(["ip", "-n", self.namespace, *argv[1:]], timeout=timeout).stdout
        return iproute.run(iproute.ns_exec(self.namespace, argv), timeout=timeout).stdout


class NetnsObserver:
    def __init__(self, ctx: LabContext, speaker: str, port: int,
                 intents: dict[str, SpeakerIntent]):
        self.ctx, self.speaker, self.port, self.intents = ctx, speaker, port, intents
        self.lab = ctx.plan.lab

    def access(self, machine: str) -> NetnsAccess:
        m = self.ctx.plan.machine(machine)
        if m.kind == "router":
            daemon = daemons.router_daemon(self.ctx, machine)
        else:
            daemon = daemons.node_daemon(self.ctx, machine, self.speaker)
        return NetnsAccess(machine, machine_ns(self.lab, machine), str(daemon.socket),
                           daemon.kind)

    def node_bgp_sessions(self, node: NodePlan) -> list[BgpSessionState]:
        daemon = daemons.node_daemon(self.ctx, node.name, self.speaker)
        if not daemons.running_pid(self.ctx, daemon):
            raise NativeK8sError(f"the {daemon.kind} of {node.name} is not running "
                                 f"(log: {daemon.log})")
        if daemon.kind == "gobgpd":
            out = []
            for n in daemons.gobgp_neighbors(daemon.socket):
                state = n.get("state", {})
                fsm = state.get("session_state", 0)
                out.append(BgpSessionState(
                    name=state.get("neighbor_address", "?"),
                    peer=n.get("conf", {}).get("neighbor_address", "?"),
                    state=_FSM.get(fsm, str(fsm))))
            return out
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

    def link_kinds(self, machine: str) -> dict[str, str]:
        links = iproute.links(machine_ns(self.lab, machine))
        return {ln["ifname"]: ln.get("linkinfo", {}).get("info_kind", ln.get("link_type", ""))
                for ln in links}

    def machines(self) -> list[MachineStatus]:
        existing = iproute.namespaces()
        out = []
        for m in self.ctx.plan.machines:
            ns = machine_ns(self.lab, m.name)
            if m.kind == "router":
                daemon = daemons.router_daemon(self.ctx, m.name)
            else:
                daemon = daemons.node_daemon(self.ctx, m.name, self.speaker)
            pid = daemons.running_pid(self.ctx, daemon)
            state = ("missing" if ns not in existing else "running" if pid else "degraded")
            detail = "" if pid else f"{daemon.kind} not running"
            out.append(MachineStatus(m.name, m.kind, state, detail,
                                     {daemon.kind: pid} if pid else {}))
        return out




def _bird_speaker_sessions(intent: SpeakerIntent, daemon) -> list[BgpSessionState]:
    """`birdc show protocols` of a BIRD node speaker; its protocols are peer0, peer1, ..."""
    peers = intent.peers
    out = iproute.run(["birdc", "-s", str(daemon.socket), "show", "protocols"]).stdout
    states = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].startswith("peer") and parts[1] == "BGP":
            index = int(parts[0][4:])
            if index < len(peers):
                # Name Proto Table State Since Info: Info is the BGP state when up
                info = parts[5] if len(parts) > 5 else parts[3]
                states.append(BgpSessionState(parts[0], str(peers[index].address), info))
    return states
