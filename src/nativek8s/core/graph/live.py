"""A planned graph with what the running lab shows: machine states, each side's view of
every BGP session, and each machine's kernel routing table compared with its plan (the
comparison verify makes)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from ipaddress import IPv4Network

from ..errors import NativeK8sError
from ..kinds import RouterOS
from ..observe import KernelRoute, Observer
from ..plan import Machine, NodePlan, Plan, RouterPlan
from ..status import SessionStatus, session_statuses
from ..verify import (
    _compare_table as compare_table,  # verify's own judgement of a table
)
from ..verify import guarded_prefixes, observe_routes, routes_by_prefix
from .build import planned_row
from .model import LabGraph, MachineBox, Mark, RouteRow, SessionEdge


def _observed_row(r: KernelRoute, mark: Mark) -> RouteRow:
    return RouteRow(prefix=str(r.prefix), via=" | ".join(map(str, r.via)), dev=r.dev or "",
                    origin=r.protocol if r.kind == "unicast" else f"{r.protocol} {r.kind}",
                    mark=mark)


def route_rows(m: Machine, seen: list[KernelRoute], guarded: tuple[IPv4Network, ...] = (),
               learned: frozenset[str] = frozenset()) -> list[RouteRow]:
    """The planned routes, each as the kernel uses it (✓) or not (✗); then the observed
    routes the plan does not have: faults verify reports (+), or harmless ones like pods'
    /32s (·). ``guarded``, ``learned``: as verify's table comparison takes them."""
    checks = compare_table(m, seen, guarded, learned)
    by_prefix = routes_by_prefix(seen)
    rows = []
    for planned, check in zip(m.routes, checks, strict=False):  # then the unplanned
        used = next(iter(by_prefix.get(planned.prefix, [])), None)
        if check.ok and used is not None:
            rows.append(_observed_row(used, Mark.ok))
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


def _routes(plan: Plan, observer: Observer, router_os: RouterOS,
            m: RouterPlan | NodePlan) -> tuple[list[RouteRow], str]:
    """(route rows, why they could not be observed) of one machine."""
    # BGP-learned routes, by the kernel's protocol word of whoever installs them (as verify).
    learned = (router_os.kernel_route_protocols if isinstance(m, RouterPlan)
               else observer.node_route_protocols)
    try:
        seen = observe_routes(observer, m.name)
    except NativeK8sError as exc:
        return [replace(planned_row(r), mark=Mark.unknown) for r in m.routes], str(exc)
    return route_rows(m, seen, guarded_prefixes(plan), learned), ""


def _side(st: SessionStatus) -> str:
    word = "not observable" if st.state == "unknown" else st.state
    if st.received is not None:
        word += f", {st.received} received"
    return f"{st.machine}: {word}"


def _session(edge: SessionEdge, sides: list[SessionStatus]) -> SessionEdge:
    """Both ends' view of one session (the same reading as `nativek8s status`)."""
    seen = [st for st in sides if st.state != "unknown"]
    if not seen:
        return replace(edge, mark=Mark.unknown, state="not observable")
    ok = all(st.ok for st in seen)
    return replace(edge, mark=Mark.ok if ok else Mark.failed,
                   state=", ".join(_side(st) for st in sides))


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
        routes = dict(zip((m.name for m in plan.machines),
                          pool.map(lambda m: _routes(plan, observer, router_os, m), plan.machines),
                          strict=True))
    sessions = session_statuses(plan, observer, router_os)
    machines: list[MachineBox] = []
    for box in graph.machines:
        rows, route_error = routes[box.name]
        session_errors = [st.info for st in sessions
                          if st.machine == box.name and st.state == "unknown"]
        status = states.get(box.name)
        note = "; ".join(dict.fromkeys(e for e in (route_error, *session_errors) if e))
        machines.append(replace(box, routes=tuple(rows), note=note,
                                state=(status.state + (f" ({status.detail})" if status.detail
                                                       else "")) if status else ""))
    edges = [_session(e, [st for st in sessions if st.session == e.name])
             for e in graph.sessions]
    return replace(graph, machines=machines, sessions=edges, live=True,
                   notes=[*graph.notes, *notes])
