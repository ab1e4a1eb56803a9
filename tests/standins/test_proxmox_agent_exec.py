"""The stand-in's guest agent exec endpoints, through the real proxmoxer client: the schema's
parameters and privilege, qemu-server's availability checks, qemu-ga's pid life cycle, and
programs that really run (in a network namespace this test makes and removes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("proxmoxer")


from tests.standins.proxmox_api import ProxmoxStandin  # noqa: E402
from tests.standins.proxmox_api.fixture import proxmox_standin  # noqa: E402,F401
from tests.standins.proxmox_api.guest import (  # noqa: E402
    CannedGuest,
    Exited,
    HungGuest,
    NamespaceGuest,
)
from tests.standins.test_proxmox_api import error_of, wait_task  # noqa: E402
from tests.support.scratch_netns import scratch_namespaces  # noqa: E402

VMID = 100


@pytest.fixture
def vm(proxmox_standin: ProxmoxStandin) -> Any:  # noqa: F811
    """A running VM with the agent configured; returns its API resource."""
    api = proxmox_standin.client()
    node = api.nodes("pve")
    wait_task(api, node.qemu.post(vmid=VMID, agent="enabled=1", memory=128))
    wait_task(api, node.qemu(VMID).status.start.post())
    return node.qemu(VMID)


def exec_status(vm: Any, pid: int) -> dict[str, Any]:
    return vm.agent("exec-status").get(pid=pid)


def test_exec_answers_a_pid_and_status_the_outcome_once(proxmox_standin, vm):  # noqa: F811
    guest = CannedGuest({("birdc", "show", "status"): Exited(0, b"BIRD 2.0.12 ready.\n",
                                                              b"warn\n")})
    proxmox_standin.state.vms[VMID].guest = guest
    pid = vm.agent.exec.post(command=["birdc", "show", "status"])["pid"]
    assert isinstance(pid, int)
    assert guest.started == [["birdc", "show", "status"]]
    assert exec_status(vm, pid) == {"exited": 1, "exitcode": 0,
                                    "out-data": "BIRD 2.0.12 ready.\n", "err-data": "warn\n"}
    err = error_of(lambda: exec_status(vm, pid))  # qemu-ga forgot it once it was collected
    assert err.status_code == 500
    assert err.content == f"VM {VMID} qmp command 'guest-exec-status' failed - " \
                          "Invalid parameter 'pid'"
    err = error_of(lambda: exec_status(vm, 4242))
    assert "Invalid parameter 'pid'" in err.content


def test_a_single_argument_is_still_a_command_list(proxmox_standin, vm):  # noqa: F811
    proxmox_standin.state.vms[VMID].guest = CannedGuest({("uptime",): Exited(0, b"up\n")})
    pid = vm.agent.exec.post(command="uptime")["pid"]
    assert exec_status(vm, pid)["out-data"] == "up\n"


def test_parameters_follow_the_schema(proxmox_standin, vm):  # noqa: F811
    proxmox_standin.state.vms[VMID].guest = HungGuest()
    err = error_of(lambda: vm.agent.exec.post())
    assert err.status_code == 400 and "command" in err.errors
    err = error_of(lambda: vm.agent.exec.post(command=["true"], timeout=5))
    assert err.status_code == 400 and "timeout" in err.errors  # not a parameter of exec
    err = error_of(lambda: vm.agent("exec-status").get(pid="x"))
    assert err.status_code == 400 and "pid" in err.errors


def test_a_running_program_is_not_exited(proxmox_standin, vm):  # noqa: F811
    proxmox_standin.state.vms[VMID].guest = HungGuest()
    pid = vm.agent.exec.post(command=["sleep", "1000"])["pid"]
    assert exec_status(vm, pid) == {"exited": 0}
    assert exec_status(vm, pid) == {"exited": 0}  # still known while it runs


def test_what_the_real_api_refuses(proxmox_standin, vm):  # noqa: F811
    state = proxmox_standin.state
    err = error_of(lambda: vm.agent.exec.post(command=["true"]))
    assert (err.status_code, err.content) == (500, "QEMU guest agent is not running")
    state.vms[VMID].guest = CannedGuest({})
    err = error_of(lambda: vm.agent.exec.post(command=["nosuch"]))
    assert err.content == (f"VM {VMID} qmp command 'guest-exec' failed - Guest agent command "
                           "failed, error was 'Failed to execute child process \"nosuch\" (No "
                           "such file or directory)'")
    state.vms[VMID].status = "stopped"
    err = error_of(lambda: vm.agent.exec.post(command=["true"]))
    assert err.content == f"VM {VMID} is not running"
    del state.vms[VMID].config["agent"]
    err = error_of(lambda: vm.agent.exec.post(command=["true"]))
    assert err.content == "No QEMU guest agent configured"


def test_the_privilege_the_schema_names(proxmox_standin, vm):  # noqa: F811
    proxmox_standin.state.vms[VMID].guest = CannedGuest({("true",): Exited(0)})
    pid = vm.agent.exec.post(command=["true"])["pid"]
    proxmox_standin.token.acl.revoke("/", "VM.GuestAgent.Unrestricted")
    for call in (lambda: vm.agent.exec.post(command=["true"]), lambda: exec_status(vm, pid)):
        err = error_of(call)
        assert err.status_code == 403
        assert "Permission check failed (/vms/100, VM.GuestAgent.Unrestricted)" in \
            str(err)
    proxmox_standin.token.acl.grant(f"/vms/{VMID}", "VM.GuestAgent.Unrestricted")
    assert exec_status(vm, pid)["exited"] == 1


@pytest.fixture
def namespace() -> Iterator[str]:
    with scratch_namespaces("pveagent-") as (name,):
        yield name


@pytest.mark.netns
def test_real_programs_in_a_namespace(proxmox_standin, vm, namespace):  # noqa: F811
    guest = NamespaceGuest(namespace)
    proxmox_standin.state.vms[VMID].guest = guest
    try:
        def run(argv: list[str]) -> dict[str, Any]:
            pid = vm.agent.exec.post(command=argv)["pid"]
            for _ in range(2000):
                status = exec_status(vm, pid)
                if status["exited"]:
                    return status
                time.sleep(0.005)
            raise AssertionError(f"{argv} never ended")

        links = run(["ip", "-o", "link", "show"])
        assert links["exitcode"] == 0 and "lo:" in links["out-data"]
        assert "eth0" not in links["out-data"]  # the namespace's own links, not the host's
        failed = run(["sh", "-c", "echo no >&2; exit 3"])
        assert (failed["exitcode"], failed["err-data"]) == (3, "no\n")
        killed = run(["sh", "-c", "kill -9 $$"])
        assert killed["signal"] == 9 and "exitcode" not in killed
    finally:
        guest.close()
