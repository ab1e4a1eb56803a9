"""What bench_netns.py runs labs with: whole-process wall and CPU time of one command, fresh
lab names, an undo list that removes every lab the benchmark made (and nothing else), the
memory of a lab's processes, and topology files."""

from __future__ import annotations

import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "nativek8s.core.cli.main"]
PROTOTYPE = ["bash", str(ROOT / "benchmarks" / "prototype_lab.sh")]


@dataclass(frozen=True)
class Run:
    argv: list[str]
    wall: float  # s, from fork to reaped
    cpu: float  # s, user + system of the process and every descendant it waited for
    rc: int
    out: str  # stdout and stderr, interleaved

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.out.splitlines()[-lines:])


def run(argv: list[str], env: dict[str, str]) -> Run:
    """One command, timed as a user would see it. Only one child runs at a time, so the
    RUSAGE_CHILDREN delta is this command's tree; daemons it leaves running are not in it
    (neither the prototype's nor nativek8s')."""
    # Output goes to a file, not a pipe: daemons the command leaves running inherit it, and
    # a pipe would then never reach end-of-file.
    with tempfile.TemporaryFile("w+") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        text = out.read()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(argv, wall, cpu, proc.returncode, text)


class Failed(Exception):
    """A command of the benchmark failed; the run stops (after cleaning up)."""

    def __init__(self, what: str, result: Run) -> None:
        super().__init__(f"{what} failed (exit {result.rc}):\n{result.tail()}")


def checked(what: str, argv: list[str], env: dict[str, str]) -> Run:
    result = run(argv, env)
    if result.rc != 0:
        raise Failed(what, result)
    return result


def _taken(name: str) -> bool:
    """Anything of that name already on the machine: a namespace of a nativek8s lab or the
    prototype's, or a prototype's run folder. Fresh names make every undo safe."""
    spaces = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    return (any(ns.startswith((f"nk.{name}.", f"{name}-")) for ns in spaces)
            or os.path.exists(f"/run/nk-proto/{name}"))


def fresh_name(prefix: str) -> str:
    """A lab name no namespace on this machine uses (a DNS label of ≤ 10 characters)."""
    while True:
        name = prefix + secrets.token_hex(3)
        if not _taken(name):
            return name


class Undo:
    """Every lab this run made and has not yet removed, with the command that removes it.
    Registered before the lab is built, so an interrupt mid-build is cleaned up too."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.pending: dict[str, list[str]] = {}

    def nativek8s(self, name: str) -> None:
        self.pending[name] = [*CLI, "destroy", name]

    def prototype(self, name: str) -> None:
        self.pending[name] = [*PROTOTYPE, "down", name]

    def done(self, name: str) -> None:
        self.pending.pop(name, None)

    def all(self) -> bool:
        """Remove what is left, with Ctrl-C ignored meanwhile (a half-removed lab is worse
        than a slow exit). True if everything went."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        ok = True
        try:
            for name, argv in list(self.pending.items()):
                print(f"cleanup: {' '.join(argv[-2:])}", file=sys.stderr)
                result = run(argv, self.env)
                if result.rc == 0:
                    self.done(name)
                else:
                    ok = False
                    print(f"cleanup of {name} failed:\n{result.tail()}", file=sys.stderr)
        finally:
            signal.signal(signal.SIGINT, old)
        return ok


@dataclass(frozen=True)
class Memory:
    processes: int
    rss_kib: int
    pss_kib: int
    by_name: dict[str, tuple[int, int]]  # process name -> (count, PSS KiB)


def lab_memory(lab: str) -> Memory:
    """RSS and PSS of every process inside one of the lab's network namespaces (daemons,
    speakers, pod agent): the same namespace inode as a /run/netns/nk.<lab>.* entry."""
    spaces = set()
    for entry in os.scandir("/run/netns"):
        if entry.name.startswith(f"nk.{lab}."):
            st = os.stat(entry.path)
            spaces.add((st.st_dev, st.st_ino))
    count = rss = pss = 0
    by_name: dict[str, tuple[int, int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
            if (st.st_dev, st.st_ino) not in spaces:
                continue
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:  # gone meanwhile
            continue
        fields = dict(re.findall(r"^(Rss|Pss):\s+(\d+) kB", rollup, re.M))
        count, rss, pss = count + 1, rss + int(fields["Rss"]), pss + int(fields["Pss"])
        n, p = by_name.get(comm, (0, 0))
        by_name[comm] = (n + 1, p + int(fields["Pss"]))
    return Memory(count, rss, pss, by_name)


def reference_topology(path: Path, name: str, env: dict[str, str]) -> Path:
    """The reference lab, exactly as `nativek8s init` writes it, under another name."""
    checked("nativek8s init", [*CLI, "init", "--name", name, "--out", str(path), "--force"], env)
    return path


def grid_topology(path: Path, name: str, dcs: int, nodes: int) -> Path:
    """DCS datacentres of NODES nodes, one router each (route reflection above four). LANs
    10.0.D.0/24 and pods from 10.128.0.0/10 (a thousand /24 PodCIDRs fit) stay clear of the
    services' 10.96.0.0/12 and the peering 10.255.0.0/24 up to 254 datacentres."""
    lines = [f"name: {name}", "networks: {pods: 10.128.0.0/10, pod_mask: 24}", "datacentres:"]
    for d in range(1, dcs + 1):
        lines += [f"  dc{d}:", f"    lan: 10.0.{d}.0/24", "    nodes:"]
        for k in range(1, nodes + 1):
            role = "controlplane" if d == k == 1 else "worker"
            lines.append(f"      n{d}-{k}: {{role: {role}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def spread(values: list[float], unit: str = " s", digits: int = 2) -> str:
    """`1.31 s (1.25–1.40)`: median, then min–max."""
    return (f"{statistics.median(values):.{digits}f}{unit} "
            f"({min(values):.{digits}f}–{max(values):.{digits}f})")
