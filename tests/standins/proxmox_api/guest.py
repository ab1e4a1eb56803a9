"""What runs inside a stand-in VM when the API asks its guest agent to execute a command.

qemu-ga's ``guest-exec`` starts the program and answers its pid at once; ``guest-exec-status``
answers ``exited: false`` until it ends, then its exit code and captured output, and forgets
the pid (a second query of it fails like an unknown pid). A :class:`Guest` starts programs;
tests attach one per VM (``state.vms[vmid].guest = ...``):

- :class:`NamespaceGuest` runs the argv for real inside a network namespace, so ``birdc``
  and ``ip -j route`` answer from a real BIRD and a real kernel table. ``birdc`` without
  ``-s`` is pointed at that machine's own control socket, as it is inside a VM.
- :class:`CannedGuest` answers recorded outputs (captured from real runs) per argv.
- :class:`HungGuest` starts programs that never end (an agent that stops answering).
"""

from __future__ import annotations

import itertools
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

GUEST_EXEC_MAX_OUTPUT = 16 * 1024 * 1024  # qemu-ga keeps at most this much of each stream


class GuestExecError(Exception):
    """The guest agent could not start the program (qemu-ga's ``guest-exec`` error)."""


@dataclass(frozen=True)
class Exited:
    exitcode: int
    out: bytes = b""
    err: bytes = b""


class GuestProcess(Protocol):
    def poll(self) -> Exited | None:
        """The outcome once the program ended, else None."""
        ...


class Guest(Protocol):
    def start(self, argv: Sequence[str], input_data: bytes | None) -> GuestProcess: ...


_PIDS = itertools.count(1200)


@dataclass
class _Done:
    outcome: Exited

    def poll(self) -> Exited | None:
        return self.outcome


class _Never:
    def poll(self) -> Exited | None:
        return None


class _Real:
    """A real process; a thread collects its output as it comes (a full pipe would stall
    it), and its outcome is known once it has ended."""

    def __init__(self, proc: subprocess.Popen[bytes], input_data: bytes | None):
        self.proc = proc
        self.outcome: Exited | None = None
        threading.Thread(target=self._collect, args=(input_data,), daemon=True).start()

    def _collect(self, input_data: bytes | None) -> None:
        out, err = self.proc.communicate(input_data)
        self.outcome = Exited(self.proc.returncode, out, err)

    def poll(self) -> Exited | None:
        return self.outcome


class NamespaceGuest:
    """A 'VM' that is a network namespace with its own BIRD control socket."""

    def __init__(self, namespace: str, birdc_socket: str | None = None):
        self.namespace, self.birdc_socket = namespace, birdc_socket
        self.started: list[list[str]] = []  # every argv, for asserts
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: Sequence[str], input_data: bytes | None) -> GuestProcess:
        argv = list(argv)
        self.started.append(argv)
        if argv[:1] == ["birdc"] and "-s" not in argv and self.birdc_socket:
            argv = ["birdc", "-s", self.birdc_socket, *argv[1:]]
        try:
            proc = subprocess.Popen(["ip", "netns", "exec", self.namespace, *argv],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            raise GuestExecError(f"Failed to execute child process \"{argv[0]}\" "
                                 f"({exc.strerror})") from None
        self.procs.append(proc)
        return _Real(proc, input_data)

    def close(self) -> None:
        """End what is still running (the test's own processes, by handle)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class CannedGuest:
    """Recorded answers per argv; an argv it does not know is a missing program."""

    def __init__(self, answers: Mapping[tuple[str, ...], Exited]):
        self.answers = dict(answers)
        self.started: list[list[str]] = []

    def start(self, argv: Sequence[str], input_data: bytes | None) -> GuestProcess:
        self.started.append(list(argv))
        outcome = self.answers.get(tuple(argv))
        if outcome is None:
            raise GuestExecError(f"Failed to execute child process \"{argv[0]}\" "
                                 "(No such file or directory)")
        return _Done(outcome)


class HungGuest:
    """Every program starts and never ends."""

    def __init__(self) -> None:
        self.started: list[list[str]] = []

    def start(self, argv: Sequence[str], input_data: bytes | None) -> GuestProcess:
        self.started.append(list(argv))
        return _Never()


def next_pid() -> int:
    return next(_PIDS)
