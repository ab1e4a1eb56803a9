"""Daemons the lab starts, owned exactly: a process is ours only if it is the very process
we started — same PID, same start time (a recycled PID has another), same executable, same
network namespace — never because its command line mentions one of our files."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from nativek8s.api import NativeK8sError


@dataclass(frozen=True)
class Identity:
    pid: int
    start: int  # clock ticks after boot (field 22 of /proc/PID/stat)
    exe: str  # what /proc/PID/exe points to
    netns: int  # inode of its network namespace

    def record(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_record(cls, rec: dict) -> Identity | None:
        try:
            return cls(int(rec["pid"]), int(rec["start"]), str(rec["exe"]), int(rec["netns"]))
        except (KeyError, TypeError, ValueError):
            return None


def identity(pid: int) -> Identity | None:
    """The process as it is now; None if it is gone (or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        exe = os.readlink(f"/proc/{pid}/exe")
        netns = os.stat(f"/proc/{pid}/ns/net").st_ino
    except (OSError, IndexError):
        return None
    if stat[0] in ("Z", "X"):
        return None
    return Identity(pid, int(stat[19]), exe, netns)


def is_ours(ident: Identity | None) -> bool:
    """True while the very process of ``ident`` lives (and is not a zombie)."""
    return ident is not None and identity(ident.pid) == ident


def namespace_inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def by_namespace() -> dict[int, list[Identity]]:
    """Every live process, grouped by the inode of its network namespace (one pass over
    /proc, shared by many lookups)."""
    table: dict[int, list[Identity]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ident = identity(int(entry.name))
            if ident is not None:
                table.setdefault(ident.netns, []).append(ident)
    return table


def in_namespaces(inodes: Iterable[int],
                  table: dict[int, list[Identity]] | None = None) -> list[Identity]:
    """Every live process whose network namespace is one of ``inodes`` (from ``table``, a
    snapshot of :func:`by_namespace`, when given)."""
    wanted = set(inodes)
    if not wanted:
        return []
    table = by_namespace() if table is None else table
    found = [i for ino in wanted for i in table.get(ino, []) if is_ours(i)]
    return sorted(found, key=lambda i: i.pid)


def executable(name: str) -> str:
    """The real path /proc/PID/exe will show for a program started as ``name``."""
    import shutil

    path = shutil.which(name) if os.sep not in name else name
    if path is None:
        raise NativeK8sError(f"{name} is not installed")
    return os.path.realpath(path)


def start(argv: Sequence[str], log: Path, exe: str, netns: int,
          env: dict[str, str] | None = None) -> Identity:
    """Start a daemon in the foreground of its own session; return its identity once it
    runs ``exe`` in the namespace of inode ``netns`` (``ip netns exec`` execs into it)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True, env=env)
        except FileNotFoundError:
            raise NativeK8sError(f"{argv[0]} is not installed") from None
    _children.append(proc)  # reaped by Popen's bookkeeping, never a zombie warning
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        ident = identity(proc.pid)
        if ident is None or proc.poll() is not None:
            break
        if ident.exe == exe and ident.netns == netns:
            return ident
        time.sleep(0.002)
    proc.poll()
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    raise NativeK8sError(f"`{' '.join(argv[-6:])}` did not start: "
                         f"{' / '.join(tail) or 'no output'} (log: {log})")


_children: list[subprocess.Popen] = []


def stop_all(targets: Iterable[Identity], timeout: float = 3.0) -> list[int]:
    """TERM to every target that still is that process, wait, KILL what remains.
    Returns the PIDs stopped."""
    live = {i.pid: i for i in targets if is_ours(i)}
    for pid in live:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    waiting = dict(live)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            _reap(pid)
            if not is_ours(waiting[pid]):
                del waiting[pid]
        if waiting:
            time.sleep(0.005)
    for pid, ident in waiting.items():
        if is_ours(ident):
            _signal(pid, signal.SIGKILL)
        _reap(pid)
    return sorted(live)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
