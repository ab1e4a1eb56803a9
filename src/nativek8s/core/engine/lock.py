"""One process at a time per lab: a second deploy fails at once, saying who holds it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import NativeK8sError


class LabBusy(NativeK8sError):
    pass


class LabLock:
    def __init__(self, path: Path, lab: str):
        self.path, self.lab, self.fd = path, lab, -1

    def __enter__(self) -> LabLock:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # holds secrets
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LabBusy(
                f"lab {self.lab!r} is busy: process {holder} is working on it; wait for it to "
                "finish (or stop it) and run the command again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1
