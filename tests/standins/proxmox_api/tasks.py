"""Simulated PVE worker tasks: UPIDs, running -> stopped, logs, injected delays and failures.

A long PVE operation forks a worker and answers its UPID at once
(``UPID:$node:$pid:$pstart:$starttime:$type:$id:$user:``, hex fields as PVE::UPID encodes
them). Here a task's work runs when the task is due (after its delay, unless held) the next
time anything polls the registry, so no background threads run. The last log line is
``TASK OK`` or ``TASK ERROR: <msg>`` and ``exitstatus`` is ``OK`` or that message.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Work = Callable[["Task"], None]


class TaskError(Exception):
    """Raised by a task's work to end it with ``TASK ERROR: <message>``."""


@dataclass
class Failure:
    message: str
    task_type: str | None
    task_id: str | None
    times: int | None  # None: every matching task
    log: list[str]


@dataclass
class Task:
    upid: str
    node: str
    type: str
    id: str
    user: str
    pid: int
    pstart: int
    starttime: int
    due: float
    work: Work | None = None
    cleanup: Callable[[], None] | None = None
    log: list[str] = field(default_factory=list)
    status: str = "running"
    exitstatus: str | None = None
    held: bool = False

    def status_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "upid": self.upid, "node": self.node, "pid": self.pid, "pstart": self.pstart,
            "starttime": self.starttime, "type": self.type, "id": self.id, "user": self.user,
            "status": self.status,
        }
        if "!" in self.user:
            out["user"], out["tokenid"] = self.user.split("!", 1)
        if self.status == "stopped":
            out["exitstatus"] = self.exitstatus
        return out


def encode_upid(node: str, pid: int, pstart: int, starttime: int, typ: str, wid: str,
                user: str) -> str:
    return f"UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{typ}:{wid}:{user}:"


class TaskRegistry:
    """All tasks of the stand-in; ``delay``/``delays`` set durations, failures are injected."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.delay = 0.0
        self.delays: dict[str, float] = {}
        self.tasks: dict[str, Task] = {}
        self.held_types: set[str] = set()
        self.failures: list[Failure] = []
        self._pids = itertools.count(0x1000)

    def fail_next(self, task_type: str | None = None, message: str = "injected failure", *,
                  task_id: str | None = None, times: int | None = 1,
                  log: list[str] | None = None) -> None:
        """Make the next matching task(s) end with ``TASK ERROR: message`` (work not run)."""
        self.failures.append(Failure(message, task_type, task_id, times, list(log or [])))

    def hold(self, task_type: str) -> None:
        """Keep new and running tasks of this type 'running' until ``release``."""
        self.held_types.add(task_type)
        for task in self.tasks.values():
            if task.type == task_type and task.status == "running":
                task.held = True

    def release(self, task_type: str) -> None:
        self.held_types.discard(task_type)
        for task in self.tasks.values():
            if task.type == task_type:
                task.held = False

    def start(self, node: str, typ: str, wid: str, user: str, work: Work | None = None, *,
              cleanup: Callable[[], None] | None = None, log: list[str] | None = None) -> Task:
        now = int(time.time())
        pid = next(self._pids)
        upid = encode_upid(node, pid, pid * 100, now, typ, wid, user)
        task = Task(upid, node, typ, wid, user, pid, pid * 100, now,
                    due=self.clock() + self.delays.get(typ, self.delay), work=work,
                    cleanup=cleanup, log=list(log or []), held=typ in self.held_types)
        self.tasks[upid] = task
        return task

    def _take_failure(self, task: Task) -> Failure | None:
        for failure in self.failures:
            if failure.task_type not in (None, task.type) or failure.task_id not in (None, task.id):
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
            return failure
        return None

    def poll(self) -> None:
        """Finish every due task, oldest first."""
        now = self.clock()
        for task in list(self.tasks.values()):
            if task.status == "running" and not task.held and task.due <= now:
                self._finish(task)

    def _finish(self, task: Task) -> None:
        failure = self._take_failure(task)
        try:
            if failure is not None:
                task.log.extend(failure.log)
                raise TaskError(failure.message)
            if task.work is not None:
                task.work(task)
        except Exception as err:  # noqa: BLE001 (a worker's die ends the task, not the server)
            message = str(err) if isinstance(err, TaskError) else str(err).strip() or repr(err)
            if task.cleanup is not None:
                task.cleanup()
            task.exitstatus = message
            task.log.append(f"TASK ERROR: {message}")
        else:
            task.exitstatus = "OK"
            task.log.append("TASK OK")
        task.status = "stopped"

    def get(self, upid: str) -> Task | None:
        return self.tasks.get(upid)

    def running(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.status == "running"]
