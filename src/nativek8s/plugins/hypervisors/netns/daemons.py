"""Starting and checking the lab's daemons: the router OS's daemon on routers, a speaker on every node, the
pod agent. Each is recorded in the lab state before it starts and found again by PID."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nativek8s.core.engine.context import LabContext
from nativek8s.core.errors import NativeK8sError, PluginError, UsageError
from nativek8s.core.intent import SpeakerIntent
from nativek8s.core.kinds import RenderContext, RenderedFile, implements
from nativek8s.core.nsdaemon import DaemonPaths, NamespaceDaemon
from nativek8s.core.plan import RouterPlan
from nativek8s.core.secrets import write_private

from . import iproute, processes
from .names import machine_ns, pod_ns
from .speakers import bird_config, gobgp_config

RUN_ROOT = Path("/run/nativek8s")  # control sockets: short paths (sun_path is 108 bytes)


@dataclass(frozen=True)
class Daemon:
    machine: str
    kind: str  # bird, gobgpd, podagent, or the router plugin's process name (zebra, bgpd)
    argv: tuple[str, ...]
    config: Path | None
    socket: Path | None  # exists once the daemon answers
    log: Path
    reload: tuple[str, ...] | None = None  # applies a changed config in place (run in its ns)
    files: tuple[Path, ...] = ()  # configuration it reads (router daemons: may be several)
    owner_mark: str | None = None  # what its command line names; default: its config

    @property
    def key(self) -> str:
        return f"netns:proc:{self.machine}:{self.kind}"

    @property
    def marker(self) -> str:
        # A path unique to this lab and daemon: a recycled PID never matches it.
        if self.owner_mark:
            return self.owner_mark
        return str(self.config) if self.config else " ".join(self.argv[-3:])

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
    if rendered is None:
        rendered = list(plugin.render(RenderContext(plan=ctx.plan, secrets=ctx.secrets,
                                                    plugins=ctx.plugins.as_roles())))
    return [f for f in rendered if f.machine == router.name]


def router_answer(ctx: LabContext, router: RouterPlan) -> NamespaceDaemon:
    """The router plugin's answer to how its daemon runs in this router's namespace."""
    plugin = ctx.plugins.router
    base, run = _dirs(ctx)
    answer = None
    if implements(plugin, "namespace_daemon"):
        answer = plugin.namespace_daemon(router, router_files(ctx, router),
                                         DaemonPaths(router.name, base, run))
    if answer is None:
        raise UsageError(f"{router.name}: the router OS {plugin.name!r} does not say how to "
                         "run its daemon in a network namespace; the netns backend cannot "
                         "run it (choose another router OS or hypervisor)")
    for f in answer.files:
        if base not in f.path.parents and run not in f.path.parents:
            raise PluginError(f"router OS {plugin.name!r} puts {f.path} outside the lab's "
                              f"folders {base} and {run}")
    return answer


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


def router_daemons(ctx: LabContext, router: RouterPlan,
                   answer: NamespaceDaemon | None = None) -> list[Daemon]:
    """The router's processes, in start order, each run inside its namespace."""
    answer = answer or router_answer(ctx, router)
    ns = machine_ns(ctx.plan.lab, router.name)
    return [Daemon(router.name, p.name, tuple(iproute.ns_exec(ns, list(p.argv))),
                   p.files[0] if p.files else None, p.ready,
                   ctx.state.logs / f"{router.name}.{p.name}.log",
                   reload=tuple(iproute.ns_exec(ns, list(p.reload))) if p.reload else None,
                   files=p.files, owner_mark=p.marker)
            for p in answer.processes]


def node_daemon(ctx: LabContext, node: str, speaker: str) -> Daemon:
    base, run = _dirs(ctx)
    ns = machine_ns(ctx.plan.lab, node)
    log = ctx.state.logs / f"{node}.{speaker}.log"
    if speaker == "bird":
        conf, sock = base / f"{node}.speaker.conf", run / f"{node}.ctl"
        argv = iproute.ns_exec(ns, ["bird", "-f", "-c", str(conf), "-s", str(sock),
                                    "-P", str(base / f"{node}.speaker.pid")])
        return Daemon(node, "bird", tuple(argv), conf, sock, log,
                      reload=("birdc", "-s", str(sock), "configure"))
    conf, sock = base / f"{node}.gobgpd.toml", run / f"{node}.gobgp.sock"
    argv = iproute.ns_exec(ns, ["gobgpd", "-f", str(conf), "-t", "toml", "-p",
                                "--pprof-disable", f"--api-hosts=unix://{sock}"])
    return Daemon(node, "gobgpd", tuple(argv), conf, sock, log)


def agent_daemon(ctx: LabContext, port: int) -> Daemon:
    pods = [pod_ns(ctx.plan.lab, n.name) for n in ctx.plan.nodes]
    argv = (sys.executable, "-m", "nativek8s.plugins.hypervisors.netns.podagent", str(port),
            *pods)
    return Daemon("pods", "podagent", argv, None, None, ctx.state.logs / "podagent.log")


def _env() -> dict[str, str]:
    # The pod agent imports this package: make it importable exactly as this process has it.
    import nativek8s

    root = str(Path(nativek8s.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def running_pid(ctx: LabContext, daemon: Daemon) -> int | None:
    rec = ctx.state.resources().get(daemon.key, {})
    pid = rec.get("pid")
    if pid and processes.is_ours(pid, daemon.marker) and rec.get("argv") == list(daemon.argv):
        return pid
    return None


def write_config(path: Path, text: str, secret: bool) -> bool:
    """Write if different; True when it changed."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if secret:
        write_private(path, text)
    else:
        path.write_text(text)
    return True


def ensure(ctx: LabContext, daemon: Daemon, changed: bool,
           before: dict[int, str] | None = None) -> str:
    """Running with the current config; started or reloaded as needed. ``before`` is a
    process table taken before this run started any daemon (see processes.scan)."""
    pid = running_pid(ctx, daemon)
    if pid and not changed:
        return f"running (pid {pid})"
    if pid and daemon.reload:
        iproute.run(list(daemon.reload))
        return f"reconfigured (pid {pid})"
    # Ours but unusable: outdated command line, or started by a run that died before it
    # could record the PID. Found by the lab's own config path in their command line.
    stale = processes.find(daemon.marker, before)
    processes.stop_all({p: daemon.marker for p in stale})
    if daemon.socket:
        daemon.socket.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        daemon.socket.unlink(missing_ok=True)
    # Recorded before it starts, so destroy finds it even if this run dies right after.
    ctx.state.record(daemon.key, pid=None, argv=list(daemon.argv), marker=daemon.marker)
    pid = processes.start(daemon.argv, daemon.log, _env())
    ctx.state.record(daemon.key, pid=pid)
    time.sleep(0.02)
    if not processes.is_ours(pid, daemon.marker):
        tail = daemon.log.read_text(errors="replace").strip().splitlines()[-3:]
        raise NativeK8sError(f"{daemon.kind} on {daemon.machine} exited at once: "
                             f"{' / '.join(tail) or 'no output'} (log: {daemon.log})")
    return f"started (pid {pid})"


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
