"""Starting and checking the lab's daemons: the router OS's daemon on routers (as its plugin
says), a speaker on every node, the pod agent. Each is recorded in the lab state before it
starts and found again by PID."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nativek8s.api import (
    DaemonPaths,
    LabContext,
    NamespaceDaemon,
    NativeK8sError,
    PluginError,
    RenderedFile,
    RouterPlan,
    SpeakerIntent,
    Unsupported,
    UsageError,
    write_private,
)
from nativek8s.shared.files import write_atomic

from . import iproute, podagent, processes
from .names import machine_ns, pod_ns
from .speakers import bird_config, gobgp_config

RUN_ROOT = Path("/run/nativek8s")  # control sockets: short paths (sun_path is 108 bytes)


@dataclass(frozen=True)
class Daemon:
    machine: str
    kind: str  # bird, gobgpd, podagent, or the router OS's process name (zebra, bgpd)
    argv: tuple[str, ...]
    config: Path | None
    socket: Path | None
    log: Path
    namespace: str  # the network namespace it runs in
    program: str  # what it execs into (after `ip netns exec`): bird, gobgpd, python
    ready: str | None = None  # a line it logs once it serves (None: started is ready)
    reload: tuple[str, ...] | None = None  # applies a changed config in place (in its ns)
    files: tuple[Path, ...] = ()  # the configuration it reads (router daemons: their own)

    @property
    def key(self) -> str:
        return f"netns:proc:{self.machine}:{self.kind}"

    @property
    def config_file(self) -> Path:
        """The config of a BGP daemon (routers and node speakers always have one)."""
        if self.config is None:
            raise NativeK8sError(f"the {self.kind} of {self.machine} has no config file")
        return self.config

    @property
    def api_socket(self) -> Path:
        """The control socket of a BGP daemon (routers and node speakers always have one)."""
        if self.socket is None:
            raise NativeK8sError(f"the {self.kind} of {self.machine} has no control socket")
        return self.socket


def _dirs(ctx: LabContext) -> tuple[Path, Path]:
    """(config folder, control-socket folder) of the lab's daemons. Only paths: observing a
    lab must not create folders; ``ensure`` makes them when it starts a daemon."""
    return ctx.state.dir / "backend" / "netns", RUN_ROOT / ctx.plan.lab


def router_files(ctx: LabContext, router: RouterPlan) -> list[RenderedFile]:
    """What the router plugin rendered for this router: the files of this run, or rendered
    again (status and verify run without a deploy)."""
    plugin = ctx.plugins.router
    rendered = ctx.rendered.get(plugin.name)
    if rendered is None:  # once per context: verify asks about every router many times
        rendered = ctx.rendered[plugin.name] = list(plugin.render(ctx))  # a RenderContext too
    return [f for f in rendered if f.machine == router.name]


def router_answer(ctx: LabContext, router: RouterPlan) -> NamespaceDaemon:
    """The router plugin's answer to how its daemon runs in this router's namespace."""
    plugin = ctx.plugins.router
    base, run = _dirs(ctx)
    try:
        answer = plugin.namespace_daemon(router, router_files(ctx, router),
                                         DaemonPaths(router.name, base, run))
    except Unsupported:
        answer = None
    if answer is None:
        raise UsageError(f"{router.name}: the router OS {plugin.name!r} does not say how to "
                         "run its daemon in a network namespace; the netns backend cannot "
                         "run it (choose another router OS or hypervisor)")
    for f in answer.files:
        if base not in f.path.parents and run not in f.path.parents:
            raise PluginError(f"router OS {plugin.name!r} puts {f.path} outside the lab's "
                              f"folders {base} and {run}")
    return answer


def router_daemons(ctx: LabContext, router: RouterPlan,
                   answer: NamespaceDaemon | None = None) -> list[Daemon]:
    """The router's processes, in start order, each run inside its namespace; a process
    is ready once its ``ready`` path (a control socket) exists."""
    answer = answer or router_answer(ctx, router)
    ns = machine_ns(ctx.plan.lab, router.name)
    return [Daemon(router.name, p.name, tuple(iproute.ns_exec(ns, list(p.argv))),
                   p.files[0] if p.files else None, p.ready,
                   ctx.state.logs / f"{router.name}.{p.name}.log", ns, p.argv[0],
                   reload=tuple(iproute.ns_exec(ns, list(p.reload))) if p.reload else None,
                   files=p.files)
            for p in answer.processes]


def write_router_files(ctx: LabContext, answer: NamespaceDaemon) -> set[Path]:
    """The answer's files written (0600 if secret); the ones that changed. A daemon that
    drops privileges (``owner``) gets its folders inside the run folder as its own, and the
    run folder becomes passable (not listable) to it."""
    _, run = _dirs(ctx)
    if answer.owner:
        run.mkdir(parents=True, exist_ok=True, mode=0o700)
        run.chmod(0o711)
        folders = {f.path.parent for f in answer.files}
        folders |= {p.ready.parent for p in answer.processes if p.ready}
        for folder in sorted(folders):
            if run in folder.parents:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.chown(folder, answer.owner, answer.owner)
    changed = set()
    for f in answer.files:
        if write_config(f.path, f.content, f.secret):
            changed.add(f.path)
        if f.owner:
            shutil.chown(f.path, f.owner, f.owner)
    return changed


def wait_ready(daemon: Daemon, deadline: float = 15.0) -> None:
    """Until the daemon's control socket exists (the next process may need it)."""
    if daemon.socket is None:
        return
    end = time.monotonic() + deadline
    while not daemon.socket.exists():
        if time.monotonic() > end:
            raise NativeK8sError(f"{daemon.kind} on {daemon.machine} did not create "
                                 f"{daemon.socket} within {deadline:.0f}s (log: {daemon.log})")
        time.sleep(0.01)


def node_daemon(ctx: LabContext, node: str, speaker: str) -> Daemon:
    base, run = _dirs(ctx)
    ns = machine_ns(ctx.plan.lab, node)
    log = ctx.state.logs / f"{node}.{speaker}.log"
    if speaker == "bird":
        conf, sock = base / f"{node}.speaker.conf", run / f"{node}.ctl"
        argv = iproute.ns_exec(ns, ["bird", "-f", "-c", str(conf), "-s", str(sock),
                                    "-P", str(base / f"{node}.speaker.pid")])
        return Daemon(node, "bird", tuple(argv), conf, sock, log, ns, "bird",
                      reload=("birdc", "-s", str(sock), "configure"))
    conf, sock = base / f"{node}.gobgpd.toml", run / f"{node}.gobgp.sock"
    argv = iproute.ns_exec(ns, ["gobgpd", "-f", str(conf), "-t", "toml", "-p",
                                "--pprof-disable", f"--api-hosts=unix://{sock}"])
    return Daemon(node, "gobgpd", tuple(argv), conf, sock, log, ns, "gobgpd")


def agent_daemon(ctx: LabContext, port: int) -> Daemon:
    """One process for every probe pod. It runs inside the first pod's namespace (so it is
    found by its namespace like every other daemon of the lab) and opens its other sockets
    from threads that enter the other pods' namespaces."""
    pods = [pod_ns(ctx.plan.lab, n.name) for n in ctx.plan.nodes]
    argv = iproute.ns_exec(pods[0], [sys.executable, "-m",
                                     "nativek8s.plugins.hypervisors.netns.podagent", str(port),
                                     *pods])
    return Daemon("pods", "podagent", tuple(argv), None, None, ctx.state.logs / "podagent.log",
                  pods[0], sys.executable, ready=podagent.READY)


def _env() -> dict[str, str]:
    # The pod agent imports this package: make it importable exactly as this process has it.
    import nativek8s

    root = str(Path(nativek8s.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def running(ctx: LabContext, daemon: Daemon) -> processes.Identity | None:
    """The daemon as recorded, if that very process still runs, with the current command
    line, in the namespace that now has the daemon's name (one deleted and made again by
    hand is another namespace)."""
    rec = ctx.state.resource(daemon.key)
    ident = processes.Identity.from_record(rec)
    if not processes.is_ours(ident) or rec.get("argv") != list(daemon.argv):
        return None
    assert ident is not None
    if ident.netns != processes.namespace_inode(iproute.NETNS_DIR / daemon.namespace):
        return None
    return ident


def running_pid(ctx: LabContext, daemon: Daemon) -> int | None:
    ident = running(ctx, daemon)
    return ident.pid if ident else None


def write_config(path: Path, text: str, secret: bool) -> bool:
    """Write if different; True when it changed."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if secret:
        write_private(path, text)
    else:
        write_atomic(path, text)  # a daemon reloading meanwhile reads the old or the new
    return True


# What the lab's daemons exec into: a process in one of the lab's namespaces running one of
# these, other than the daemon recorded there, is a leftover of an earlier run.
DAEMON_PROGRAMS = ("bird", "gobgpd")


@functools.cache  # asked once per daemon: a big lab has a thousand
def _programs(extra: tuple[str, ...] = ()) -> frozenset[str]:
    out = {os.path.realpath(sys.executable)}
    for name in (*DAEMON_PROGRAMS, *extra):
        try:
            out.add(processes.executable(name))
        except NativeK8sError:
            pass
    return frozenset(out)


def leftovers(ctx: LabContext, daemon: Daemon, keep: processes.Identity | None,
              table: dict[int, list[processes.Identity]] | None = None,
              siblings: tuple[Daemon, ...] = ()) -> list[processes.Identity]:
    """Daemons to stop before this one (re)starts: what the lab recorded for this machine
    under any other kind (a switched speaker, a switched router OS) or that is no longer
    usable, and any daemon program running in its namespace that is not ``keep`` (started
    by a run that died before it recorded it). ``siblings``: the other processes of the
    machine's daemon (zebra beside bgpd), left alone while they are the ones recorded.
    ``table``: processes by namespace, taken before this run started any daemon."""
    out = []
    kept = {keep} | {running(ctx, d) for d in siblings}
    for rec in ctx.state.resources(f"netns:proc:{daemon.machine}:").values():
        ident = processes.Identity.from_record(rec)
        if ident is not None and ident not in kept and processes.is_ours(ident):
            out.append(ident)
    inode = processes.namespace_inode(iproute.NETNS_DIR / daemon.namespace)
    programs = _programs(tuple(d.program for d in (daemon, *siblings)))
    if inode is not None:
        out += [i for i in processes.in_namespaces([inode], table)
                if i.exe in programs and i not in kept and i not in out]
    return out


def ensure(ctx: LabContext, daemon: Daemon, changed: bool,
           table: dict[int, list[processes.Identity]] | None = None,
           siblings: tuple[Daemon, ...] = ()) -> str:
    """Running with the current config; started, reloaded or replaced as needed: every
    daemon is stopped and started at most once per run. ``table``, ``siblings``: see
    :func:`leftovers`."""
    ident = running(ctx, daemon)
    stale = leftovers(ctx, daemon, ident, table, siblings)
    mine = {daemon.key, *(d.key for d in siblings)}
    others = [k for k in ctx.state.resources(f"netns:proc:{daemon.machine}:") if k not in mine]
    stopped = processes.stop_all(stale)
    ctx.state.forget(*others)
    if ident and not changed:
        return f"running (pid {ident.pid})" + (f", stopped {_pids(stopped)}" if stopped else "")
    if ident and daemon.reload:
        iproute.run(list(daemon.reload))
        return f"reconfigured (pid {ident.pid})"
    if ident:
        stopped += processes.stop_all([ident])
    if daemon.socket:
        daemon.socket.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        daemon.socket.unlink(missing_ok=True)
    inode = processes.namespace_inode(iproute.NETNS_DIR / daemon.namespace)
    if inode is None:
        raise NativeK8sError(f"namespace {daemon.namespace} vanished; run deploy again")
    # Recorded before it starts, so destroy finds its namespace even if this run dies.
    ctx.state.record(daemon.key, pid=None, argv=list(daemon.argv))
    offset = daemon.log.stat().st_size if daemon.log.exists() else 0
    ident = processes.start(daemon.argv, daemon.log, processes.executable(daemon.program),
                            inode, _env())
    ctx.state.record(daemon.key, **ident.record())
    if daemon.ready:
        _wait_ready(daemon, ident, offset)
    else:
        time.sleep(0.02)
    if not processes.is_ours(ident):
        raise NativeK8sError(f"{daemon.kind} on {daemon.machine} exited at once: "
                             f"{_tail(daemon.log)} (log: {daemon.log})")
    note = f"started (pid {ident.pid})"
    return note + (f", stopped {_pids(stopped)}" if stopped else "")


def _pids(pids: list[int]) -> str:
    return "pid " + ", ".join(map(str, pids))


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
    return " / ".join(lines) or "no output"


def _wait_ready(daemon: Daemon, ident: processes.Identity, offset: int,
                deadline: float = 10.0) -> None:
    """Until the daemon logs its ready line (after ``offset``: the log is appended to)."""
    end = time.monotonic() + deadline
    assert daemon.ready is not None
    while time.monotonic() < end:
        with open(daemon.log, "rb") as f:
            f.seek(offset)
            if daemon.ready.encode() in f.read():
                return
        if not processes.is_ours(ident):
            raise NativeK8sError(f"{daemon.kind} on {daemon.machine} exited: "
                                 f"{_tail(daemon.log)} (log: {daemon.log})")
        time.sleep(0.01)
    raise NativeK8sError(f"{daemon.kind} on {daemon.machine} did not get ready in "
                         f"{deadline:.0f}s (log: {daemon.log})")


def announce_gobgp(daemon: Daemon, intent: SpeakerIntent, deadline: float = 10.0) -> None:
    """Originate the node's prefixes once gobgpd's API answers (idempotent)."""
    target = f"unix://{daemon.api_socket}"
    end = time.monotonic() + deadline
    while not daemon.api_socket.exists() and time.monotonic() < end:
        time.sleep(0.005)  # the API socket appears when gobgpd is ready for calls
    for prefix in intent.prefixes:
        while True:
            proc = subprocess.run(["gobgp", "--target", target, "global", "rib", "add", "-a",
                                   "ipv4", str(prefix)], capture_output=True, text=True)
            if proc.returncode == 0:
                break
            if time.monotonic() > end:
                raise NativeK8sError(f"gobgpd on {daemon.machine} did not accept {prefix}: "
                                     f"{proc.stderr.strip()} (log: {daemon.log})")
            time.sleep(0.02)


def gobgp_neighbors(socket: Path) -> list[dict]:
    proc = iproute.run(["gobgp", "--target", f"unix://{socket}", "neighbor", "-j"], timeout=5)
    return json.loads(proc.stdout or "[]")


def speaker_config(intent: SpeakerIntent, ctx: LabContext, speaker: str) -> str:
    if speaker == "bird":
        return bird_config(intent, ctx.secrets)
    return gobgp_config(intent, ctx.secrets)
