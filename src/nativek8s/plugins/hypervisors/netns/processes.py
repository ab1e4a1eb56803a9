"""Daemons the lab starts: owned by PID, recognised by their command line, never by name."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from nativek8s.api import NativeK8sError


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_ours(pid: int | None, marker: str) -> bool:
    """True if pid is alive and its command line mentions marker (a path of this lab):
    a recycled PID belonging to someone else is never mistaken for our daemon."""
    if not pid:
        return False
    argv = cmdline(pid)
    if not argv or marker not in " ".join(argv):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def scan() -> dict[int, str]:
    """Every live process's command line (one pass over /proc, shared by many lookups)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            argv = cmdline(pid)
            if argv:
                table[pid] = " ".join(argv)
    return table


def find(marker: str, table: dict[int, str] | None = None) -> list[int]:
    """PIDs whose command line names marker: a path inside this lab's own state, so only
    daemons this lab started match (after a crash lost their PID, say)."""
    table = scan() if table is None else table
    return sorted(pid for pid, cmd in table.items() if marker in cmd and is_ours(pid, marker))


def start(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a daemon in the foreground of its own session; return its PID."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True, env=env)
        except FileNotFoundError:
            raise NativeK8sError(f"{argv[0]} is not installed") from None
    _reap_later(proc)
    # /proc/PID/cmdline is empty until the exec completes: wait for it, so the caller's
    # ownership checks (by command line) see the daemon it just started.
    deadline = time.monotonic() + 2.0
    while not cmdline(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    return proc.pid


_children: list[subprocess.Popen] = []


def _reap_later(proc: subprocess.Popen) -> None:
    # Keep a reference so the daemon is not reaped as a zombie-in-waiting warning; it
    # outlives this process (own session), which is the point.
    _children.append(proc)


def stop(pid: int, marker: str, timeout: float = 3.0) -> bool:
    """TERM, then KILL after timeout. Only if the PID is still our daemon."""
    return bool(stop_all({pid: marker}, timeout))


def stop_all(targets: dict[int, str], timeout: float = 3.0) -> list[int]:
    """Stop many daemons at once (pid → marker): TERM to all, wait, KILL what remains.
    Only PIDs that still are our daemons are touched; returns those stopped."""
    live = {pid: m for pid, m in targets.items() if is_ours(pid, m)}
    for pid in live:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    waiting = dict(live)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            _reap(pid)
            if not is_ours(pid, waiting[pid]):
                del waiting[pid]
        if waiting:
            time.sleep(0.005)
    for pid in waiting:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)
    return sorted(live)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
