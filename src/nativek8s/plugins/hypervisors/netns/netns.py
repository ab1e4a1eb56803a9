"""The `netns` hypervisor: a whole lab in Linux network namespaces on this host.

Routers run the router OS's own daemon as its plugin says (namespace_daemon: BIRD 2 with
OpenWrt's bird.conf unchanged, FRR, ...); nodes run a real BGP
speaker (GoBGP, or BIRD) configured from the CNI's BGP intent; pods are namespaces with a
/32 and a host route, as Cilium does it. Nothing touches the host's own namespace.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from nativek8s.api import (
    Hypervisor,
    LabContext,
    NamespaceDaemon,
    NativeK8sError,
    Plan,
    RenderContext,
    RenderedFile,
    RouterPlan,
    SpeakerIntent,
    Step,
    UsageError,
)
from nativek8s.shared.parallel import parallel_map

from . import daemons, iproute, processes
from .hostlimits import neighbour_table_problem
from .inns import settle_links, write_sysctls
from .names import is_lab_namespace, owner_alias
from .observer import NetnsObserver
from .options import NetnsOptions
from .wiring import Namespace, wire

NS_KEY = "netns:namespaces"
ProcessTable = dict[int, list[processes.Identity]]  # network namespace inode → processes
TOOLS = {"ip": "iproute2", "ping": "iputils-ping", "traceroute": "traceroute"}
SPEAKER_TOOLS = {"gobgp": {"gobgpd": "gobgpd", "gobgp": "gobgpd"},
                 "bird": {"bird": "bird2", "birdc": "bird2"}}


def _links_or_none(namespace: str) -> list[dict] | None:
    try:
        return iproute.links(namespace)
    except NativeK8sError:  # gone meanwhile
        return None


def _marked(links: list[dict] | None, lab: str) -> bool:
    """The namespace's lo carries the lab's mark."""
    return links is not None and any(ln.get("ifalias") == owner_alias(lab)
                                     for ln in links if ln["ifname"] == "lo")


def _bare(links: list[dict] | None) -> bool:
    """Nothing but lo: made (and recorded) by the lab, never configured."""
    return links is not None and all(ln["ifname"] == "lo" for ln in links)


class Netns(Hypervisor):
    name = "netns"
    emulates: ClassVar[frozenset[str]] = frozenset({"nodeos", "cni"})
    requires: ClassVar[dict[str, tuple[str, ...]]] = {"router": ("namespace_daemon",)}

    # --- options ------------------------------------------------------------------------
    def _options(self, ctx: LabContext) -> NetnsOptions:
        """The topology's options.netns, with -O netns.<key>=... over them. The speaker a
        lab was deployed with stays its speaker unless the command line names another."""
        opts = ctx.options(self.name, NetnsOptions)
        if "speaker" in ctx.extras.get(self.name, {}):
            return opts
        recorded = ctx.state.resources().get("netns:speaker", {}).get("speaker")
        return opts.model_copy(update={"speaker": recorded}) if recorded else opts

    def _wiring(self, ctx: LabContext) -> list[Namespace]:
        return wire(ctx.plan, ctx.plugins.router.lan_bridge)

    def _intents(self, ctx: LabContext) -> dict[str, SpeakerIntent]:
        return {i.node: i for i in ctx.plugins.cni.bgp_intent(ctx.plan)}

    # --- render -------------------------------------------------------------------------
    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        """The node speakers' configs this backend would run (GoBGP)."""
        from .speakers import gobgp_config

        md5 = ctx.plan.md5
        return [RenderedFile(path=f"{i.node}/gobgpd.toml", content=gobgp_config(i, ctx.secrets),
                             machine=i.node, secret=md5)
                for i in ctx.plugins.cni.bgp_intent(ctx.plan)]

    # --- console -------------------------------------------------------------------------
    def console_command(self, ctx: LabContext, machine: str) -> list[str]:
        ctx.plan.machine(machine)
        raise UsageError(f"{machine} is a network namespace on this host, not a VM: it has no "
                         f"console; `nativek8s exec {machine}` opens a shell in it")

    # --- preflight ----------------------------------------------------------------------
    def preflight(self, ctx: LabContext) -> None:
        problems = []
        if os.geteuid() != 0:
            problems.append("the netns backend needs root (it creates network namespaces); "
                            "run it with sudo")
        tools = dict(TOOLS) | SPEAKER_TOOLS[self._options(ctx).speaker]
        for router in ctx.plan.routers:
            try:
                tools.update(daemons.router_answer(ctx, router).tools)
            except UsageError as exc:  # this router cannot run here: a mixed lab, say
                problems.append(str(exc))
        missing = sorted({pkg for tool, pkg in tools.items() if shutil.which(tool) is None})
        report = ctx.report  # `doctor -v` lists what was found
        for tool in sorted(tools):
            if (path := shutil.which(tool)) is not None:
                report.detail(f"netns: {tool}: {path}")
        if missing:
            problems.append(f"missing tools; install them: apt-get install {' '.join(missing)}")
        if (too_big := neighbour_table_problem(ctx.plan)) is not None:
            problems.append(too_big)
        if not problems:
            problems += self._foreign_namespaces(ctx)
        if problems:
            raise UsageError("cannot deploy on netns:\n  " + "\n  ".join(problems))

    def _foreign_namespaces(self, ctx: LabContext) -> list[str]:
        ours = set(ctx.state.resources().get(NS_KEY, {}).get("names", []))
        existing = iproute.namespaces()
        out = []
        for ns in self._wiring(ctx):
            if ns.name in existing and ns.name not in ours and not self._owned(ns.name, ctx):
                out.append(f"namespace {ns.name} exists and is not lab {ctx.plan.lab}'s; "
                           f"remove it (`ip netns del {ns.name}`) or rename the lab")
        return out

    def _owned(self, namespace: str, ctx: LabContext) -> bool:
        try:
            lo = next(ln for ln in iproute.links(namespace) if ln["ifname"] == "lo")
        except (NativeK8sError, StopIteration):
            return False
        return lo.get("ifalias") == owner_alias(ctx.plan.lab)

    # --- deploy -------------------------------------------------------------------------
    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        opts = self._options(ctx)
        ctx.state.record("netns:speaker", speaker=opts.speaker)
        spaces = self._wiring(ctx)
        intents = self._intents(ctx)
        fresh: set[str] = set()  # namespaces this run creates: known to hold only lo
        before = processes.by_namespace()  # daemons of earlier runs, found once for all steps
        steps = [
            Step("netns:prune", "machines no longer in the plan",
                 lambda: self._prune(ctx, spaces)),
            Step("netns:namespaces", f"namespaces ({len(spaces)})",
                 lambda: self._ensure_namespaces(ctx, spaces, fresh), after=("netns:prune",)),
            Step("netns:addresses", "links, addresses and routes",
                 lambda: self._wire(spaces, fresh), after=("netns:namespaces",)),
        ]
        for node in ctx.plan.nodes:
            intent = intents.get(node.name)
            if intent is None:
                raise NativeK8sError(f"the CNI plugin gave no BGP intent for {node.name}")
            steps.append(Step(f"netns:node:{node.name}", opts.speaker,
                              partial(self._ensure_node, ctx, intent, opts.speaker, before),
                              machine=node.name, after=("netns:addresses",)))
            if opts.speaker == "gobgp":  # its PodCIDR is given through its API, once it runs
                steps.append(Step(f"netns:announce:{node.name}", "PodCIDR announced",
                                  partial(self._announce, ctx, intent),
                                  machine=node.name, after=(f"netns:node:{node.name}",)))
        # A router starts once the node speakers of its datacentre run: they listen when it
        # first dials them, so no session waits for a connect retry. (What a node announces
        # may come later: it is sent once the session is up. Other routers dial it too.)
        for router in ctx.plan.routers:
            answer = daemons.router_answer(ctx, router)
            label = " + ".join(p.name for p in answer.processes)
            nodes = ctx.plan.datacentre(router.datacentre).nodes
            steps.append(Step(f"netns:router:{router.name}", label,
                              partial(self._ensure_router, ctx, router, answer, before),
                              machine=router.name,
                              after=("netns:addresses", *(f"netns:node:{n}" for n in nodes))))
        steps.append(Step("netns:pods", "pod agent",
                          lambda: daemons.ensure(ctx, daemons.agent_daemon(ctx, opts.probe_port),
                                                 changed=False, table=before),
                          after=("netns:addresses",)))
        return steps

    def _prune(self, ctx: LabContext, spaces: list[Namespace]) -> str:
        """Stop and remove what the lab made for machines the plan no longer has."""
        wanted = {ns.name for ns in spaces}
        machines = {m.name for m in ctx.plan.machines} | {"pods"}
        resources = ctx.state.resources()
        gone_keys = [k for k in resources if k.startswith("netns:proc:")
                     and k.split(":")[2] not in machines]
        idents = [processes.Identity.from_record(resources[k]) for k in gone_keys]
        recorded = set(resources.get(NS_KEY, {}).get("names", []))
        removed = self._remove_namespaces(ctx.plan.lab, sorted(recorded - wanted),
                                          [i for i in idents if i is not None])
        ctx.state.forget(*gone_keys)
        if recorded - wanted:
            ctx.state.record(NS_KEY, names=sorted(recorded & wanted))
        return f"{len(removed)} removed" if removed else "nothing to remove"

    def _remove_namespaces(self, lab: str, names: list[str],
                           daemons_too: list[processes.Identity]) -> list[str]:
        """Stop every process in the lab's namespaces among ``names`` (and the given
        daemons), then delete those namespaces. A namespace is the lab's when lo carries
        the lab's mark, or when it holds nothing but lo (recorded, never configured)."""
        existing = iproute.namespaces()
        candidates = [n for n in names if n in existing and is_lab_namespace(lab, n)]
        links = dict(zip(candidates, parallel_map(_links_or_none, candidates), strict=True))
        doomed = [n for n in candidates if _marked(links[n], lab) or _bare(links[n])]
        inodes = [i for i in (processes.namespace_inode(iproute.NETNS_DIR / n) for n in doomed)
                  if i is not None]
        stopped = processes.stop_all([*daemons_too, *processes.in_namespaces(inodes)])
        iproute.batch([f"netns del {n}" for n in doomed])
        return [f"process {pid}" for pid in stopped] + [f"namespace {n}" for n in doomed]

    def _ensure_namespaces(self, ctx: LabContext, spaces: list[Namespace],
                           fresh: set[str]) -> str:
        existing = iproute.namespaces()
        missing = [ns.name for ns in spaces if ns.name not in existing]
        fresh.update(missing)
        names = set(ctx.state.resources().get(NS_KEY, {}).get("names", []))
        # Every namespace of the plan is recorded: preflight refused foreign ones, so those
        # that exist are this lab's (adopted after its state was lost). Recorded before
        # creation: a crash in between still lets destroy find them.
        if not {ns.name for ns in spaces} <= names:
            ctx.state.record(NS_KEY, names=sorted(names | {ns.name for ns in spaces}))
        if missing:
            iproute.batch([f"netns add {name}" for name in missing])
        parallel_map(lambda ns: write_sysctls(ns.name, ns.sysctls), spaces)
        return f"{len(missing)} created" if missing else "all present"

    def _wire(self, spaces: list[Namespace], fresh: set[str]) -> str:
        """One ip batch per namespace: its missing links, then its configuration. Switches
        go first (they create the machines' NICs), then machines (their pods' veths), then
        pods, so every batch finds the links it configures."""

        def one(ns: Namespace) -> int:
            links = [] if ns.name in fresh else iproute.links(ns.name)
            present = {"lo"} | {ln["ifname"] for ln in links}
            # A bridge it no longer has (the lab's router OS changed, and with it the LAN
            # bridge): deleting it frees its ports and takes its addresses along.
            cmds = [f"link del {ln['ifname']}" for ln in links
                    if ln.get("linkinfo", {}).get("info_kind") == "bridge"
                    and ln["ifname"] not in ns.bridges]
            present -= {c.split()[-1] for c in cmds}
            cmds += [f"link add {b} type bridge" for b in ns.bridges if b not in present]
            # A peer namespace made again (deleted by hand): our end still pairs with the
            # old one, which lives on while a process holds it. Make the pair anew.
            cmds += [f"link del {ln.name}" for ln in ns.links
                     if ln.name in present and ln.peer_ns in fresh]
            cmds += [ln.create() for ln in ns.links
                     if ln.name not in present or ln.peer_ns in fresh]
            if ns.name in fresh:  # made again: the far ends of its old pairs are stale
                for ln in ns.links:
                    if ln.peer_ns not in fresh:
                        iproute.run(["ip", "-n", ln.peer_ns, "link", "del", ln.peer_name],
                                    check=False)
            iproute.batch(cmds + ns.configure, ns.name)
            return len(cmds)

        made = 0
        for kinds in (("switch",), ("router", "node"), ("pod",)):
            made += sum(parallel_map(one, [ns for ns in spaces if ns.kind in kinds]))
        # Their daemons start next: the links they use are up for them from the start.
        parallel_map(settle_links, [ns.name for ns in spaces if ns.kind in ("router", "node")])
        return f"{made} links created" if made else "all links present"

    def _ensure_router(self, ctx: LabContext, router: RouterPlan, answer: NamespaceDaemon,
                       before: ProcessTable) -> str:
        """The router plugin's files written, then its processes running in order (each
        waits for the previous one's control socket), each restarted or reloaded when a
        file it reads changed."""
        changed = daemons.write_router_files(ctx, answer)
        procs = daemons.router_daemons(ctx, router, answer)
        notes = []
        for daemon in procs:
            siblings = tuple(d for d in procs if d is not daemon)
            note = daemons.ensure(ctx, daemon, bool(changed & set(daemon.files)), before,
                                  siblings)
            daemons.wait_ready(daemon)
            notes.append(f"{daemon.kind} {note}")
        return ", ".join(notes)

    def _ensure_node(self, ctx: LabContext, intent: SpeakerIntent, speaker: str,
                     before: ProcessTable) -> str:
        daemon = daemons.node_daemon(ctx, intent.node, speaker)
        text = daemons.speaker_config(intent, ctx, speaker)
        changed = daemons.write_config(daemon.config_file, text, ctx.plan.md5)
        return daemons.ensure(ctx, daemon, changed, before)

    def _announce(self, ctx: LabContext, intent: SpeakerIntent) -> str:
        daemon = daemons.node_daemon(ctx, intent.node, "gobgp")
        daemons.announce_gobgp(daemon, intent)
        return ", ".join(map(str, intent.prefixes)) or "nothing to announce"

    # --- destroy ------------------------------------------------------------------------
    def destroy(self, ctx: LabContext) -> list[str]:
        """What the state recorded: its daemons (each only if it still is the process
        started), then its namespaces with every process left in them."""
        resources = ctx.state.resources()
        procs = [k for k in resources if k.startswith("netns:proc:")]
        idents = [processes.Identity.from_record(resources[k]) for k in procs]
        recorded = resources.get(NS_KEY, {}).get("names", [])
        removed = self._remove_namespaces(ctx.plan.lab, sorted(recorded),
                                          [i for i in idents if i is not None])
        ctx.state.forget(*procs, NS_KEY)
        removed += self.destroy_marked(ctx.plan.lab, ctx.plan, ctx.echo)  # left unrecorded
        return removed

    def destroy_marked(self, lab: str, plan: Plan | None,
                       echo: Callable[[str], None]) -> list[str]:
        """Without state: every namespace whose lo carries the lab's mark, and every process
        inside them."""
        names = sorted(n for n in iproute.namespaces() if is_lab_namespace(lab, n))
        links = dict(zip(names, parallel_map(_links_or_none, names), strict=True))
        marked = [n for n in names if _marked(links[n], lab)]
        removed = self._remove_namespaces(lab, marked, []) if marked else []
        shutil.rmtree(daemons.RUN_ROOT / lab, ignore_errors=True)
        return removed

    # --- observe ------------------------------------------------------------------------
    def observer(self, ctx: LabContext) -> NetnsObserver:
        opts = self._options(ctx)
        return NetnsObserver(ctx, opts.speaker, opts.probe_port, self._intents(ctx))
