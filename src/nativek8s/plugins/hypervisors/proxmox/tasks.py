"""Proxmox worker tasks: every long operation answers a UPID at once and runs on; this polls
it to the end with a deadline and, when it fails, says why with the end of its log.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nativek8s.api import NativeK8sError, Reporter, current_reporter

from .connection import Connection

LOG_TAIL = 20  # lines of a failed task's log shown in the error
FIRST_POLL, MAX_POLL = 0.05, 2.0  # seconds between status polls, growing


class TaskFailed(NativeK8sError):
    def __init__(self, message: str, upid: str, exitstatus: str | None, log: list[str]):
        super().__init__(message)
        self.upid, self.exitstatus, self.log = upid, exitstatus, log


def node_of(upid: str) -> str:
    """UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: -> node."""
    parts = upid.split(":")
    if len(parts) < 9 or parts[0] != "UPID":
        raise NativeK8sError(f"the Proxmox API answered {upid!r} where a task id (UPID) was "
                             "expected")
    return parts[1]


def succeeded(exitstatus: str | None) -> bool:
    # PVE ends a task with "OK", "WARNINGS: <n>" (done, with warnings) or the error message.
    return exitstatus == "OK" or (exitstatus or "").startswith("WARNINGS")


def task_log(conn: Connection, upid: str, limit: int = 1000) -> list[str]:
    entries = conn.get(f"/nodes/{node_of(upid)}/tasks/{upid}/log", start=0, limit=limit)
    return [str(e.get("t", "")) for e in entries or []]


def wait_task(conn: Connection, upid: str, what: str, timeout: float, *,
              sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic,
              report: Reporter | None = None) -> str:
    """Poll until the task stops; return its exit status, or raise TaskFailed with its log.
    The wait is shown by ``report`` (default: the command's, steps run with it)."""
    with (report or current_reporter()).waiting(what) as waiting:
        return _poll_task(conn, upid, what, timeout, sleep, clock, waiting.note)


def _poll_task(conn: Connection, upid: str, what: str, timeout: float,
               sleep: Callable[[float], None], clock: Callable[[], float],
               note: Callable[[str], None]) -> str:
    node = node_of(upid)
    deadline = clock() + timeout
    pause = FIRST_POLL
    while True:
        status = conn.get(f"/nodes/{node}/tasks/{upid}/status")
        if status.get("status") == "stopped":
            exitstatus = status.get("exitstatus")
            if succeeded(exitstatus):
                return str(exitstatus)
            log = task_log(conn, upid)
            raise TaskFailed(_failure(what, upid, f"failed: {exitstatus}", log), upid,
                             exitstatus, log)
        note(f"task {status.get('status', '?')} on {node}")
        if clock() >= deadline:
            log = task_log(conn, upid)
            raise TaskFailed(_failure(
                what, upid, f"did not finish within {timeout:.0f}s (the task is still running "
                f"on {node}; raise options.proxmox.task_timeout if it is just slow)", log),
                upid, None, log)
        sleep(min(pause, max(deadline - clock(), 0.0)))
        pause = min(pause * 1.5, MAX_POLL)


def _failure(what: str, upid: str, how: str, log: list[str]) -> str:
    tail = [line for line in log if line.strip()][-LOG_TAIL:]
    lines = [f"{what} {how}", f"  task {upid}"]
    if tail:
        lines.append("  its log ends with:")
        lines += [f"    {line}" for line in tail]
    return "\n".join(lines)
