"""Commands inside a guest through the QEMU guest agent (libvirt's
``virDomainQemuAgentCommand``): ``guest-exec`` starts argv with its output captured,
``guest-exec-status`` is polled until it exits. Every failure is a NativeK8sError naming the
machine: no agent, an agent that does not answer, a command that runs too long or fails.
"""

from __future__ import annotations

import base64
import json
import posixpath
import shlex
import time
from collections.abc import Sequence
from typing import Any

from nativek8s.api import CommandFailed, NativeK8sError

from .connection import binding, lookup

AGENT_CALL_TIMEOUT = 5  # seconds libvirt waits for one agent reply
POLL = 0.05
# libvirt's codes for "no agent connected / did not reply in time" and "not in sync"
_SILENT = (86, 97)  # VIR_ERR_AGENT_UNRESPONSIVE, VIR_ERR_AGENT_UNSYNCED


class AgentAccess:
    """:class:`~nativek8s.core.kinds.MachineAccess` through the guest agent."""

    bgp_control_socket: str | None = None  # the guest's BGP daemon at its default socket

    def __init__(self, conn: Any, domain: str, machine: str):
        self.conn, self.domain, self.machine = conn, domain, machine

    def _agent(self, command: str, arguments: dict[str, Any], what: str) -> Any:
        libvirt = binding()
        import libvirt_qemu

        dom = lookup(self.conn.lookupByName, self.domain)
        if dom is None or not dom.isActive():
            raise NativeK8sError(f"{self.machine}: its VM {self.domain} is not running")
        request = json.dumps({"execute": command, "arguments": arguments})
        try:
            reply = libvirt_qemu.qemuAgentCommand(dom, request, AGENT_CALL_TIMEOUT, 0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in _SILENT:
                raise NativeK8sError(
                    f"{self.machine}: the QEMU guest agent did not answer "
                    f"({exc.get_error_message()}); the guest needs qemu-ga running on the "
                    f"org.qemu.guest_agent.0 channel") from None
            raise NativeK8sError(f"{self.machine}: {what} through the guest agent: "
                                 f"{exc.get_error_message()}") from None
        try:
            answer = json.loads(reply)["return"]
            return answer if isinstance(answer, int) else dict(answer)
        except (ValueError, KeyError, TypeError):
            raise NativeK8sError(f"{self.machine}: unexpected guest agent reply to "
                                 f"{command}: {reply[:200]}") from None

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        shown = shlex.join(argv)
        if not argv:
            raise NativeK8sError(f"{self.machine}: nothing to run")
        what = f"`{shown}`"
        started = self._agent("guest-exec", {"path": argv[0], "arg": list(argv[1:]),
                                             "capture-output": True}, what)
        pid = started.get("pid")
        deadline = time.monotonic() + timeout
        while True:
            status = self._agent("guest-exec-status", {"pid": pid}, what)
            if status.get("exited"):
                break
            if time.monotonic() >= deadline:
                raise NativeK8sError(f"{self.machine}: `{shown}` did not finish within "
                                     f"{timeout:g} s (guest agent, pid {pid})")
            time.sleep(POLL)
        out = _decode(status.get("out-data"))
        if status.get("exitcode", 0) != 0 or "signal" in status:
            err = _decode(status.get("err-data")).strip() or out.strip()
            how = (f"was killed by signal {status['signal']}" if "signal" in status
                   else f"exited {status.get('exitcode')}")
            raise CommandFailed(f"{self.machine}: `{shown}` {how}: {err[-500:] or 'no output'}",
                                None if "signal" in status else int(status.get("exitcode", 1)),
                                out)
        return out

    def write_file(self, path: str, content: bytes, mode: str = "0644") -> None:
        """Write a file inside the guest (guest-file-open/write/close), then set its mode."""
        what = f"writing {path}"
        self.run(["mkdir", "-p", posixpath.dirname(path) or "/"])
        handle = self._agent("guest-file-open", {"path": path, "mode": "w"}, what)
        if not isinstance(handle, int):
            raise NativeK8sError(f"{self.machine}: {what}: no file handle from the agent")
        try:
            for at in range(0, len(content), 48 * 1024) or [0]:
                chunk = base64.b64encode(content[at:at + 48 * 1024]).decode()
                self._agent("guest-file-write", {"handle": handle, "buf-b64": chunk}, what)
        finally:
            self._agent("guest-file-close", {"handle": handle}, what)
        self.run(["chmod", mode, path])


def _decode(data: str | None) -> str:
    return base64.b64decode(data).decode(errors="replace") if data else ""
