"""Daemons the lab starts: owned by PID, recognised by their command line, never by name."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from nativek8s.core.errors import NativeK8sError


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


def find(marker: str) -> list[int]:
    """PIDs whose command line names marker: a path inside this lab's own state, so only
    daemons this lab started match (after a crash lost their PID, say)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and is_ours(int(entry.name), marker):
            pids.append(int(entry.name))
    return sorted(pids)


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
    return proc.pid


_children: list[subprocess.Popen] = []


def _reap_later(proc: subprocess.Popen) -> None:
    # Keep a reference so the daemon is not reaped as a zombie-in-waiting warning; it
    # outlives this process (own session), which is the point.
    _children.append(proc)


def stop(pid: int, marker: str, timeout: float = 3.0) -> bool:
    """TERM, then KILL after timeout. Only if the PID is still our daemon."""
    if not is_ours(pid, marker):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(pid, marker):
            _reap(pid)
            return True
        _reap(pid)
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
