"""`nativek8s verify`: checks built from the plan, each reporting expected vs observed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from ipaddress import IPv4Network

from ..shared.parallel import parallel_map
from .errors import NativeK8sError
from .kinds import BgpSessionState, RouterOS
from .observe import KernelRoute, Observer
from .plan import ExpectedRoute, Machine, NetworkKind, NodePlan, Plan, RouteOrigin, RouterPlan
from .report import Reporter, current

OVERLAY_KINDS = {"vxlan", "geneve", "gre", "gretap", "ipip", "sit", "ip6tnl", "wireguard"}


@dataclass(frozen=True)
class CheckResult:
    check: str  # "bgp", "routes", "ping", "tcp", "source", "path", "overlay"
    subject: str  # what was checked: "router-1--node-1", "router-2 10.244.0.0/24", "dc1→dc2"
    ok: bool
    expected: str
    observed: str
    datacentre: str | None = None
    machine: str | None = None
    hint: str = ""
    via: str = ""  # how it was observed, where it matters ("the QEMU guest agent")

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark} {self.check:<8} {self.subject}"
        if self.via:
            text += f"  [{self.via}]"
        if not self.ok:
            text += f"\n       expected {self.expected}\n       observed {self.observed}"
            if self.hint:
                text += f"\n       look at: {self.hint}"
        return text

    def as_dict(self) -> dict:
        return asdict(self)


def _by_peer(states: list[BgpSessionState]) -> dict[str, BgpSessionState]:
    return {s.peer: s for s in states}


def _session_results(plan: Plan, machine: RouterPlan | NodePlan, seen: dict[str, BgpSessionState],
                     error: str, hint: str) -> list[CheckResult]:
    results = []
    for session in plan.sessions_of(machine.name):
        local, remote = session.sides(machine.name)
        state = seen.get(str(remote.address))
        results.append(CheckResult(
            "bgp", f"{machine.name} → {remote.machine} ({remote.address})",
            ok=bool(state and state.established), expected="Established",
            observed=(f"{state.state} {state.info}".strip() if state
                      else error or f"no such session on {machine.name}"),
            datacentre=machine.datacentre, machine=machine.name, hint=hint,
        ))
        # A router filtering a node's announcements: did the node overreach?
        if state and machine.kind == "router" and local.accepts is not None:
            allowed = ", ".join(map(str, local.accepts)) or "nothing"
            named = ", ".join(state.refused_prefixes)
            results.append(CheckResult(
                "filter", f"{machine.name} ← {remote.machine}", ok=state.refused == 0,
                expected=f"{remote.machine} announces only {allowed}",
                observed=(f"the import filter refuses {named or state.refused}" +
                          ("" if named else " announcement(s)")
                          if state.refused else "nothing refused"),
                datacentre=machine.datacentre, machine=machine.name,
                hint=f"what {remote.machine} announces: a prefix that is not its own",
            ))
    return results


def bgp_of(plan: Plan, observer: Observer, router_os: RouterOS,
           machine: RouterPlan | NodePlan) -> list[CheckResult]:
    """One machine's BGP sessions against the plan."""
    try:
        if isinstance(machine, RouterPlan):
            states = router_os.bgp_sessions(machine, observer.access(machine.name))
            hint = router_os.bgp_hint(machine) or f"the BGP daemon of {machine.name}"
        else:
            assert isinstance(machine, NodePlan)
            states = observer.node_bgp_sessions(machine)
            hint = f"the BGP speaker of {machine.name}"
        seen, error = _by_peer(states), ""
    except NativeK8sError as exc:
        seen, error, hint = {}, str(exc), ""
    return _session_results(plan, machine, seen, error, hint)


def check_bgp(plan: Plan, observer: Observer, router_os: RouterOS) -> list[CheckResult]:
    return _each_machine(plan.machines, lambda m: bgp_of(plan, observer, router_os, m))


def _each_machine(machines: Iterable[RouterPlan | NodePlan],
                  fn: Callable[[RouterPlan | NodePlan], list[CheckResult]]) -> list[CheckResult]:
    return [r for rs in parallel_map(fn, machines) for r in rs]


def routes_by_prefix(seen: list[KernelRoute]) -> dict[IPv4Network, list[KernelRoute]]:
    """Routes by prefix, each list in the FIB's order: of routes to one prefix in the main
    table, the kernel uses the lowest metric; the others it overrides."""
    out: dict[IPv4Network, list[KernelRoute]] = {}
    for r in sorted(seen, key=lambda r: r.metric):
        out.setdefault(r.prefix, []).append(r)
    return out


def _route_matches(exp: ExpectedRoute, same: list[KernelRoute]) -> tuple[bool, str]:
    """Does the route the kernel uses for the expected prefix (``same``: the routes to it,
    lowest metric first) go where the plan says?"""
    if not same:
        return False, "no route"
    used, shadowed = same[0], same[1:]
    if exp.origin == RouteOrigin.local:
        return True, f"{used.kind} {used.prefix}"
    text = _describe(used)
    if shadowed:
        text += " (in use; it overrides " + ", ".join(_describe(r) for r in shadowed) + ")"
    if not exp.via:
        return not used.via, text
    return bool(used.via) and set(used.via) <= set(exp.via), text


def _describe(r: KernelRoute) -> str:
    via = f" via {' '.join(map(str, r.via))}" if r.via else ""
    dev = f" dev {r.dev}" if r.dev else ""
    metric = f" metric {r.metric}" if r.metric else ""
    return f"{r.kind} {r.prefix}{via}{dev} proto {r.protocol}{metric}"


def observe_routes(observer: Observer, machine: str) -> list[KernelRoute]:
    return observer.kernel_routes(machine)


# The kernel's own policy rules: every lookup goes local, then main (the table checked
# above), then default. Any other rule can send traffic past the main table.
DEFAULT_RULES = {(0, "local"), (32766, "main"), (32767, "default")}


def _rule_results(machine: Machine, rules: list[dict]) -> list[CheckResult]:
    out = []
    for rule in rules:
        default = ((rule.get("priority"), rule.get("table")) in DEFAULT_RULES
                   and set(rule) <= {"priority", "src", "table"})
        if not default:
            text = " ".join(f"{k} {v}" for k, v in rule.items())
            out.append(CheckResult(
                "routes", f"{machine.name} rule {rule.get('priority', '?')}", False,
                "only the kernel's default policy rules (local, main, default)", text,
                machine.datacentre, machine.name,
                hint=f"`ip rule` on {machine.name}: a rule can send traffic past the main "
                     "table"))
    return out


def routes_of(observer: Observer, machine: Machine, router_os: RouterOS,
              guarded: tuple[IPv4Network, ...] = ()) -> list[CheckResult]:
    """One machine's kernel routing table against its expected table, and its policy
    rules: the lookups that reach the main table at all."""
    try:
        seen = observe_routes(observer, machine.name)
    except NativeK8sError as exc:
        return [CheckResult("routes", machine.name, False, "its routing table", str(exc),
                            machine.datacentre, machine.name)]
    rules = observer.policy_rules(machine.name)
    # BGP-learned routes, by the kernel's protocol word of whoever installs them.
    learned = (router_os.kernel_route_protocols if isinstance(machine, RouterPlan)
               else observer.node_route_protocols)
    return (_compare_table(machine, seen, guarded, learned)
            + _rule_results(machine, rules or []))


def guarded_prefixes(plan: Plan) -> tuple[IPv4Network, ...]:
    """Where a route the plan does not have changes where pods or LANs are reached: the
    cluster's pod range and every datacentre's LAN."""
    lans = [n.cidr for n in plan.networks if n.kind == NetworkKind.lan and n.cidr is not None]
    return (plan.cluster.pods, *lans)


def check_routes(plan: Plan, observer: Observer, router_os: RouterOS) -> list[CheckResult]:
    guarded = guarded_prefixes(plan)
    return _each_machine(plan.machines, lambda m: routes_of(observer, m, router_os, guarded))


def _compare_table(machine: Machine, seen: list[KernelRoute],
                   guarded: tuple[IPv4Network, ...] = (),
                   learned: frozenset[str] = frozenset()) -> list[CheckResult]:
    """``learned``: the kernel's protocol words of BGP-installed routes (the router OS's
    and the observer's); such a route the plan does not expect fails. Linear in the
    table's size: a router of a thousand-node lab has a thousand routes."""
    out = []
    by_prefix = routes_by_prefix(seen)
    for exp in machine.routes:
        ok, observed = _route_matches(exp, by_prefix.get(exp.prefix, []))
        hops = " | ".join(map(str, exp.via)) or "(connected)"
        out.append(CheckResult(
            "routes", f"{machine.name} {exp.prefix}", ok, f"{exp.prefix} via {hops} ({exp.why})",
            observed, machine.datacentre, machine.name,
            hint="" if ok else f"`ip route` on {machine.name}; the BGP sessions above",
        ))
    expected = {e.prefix for e in machine.routes}
    # Routes inside a prefix the machine delivers itself (a node's own pods in its
    # PodCIDR) are its own business.
    own = [e.prefix for e in machine.routes if e.origin == RouteOrigin.local]
    for r in seen:
        if r.prefix in expected or any(r.prefix.subnet_of(p) for p in own):
            continue
        # A route the plan does not have: learned over BGP, or (any protocol) to a part of
        # the pods' or LANs' ranges.
        if r.protocol in learned or any(r.prefix.subnet_of(g) for g in guarded):
            out.append(CheckResult(
                "routes", f"{machine.name} {r.prefix}", False, "no such route (not in the plan)",
                _describe(r), machine.datacentre, machine.name,
                hint="a node advertising a prefix that is not its own, a route added by hand, "
                     "or a stale route",
            ))
    return out


ALL_PAIRS_UP_TO = 10  # datacentres: up to 90 ordered pairs, every one probed


@dataclass(frozen=True)
class ProbeSample:
    """Which pod↔pod pairs verify probes, and how they were chosen."""

    pairs: list[tuple[NodePlan, NodePlan]]
    of: int  # ordered pairs of datacentres there are
    how: str  # "every pair", or how the sample was drawn

    def line(self) -> str:
        return f"pod-to-pod probes: {len(self.pairs)} of {self.of} datacentre pairs ({self.how})"


def probe_sample(plan: Plan, all_pairs: bool = False) -> ProbeSample:
    """The first node of every datacentre against the first node of every other; above
    ALL_PAIRS_UP_TO datacentres (unless ``all_pairs``), a sample that grows linearly with
    them: each datacentre probes the next one and the one halfway round, so each is twice a
    source and twice a destination. (Every route table is still checked in full.)"""
    nodes = {n.name: n for n in plan.nodes}
    firsts = [nodes[dc.nodes[0]] for dc in plan.datacentres if dc.nodes]
    count = len(firsts)
    every = [(a, b) for a in firsts for b in firsts if a.datacentre != b.datacentre]
    if all_pairs or count <= ALL_PAIRS_UP_TO:
        return ProbeSample(every, len(every), "every pair")
    offsets = sorted({1, count // 2})
    pairs = [(firsts[i], firsts[(i + k) % count]) for k in offsets for i in range(count)]
    return ProbeSample(pairs, len(every),
                       "sampled: each datacentre to the next one and to the one halfway "
                       "round; `verify --all-pairs` probes every pair")


def probe_pairs(plan: Plan, all_pairs: bool = False) -> list[tuple[NodePlan, NodePlan]]:
    return probe_sample(plan, all_pairs).pairs


def _owner_of(plan: Plan) -> dict[str, str]:
    owners: dict[str, str] = {}
    for m in plan.machines:
        for iface in m.interfaces:
            if iface.address is not None:
                owners[str(iface.address.ip)] = m.name
    for n in plan.nodes:
        owners[str(n.probe_pod)] = f"pod@{n.name}"
    return owners


def expected_path(plan: Plan, src: NodePlan, dst: NodePlan) -> list[set[str]]:
    """Machines each hop may be: node → router(s) of src dc → router(s) of dst dc → node → pod."""
    return [{src.name}, set(plan.datacentre(src.datacentre).routers),
            set(plan.datacentre(dst.datacentre).routers), {dst.name}, {f"pod@{dst.name}"}]


def check_dataplane(plan: Plan, observer: Observer,
                    pairs: list[tuple[NodePlan, NodePlan]] | None = None) -> list[CheckResult]:
    """Ping, TCP (and the source address the far pod sees) and traceroute for each pair
    (default: :func:`probe_pairs`)."""
    owners = _owner_of(plan)

    def one_pair(pair: tuple[NodePlan, NodePlan]) -> list[CheckResult]:
        src, dst = pair
        subject = f"{src.datacentre}→{dst.datacentre} ({src.probe_pod} → {dst.probe_pod})"
        where = dict(datacentre=src.datacentre, machine=src.name)
        out = []
        ping = observer.ping(src, dst)
        out.append(CheckResult("ping", subject, ping.ok, "echo replies", ping.detail, **where,
                               hint="the routes above, then the routers' firewalls"))
        tcp = observer.client_address(src, dst)
        out.append(CheckResult("tcp", subject, tcp.ok, "a TCP answer", tcp.detail, **where))
        if tcp.ok:
            out.append(CheckResult(
                "source", subject, tcp.value == str(src.probe_pod),
                f"the far pod sees {src.probe_pod}", f"it saw {tcp.value}", **where,
                hint="masquerading (SNAT) somewhere on the path"))
        hops = observer.trace(src, dst)
        machines = [owners.get(h, h) for h in hops]
        exp = expected_path(plan, src, dst)
        ok = len(machines) == len(exp) and all(m in e for m, e in zip(machines, exp, strict=True))
        out.append(CheckResult(
            "path", subject, ok, " → ".join("|".join(sorted(e)) for e in exp),
            " → ".join(machines) or "no hops", **where, hint="traceroute from the pod"))
        return out

    return [r for rs in parallel_map(one_pair, probe_pairs(plan) if pairs is None else pairs)
            for r in rs]


def check_overlay(plan: Plan, observer: Observer) -> list[CheckResult]:
    def one(m: Machine) -> list[CheckResult]:
        kinds = observer.link_kinds(m.name)
        bad = {n: k for n, k in kinds.items() if k in OVERLAY_KINDS}
        return [CheckResult("overlay", m.name, not bad, "no tunnel or overlay device",
                            ", ".join(f"{n} ({k})" for n, k in bad.items()) or "none",
                            m.datacentre, m.name)]

    return _each_machine(plan.machines, one)


def control_plane(plan: Plan, observer: Observer, router_os: RouterOS,
                  machines: Sequence[RouterPlan | NodePlan]) -> dict[str, list[CheckResult]]:
    """BGP and routes of the given machines, by machine name."""
    guarded = guarded_prefixes(plan)

    def one(m: RouterPlan | NodePlan) -> list[CheckResult]:
        return bgp_of(plan, observer, router_os, m) + routes_of(observer, m, router_os, guarded)

    return dict(zip((m.name for m in machines), parallel_map(one, machines), strict=True))


POLL_INTERVAL = 0.05  # seconds between polls while a lab converges


def verify_machines(plan: Plan, observer: Observer, router_os: RouterOS,
                    machines: list[RouterPlan | NodePlan], wait: float = 0.0,
                    on_wait: Callable[[list[CheckResult]], None] | None = None,
                    report: Reporter | None = None) -> list[CheckResult]:
    """BGP and kernel routes of the given machines against the plan. With wait > 0 they are
    polled until they pass or time runs out (a lab converging after deploy); only machines
    that still fail are polled again, routers before nodes: a node's session cannot be up
    before its router's side is, and its routes come from the routers. ``report`` shows
    the wait while it lasts."""
    deadline = time.monotonic() + wait
    with (report or current()).waiting("BGP sessions and routes to converge") as waiting:
        by_machine = control_plane(plan, observer, router_os, machines)
        polled = {m.name for m in machines}
        faults: list[CheckResult] = []
        while True:
            failing = [plan.machine(n) for n, rs in by_machine.items()
                       if not all(r.ok for r in rs)]
            if not failing or time.monotonic() >= deadline:
                break
            faults = _faults(plan, observer)
            if faults:  # waiting cannot heal these: give up now, saying which
                break
            waiting.note(_still_failing(by_machine))
            if on_wait:
                on_wait([r for rs in by_machine.values() for r in rs])
            time.sleep(POLL_INTERVAL)
            routers = [m for m in failing if isinstance(m, RouterPlan)]
            batch = routers or failing
            polled = {m.name for m in batch}
            by_machine.update(control_plane(plan, observer, router_os, batch))
        if failing and not faults:  # say the plain cause too (a daemon gone), not only its effects
            faults = _faults(plan, observer)
        stale = [m for m in failing if m.name not in polled]
        if stale and not faults:  # the nodes waited for their routers: judge them as they are now
            by_machine.update(control_plane(plan, observer, router_os, stale))
    return faults + [r for m in machines for r in by_machine[m.name]]


def verify(plan: Plan, observer: Observer, router_os: RouterOS, wait: float = 0.0,
           on_wait: Callable[[list[CheckResult]], None] | None = None,
           report: Reporter | None = None, all_pairs: bool = False) -> list[CheckResult]:
    """All checks: BGP and routes of every machine (polled while ``wait`` lasts, see
    verify_machines), then the data plane probed once (a sample of the pod pairs on big
    labs, said on the report; ``all_pairs``: every pair)."""
    report = report or current()
    results = verify_machines(plan, observer, router_os, list(plan.machines), wait, on_wait,
                              report)
    sample = probe_sample(plan, all_pairs)
    if sample.how != "every pair":
        report.say(sample.line())
    with report.waiting("pod-to-pod probes (ping, TCP, traceroute)"):
        probes = check_dataplane(plan, observer, sample.pairs)
    return results + probes + check_overlay(plan, observer)


def _faults(plan: Plan, observer: Observer) -> list[CheckResult]:
    out = []
    for machine, what in observer.faults():
        m = next((x for x in plan.machines if x.name == machine), None)
        out.append(CheckResult("fault", machine, False, "running", what,
                               m.datacentre if m else None, machine,
                               hint="waiting cannot heal this; run deploy again, or see the log"))
    return out


def observed_via(results: list[CheckResult], via: str) -> list[CheckResult]:
    """The results, marked with how they were observed where they do not say yet."""
    return [r if r.via else replace(r, via=via) for r in results]


def _still_failing(by_machine: dict[str, list[CheckResult]]) -> str:
    bad = [r for rs in by_machine.values() for r in rs if not r.ok]
    sessions = [r for r in bad if r.check == "bgp"]
    return (f"{len(sessions)} session(s) not Established, "
            f"{len(bad) - len(sessions)} other check(s) failing; first: {bad[0].subject}")


def summary(results: list[CheckResult], not_run: list[NotRun] | None = None) -> str:
    failed = [r for r in results if not r.ok]
    tail = f", {len(not_run)} not run" if not_run else ""
    return f"{len(results) - len(failed)} passed, {len(failed)} failed{tail}"


@dataclass(frozen=True)
class NotRun:
    """A check that could not run, and why."""

    check: str
    subject: str
    reason: str

    def line(self) -> str:
        return f"skip {self.check:<8} {self.subject}\n       not run: {self.reason}"

    def as_dict(self) -> dict:
        return asdict(self)


def not_run(plan: Plan, results: list[CheckResult], unobserved: str | None) -> list[NotRun]:
    """The checks the results lack: the routers' when the hypervisor cannot look inside
    them (``unobserved`` says why), and a source address where no TCP answer came back."""
    out = []
    if unobserved:
        for router in plan.routers:
            out += [NotRun("bgp", router.name, unobserved),
                    NotRun("routes", router.name, unobserved)]
    for result in results:
        if result.check == "tcp" and not result.ok:
            out.append(NotRun("source", result.subject,
                              "the TCP probe got no answer, so no client address to compare"))
    return out


def route_table(observer: Observer, machine: str) -> list[str]:
    return [_describe(r) for r in observe_routes(observer, machine)]

