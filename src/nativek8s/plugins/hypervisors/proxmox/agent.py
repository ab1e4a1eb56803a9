"""Commands inside a VM through the Proxmox API's guest agent endpoints.

``POST /nodes/{node}/qemu/{vmid}/agent/exec`` starts the argv in the guest (qemu-ga's
``guest-exec``) and answers its pid; ``GET .../agent/exec-status?pid=`` answers
``exited: 0`` until it ends, then ``exitcode`` (or ``signal``) with ``out-data`` and
``err-data``. PVE 9.1 guards both with VM.GuestAgent.Unrestricted on ``/vms/<vmid>``.

Every way this can fail -- no agent configured, VM or agent not running, the privilege
missing, the program missing, a non-zero exit, no end within the timeout -- becomes one
NativeK8sError naming the machine and what to do; nothing here waits without a deadline.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from typing import Any

from nativek8s.api import CommandFailed, NativeK8sError

from .connection import ApiError, Connection
from .vms import VmRef

PRIVILEGE = "VM.GuestAgent.Unrestricted"  # PVE 9.1.3's schema, on /vms/{vmid}
FIRST_POLL, MAX_POLL = 0.05, 0.5  # seconds between exec-status polls (doubling)


def _text(value: Any) -> str:
    """Output as PVE hands it over: it decodes qemu-ga's base64 to bytes and its JSON
    encoder writes each byte as one character, so UTF-8 arrives as Latin-1 characters."""
    text = str(value or "")
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _tail(text: str, lines: int = 5) -> str:
    kept = text.strip().splitlines()[-lines:]
    return " | ".join(kept)


class AgentAccess:
    """Runs commands inside one machine's VM (a MachineAccess).

    ``locate`` finds the machine's VM when a command runs (raising NativeK8sError when it
    is gone), so an access made before a VM was recreated still finds the new one.
    """

    bgp_control_socket: str | None = None  # the guest's birdc finds its own BIRD

    def __init__(self, conn: Connection, machine: str, locate: Callable[[], VmRef],
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.conn, self.machine, self.locate, self._sleep = conn, machine, locate, sleep
        self.timeout = timeout  # when the caller gives none

    def __repr__(self) -> str:
        return f"AgentAccess({self.machine})"

    def run(self, argv: Sequence[str], timeout: float | None = None) -> str:
        """Run argv in the guest; its stdout, or NativeK8sError naming the machine."""
        timeout = self.timeout if timeout is None else timeout
        vm = self.locate()
        command = shlex.join(argv)
        try:
            started = self.conn.post(f"{vm.path}/agent/exec", command=list(argv)) or {}
            if not isinstance(started.get("pid"), int):
                raise NativeK8sError(f"{self.machine}: the guest agent of VM {vm.vmid} started "
                                     f"`{command}` but answered no pid ({started!r})")
            pid = started["pid"]
            status = self._wait(vm, pid, command, timeout)
        except ApiError as exc:
            raise NativeK8sError(self._explain(vm, command, exc)) from None
        out, err = _text(status.get("out-data")), _text(status.get("err-data"))
        if "signal" in status and "exitcode" not in status:
            raise NativeK8sError(f"{self.machine}: `{command}` was killed by signal "
                                 f"{status['signal']} (VM {vm.vmid}, guest agent pid {pid})")
        code = int(status.get("exitcode", 0))
        if code != 0:
            said = _tail(err) or _tail(out) or "no output"
            raise CommandFailed(f"{self.machine}: `{command}` exited {code} inside VM "
                                f"{vm.vmid}: {said}", code, out)
        if status.get("out-truncated"):
            raise NativeK8sError(f"{self.machine}: the output of `{command}` was cut short by "
                                 "the guest agent (over 16 MiB)")
        return out

    def _wait(self, vm: VmRef, pid: int, command: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        pause = FIRST_POLL
        while True:
            status = self.conn.get(f"{vm.path}/agent/exec-status", pid=pid) or {}
            if int(status.get("exited", 0)):
                return dict(status)
            left = deadline - time.monotonic()
            if left <= 0:
                raise NativeK8sError(
                    f"{self.machine}: `{command}` did not finish within {timeout:g} s inside "
                    f"VM {vm.vmid} (guest agent pid {pid}); the guest may be overloaded or "
                    "the program hung")
            self._sleep(min(pause, left))
            pause = min(pause * 2, MAX_POLL)

    def _explain(self, vm: VmRef, command: str, exc: ApiError) -> str:
        where = f"{self.machine} (VM {vm.vmid} on {vm.node})"
        said = exc.pve_message.strip()
        if exc.status == 403:
            return (f"{where}: the API token {self.conn.user} may not run commands through "
                    f"the guest agent: grant it {PRIVILEGE} on /vms (`nativek8s doctor` "
                    "lists every privilege the lab needs)")
        if "No QEMU guest agent configured" in said:
            return (f"{where} has no QEMU guest agent configured; `nativek8s deploy` sets it "
                    f"on routers (or `qm set {vm.vmid} --agent enabled=1`), and it takes "
                    "effect when the VM next starts")
        if f"VM {vm.vmid} is not running" in said:
            return f"{where} is not running; `nativek8s deploy` starts it"
        if "guest agent is not running" in said or "got timeout" in said:
            return (f"{where}: its QEMU guest agent does not answer; the machine's image "
                    "must run qemu-ga (on OpenWrt the qemu-ga package), or it is still "
                    "booting")
        if "Failed to execute child process" in said:
            return f"{where}: cannot run `{command}`: {said}"
        return f"{where}: running `{command}` through the guest agent failed: {exc}"
