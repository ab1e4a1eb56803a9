"""The QEMU guest agent endpoints: ping, network-get-interfaces, exec and exec-status.

Behaviour from qemu-server's ``PVE::QemuServer::Agent`` and qemu-ga: every command first
asserts the agent is usable (``No QEMU guest agent configured``, ``VM <vmid> is not
running``, ``QEMU guest agent is not running``), each a plain die (HTTP 500). ``exec``
answers the guest's pid at once; ``exec-status`` answers ``exited: 0`` until the program
ends, then its ``exitcode`` (or ``signal``) and output, and qemu-ga forgets the pid: asking
again, or for a pid it never had, fails as qemu-ga's ``Invalid parameter 'pid'``. The
privilege (VM.GuestAgent.Unrestricted on /vms/<vmid> in PVE 9.1) is the schema's check,
run before these handlers.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import die
from ..guest import GUEST_EXEC_MAX_OUTPUT, GuestExecError, next_pid
from ..state import Vm
from . import Ctx, route


def agent_vm(ctx: Ctx, params: dict[str, Any]) -> Vm:
    """assert_agent_available."""
    vm = ctx.state.vm(params["node"], params["vmid"])
    if not re.match(r"^(enabled=)?1", str(vm.config.get("agent", "0"))):
        raise die("No QEMU guest agent configured")
    if vm.status != "running":
        raise die(f"VM {vm.vmid} is not running")
    if not vm.agent_running:
        raise die("QEMU guest agent is not running")
    return vm


def _qmp_failed(vm: Vm, command: str, reason: str) -> Exception:
    return die(f"VM {vm.vmid} qmp command '{command}' failed - {reason}")


def _as_text(data: bytes) -> str:
    # qemu-ga sends base64; PVE decodes it to bytes and its JSON encoder then writes each
    # byte as one character, so bytes above 127 arrive as Latin-1 characters.
    return data.decode("latin-1")


@route("POST", "/nodes/{node}/qemu/{vmid}/agent/ping")
def agent_ping(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    agent_vm(ctx, params)
    return {"result": {}}


@route("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
def agent_interfaces(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return {"result": agent_vm(ctx, params).guest_interfaces or []}


@route("POST", "/nodes/{node}/qemu/{vmid}/agent/exec")
def agent_exec(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    vm = agent_vm(ctx, params)
    argv = [str(a) for a in params.get("command") or []]
    raw_input = params.get("input-data")
    if not argv and raw_input is None:
        raise die("command or input-data (or both) required")
    if vm.guest is None:  # the agent answers, but the test gave it nothing to run programs
        raise _qmp_failed(vm, "guest-exec", "stand-in: no guest model attached to this VM")
    data = str(raw_input).encode() if raw_input is not None else None
    try:
        proc = vm.guest.start(argv, data)
    except GuestExecError as exc:
        raise _qmp_failed(vm, "guest-exec",
                          f"Guest agent command failed, error was '{exc}'") from None
    pid = next_pid()
    vm.exec_procs[pid] = proc
    return {"pid": pid}


@route("GET", "/nodes/{node}/qemu/{vmid}/agent/exec-status")
def agent_exec_status(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    vm = agent_vm(ctx, params)
    pid = int(params["pid"])
    proc = vm.exec_procs.get(pid)
    if proc is None:
        raise _qmp_failed(vm, "guest-exec-status", "Invalid parameter 'pid'")
    outcome = proc.poll()
    if outcome is None:
        return {"exited": 0}
    del vm.exec_procs[pid]
    out: dict[str, Any] = {"exited": 1}
    if outcome.exitcode >= 0:
        out["exitcode"] = outcome.exitcode
    else:  # killed by a signal (Popen's negative return code)
        out["signal"] = -outcome.exitcode
    for key, data in (("out", outcome.out), ("err", outcome.err)):
        if data:
            out[f"{key}-data"] = _as_text(data[:GUEST_EXEC_MAX_OUTPUT])
            if len(data) > GUEST_EXEC_MAX_OUTPUT:
                out[f"{key}-truncated"] = 1
    return out
