"""Scripted readiness of workloads, counted in polls rather than seconds.

A poll is one HTTP read (GET or LIST) that returns the workload or one of its pods. A
workload scripted `ready_after=N` is reported not ready by its first N polls and ready
from poll N+1 on; `never()` keeps it not ready, for deadline tests. Counting polls keeps
tests free of timing thresholds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

WorkloadKey = tuple[str, str, str]  # (kind, namespace, name)


@dataclass
class Script:
    ready_after: int | None  # None: never ready
    polls: int = 0

    @property
    def ready(self) -> bool:
        return self.ready_after is not None and self.polls > self.ready_after


class Readiness:
    def __init__(self, default_ready_after: int | None = 0) -> None:
        self.default_ready_after = default_ready_after
        self._scripts: dict[WorkloadKey, Script] = {}
        self._lock = threading.Lock()

    def script(self, kind: str, namespace: str, name: str, ready_after: int | None) -> None:
        """Set (or reset) the script of one workload; kind is DaemonSet or Deployment."""
        with self._lock:
            self._scripts[(kind, namespace, name)] = Script(ready_after)

    def never(self, kind: str, namespace: str, name: str) -> None:
        self.script(kind, namespace, name, None)

    def _get(self, key: WorkloadKey) -> Script:
        if key not in self._scripts:
            self._scripts[key] = Script(self.default_ready_after)
        return self._scripts[key]

    def poll(self, key: WorkloadKey) -> bool:
        with self._lock:
            script = self._get(key)
            script.polls += 1
            return script.ready

    def is_ready(self, key: WorkloadKey) -> bool:
        with self._lock:
            return self._get(key).ready

    def polls(self, key: WorkloadKey) -> int:
        with self._lock:
            return self._get(key).polls
