"""A planned graph with what the running lab shows: machine states, each side's view of
every BGP session, and each machine's kernel routing table compared with its plan (the
comparison verify makes)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ..errors import NativeK8sError
from ..kinds import BgpSessionState, RouterOS
from ..observe import KernelRoute, Observer
from ..plan import Machine, NodePlan, Plan, RouterPlan
from ..verify import (
    _compare_table as compare_table,  # verify's own judgement of a table
)
from ..verify import observe_routes
from .build import planned_row
from .model import LabGraph, MachineBox, Mark, RouteRow, SessionEdge

# (sessions seen by peer address, or None; why not; route rows; why not)
Look = tuple[dict[str, BgpSessionState] | None, str, list[RouteRow], str]


def _sessions_seen(observer: Observer, router_os: RouterOS,
                   m: RouterPlan | NodePlan) -> dict[str, BgpSessionState]:
    """Peer address → the session as m's BGP daemon reports it."""
    if isinstance(m, NodePlan):
        states = observer.node_bgp_sessions(m)
    else:
        states = router_os.bgp_sessions(m, observer.access(m.name))
    return {s.peer: s for s in states}


def _observed_row(r: KernelRoute, mark: Mark) -> RouteRow:
    return RouteRow(prefix=str(r.prefix), via=" | ".join(map(str, r.via)), dev=r.dev or "",
                    origin=r.protocol if r.kind == "unicast" else f"{r.protocol} {r.kind}",
                    mark=mark)


def route_rows(m: Machine, seen: list[KernelRoute]) -> list[RouteRow]:
    """The planned routes, each as observed (✓) or not (✗); then the observed routes the
    plan does not have: faults verify reports (+), or harmless ones like pods' /32s (·)."""
    checks = compare_table(m, seen)
    rows = []
    for planned, check in zip(m.routes, checks, strict=False):  # then the unplanned
        same = [r for r in seen if r.prefix == planned.prefix]
        if check.ok and same:
            rows.append(_observed_row(same[0], Mark.ok))
        else:
            rows.append(RouteRow(str(planned.prefix), " | ".join(map(str, planned.via)),
                                 planned.dev or "", planned.origin.value, Mark.failed,
                                 check.observed))
    faults = {c.subject.split(" ", 1)[1] for c in checks[len(m.routes):]}
    planned_prefixes = {r.prefix for r in m.routes}
    for r in seen:
        if r.prefix not in planned_prefixes:
            rows.append(_observed_row(r, Mark.unexpected if str(r.prefix) in faults
                                      else Mark.extra))
    return rows


def _look(observer: Observer, router_os: RouterOS, m: RouterPlan | NodePlan) -> Look:
    """(sessions seen or None, why not; route rows, why not) of one machine."""
    try:
        sessions, session_error = _sessions_seen(observer, router_os, m), ""
    except NativeK8sError as exc:
        sessions, session_error = None, str(exc)
    try:
        rows, route_error = route_rows(m, observe_routes(observer, m.name)), ""
    except NativeK8sError as exc:
        rows = [replace(planned_row(r), mark=Mark.unknown) for r in m.routes]
        route_error = str(exc)
    return sessions, session_error, rows, route_error


def _session(edge: SessionEdge, plan: Plan, seen: dict[str, Look]) -> SessionEdge:
    s = next(x for x in plan.sessions if x.name == edge.name)
    words, marks = [], []
    for local, remote in ((s.a, s.b), (s.b, s.a)):
        sessions = seen[local.machine][0]
        if sessions is None:
            continue
        state = sessions.get(str(remote.address))
        words.append(f"{local.machine}: {state.state if state else 'no such session'}")
        marks.append(bool(state and state.established))
    if not marks:
        return replace(edge, mark=Mark.unknown, state="not observable")
    return replace(edge, mark=Mark.ok if all(marks) else Mark.failed, state=", ".join(words))


def observe(graph: LabGraph, plan: Plan, observer: Observer,
            router_os: RouterOS) -> LabGraph:
    """The graph of ``plan`` with what ``observer`` sees; what it cannot see is marked
    unknown, with the reason, never passed off as seen."""
    notes = []
    reason = getattr(observer, "unverifiable", None)
    if reason:
        notes.append(reason)
    try:
        states = {s.name: s for s in observer.machines()}
    except NativeK8sError as exc:
        states = {}
        notes.append(f"machine states: {exc}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        looks = dict(zip((m.name for m in plan.machines),
                         pool.map(lambda m: _look(observer, router_os, m), plan.machines),
                         strict=True))
    machines: list[MachineBox] = []
    for box in graph.machines:
        _, session_error, rows, route_error = looks[box.name]
        status = states.get(box.name)
        note = "; ".join(dict.fromkeys(e for e in (route_error, session_error) if e))
        machines.append(replace(box, routes=tuple(rows), note=note,
                                state=(status.state + (f" ({status.detail})" if status.detail
                                                       else "")) if status else ""))
    sessions = [_session(s, plan, looks) for s in graph.sessions]
    return replace(graph, machines=machines, sessions=sessions, live=True,
                   notes=[*graph.notes, *notes])
