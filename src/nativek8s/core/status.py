"""`nativek8s status`: every machine and every planned BGP session of a lab, as observed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from .errors import NativeK8sError
from .kinds import BgpSessionState, RouterOS
from .observe import MachineStatus, Observer
from .plan import NodePlan, Plan, RouterPlan


@dataclass(frozen=True)
class SessionStatus:
    """One planned session seen from one of its ends."""

    machine: str
    session: str  # the plan's session name: "router-1--node-1"
    type: str  # "ibgp" or "ebgp"
    peer_machine: str
    peer_address: str
    state: str  # the daemon's word ("Established", "Active", ...), "missing" or "unknown"
    ok: bool  # Established, with the planned AS numbers where the daemon reports them
    local_as: int | None
    peer_as: int | None
    planned_local_as: int
    planned_peer_as: int
    since: str
    uptime_seconds: float | None
    received: int | None
    accepted: int | None
    refused: int
    info: str  # the daemon's last error, or why the session could not be read

    def as_dict(self) -> dict:
        return asdict(self)


def _sessions_of(plan: Plan, observer: Observer, router_os: RouterOS,
                 machine: RouterPlan | NodePlan) -> list[SessionStatus]:
    try:
        if machine.kind == "router":
            states = router_os.bgp_sessions(machine, observer.access(machine.name))
        else:
            states = observer.node_bgp_sessions(machine)
        seen, error = {s.peer: s for s in states}, ""
    except NativeK8sError as exc:
        seen, error = {}, str(exc)
    out = []
    for session in plan.sessions_of(machine.name):
        local, remote = session.sides(machine.name)
        state: BgpSessionState | None = seen.get(str(remote.address))
        if state is None:
            out.append(SessionStatus(
                machine.name, session.name, session.kind.value, remote.machine,
                str(remote.address), "unknown" if error else "missing", False, None, None,
                local.asn, remote.asn, "", None, None, None, 0,
                error or f"no such session on {machine.name}"))
            continue
        as_ok = state.local_as in (None, local.asn) and state.peer_as in (None, remote.asn)
        out.append(SessionStatus(
            machine.name, session.name, session.kind.value, remote.machine, str(remote.address),
            state.state, state.established and as_ok, state.local_as, state.peer_as,
            local.asn, remote.asn, state.since, state.uptime_seconds, state.received,
            state.accepted, state.refused, state.info))
    return out


def session_statuses(plan: Plan, observer: Observer,
                     router_os: RouterOS) -> list[SessionStatus]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        per = pool.map(lambda m: _sessions_of(plan, observer, router_os, m), plan.machines)
        return [s for ss in per for s in ss]


def machines_ok(machines: list[MachineStatus]) -> bool:
    return all(m.state == "running" for m in machines)


def lab_ok(machines: list[MachineStatus], sessions: list[SessionStatus]) -> bool:
    """Every machine running and every session that could be read up. A session nobody can
    read (a node with no shell on a VM backend) is not a failure: where a daemon died, its
    machine is not running and its peers see the session down."""
    return machines_ok(machines) and all(s.ok for s in sessions if s.state != "unknown")
