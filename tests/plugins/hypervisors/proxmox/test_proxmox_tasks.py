"""Worker tasks: a failed one is diagnosed with the end of its log, a hung one stops the
wait at the deadline, an interrupted create resumes with the vmid recorded before it."""

from __future__ import annotations

import pytest

from nativek8s.core.engine.steps import StepFailed
from nativek8s.plugins.hypervisors.proxmox.connection import Connection, Token
from nativek8s.plugins.hypervisors.proxmox.options import ProxmoxOptions
from nativek8s.plugins.hypervisors.proxmox.tasks import TaskFailed, wait_task


def connection(pve) -> Connection:
    t = pve.token
    return Connection(ProxmoxOptions(host=pve.host, ca_file=pve.ca_file),
                      Token(t.userid, t.tokenid, t.secret))


def test_a_failed_task_is_diagnosed_with_its_log_and_the_run_resumes(pve, make_lab):
    lab = make_lab(pve)
    pve.state.tasks.fail_next("qmcreate", "unable to create VM 1002 - lvcreate 'pve/vm-1002'"
                              " failed", task_id="1002",
                              log=["  Volume group \"pve\" has insufficient free space"])
    with pytest.raises(StepFailed) as err:
        lab.deploy()
    text = str(err.value)
    assert "'create VM' on node-1 failed: creating VM 1002 (reference-node-1) failed" in text
    assert "lvcreate 'pve/vm-1002' failed" in text
    assert 'Volume group "pve" has insufficient free space' in text  # from the task log
    assert "TASK ERROR" in text and "UPID:pve:" in text
    lab.deploy()  # the cause is gone: the same command finishes the lab
    assert sorted(vm.vmid for vm in pve.state.vms.values()) == [1000, 1001, 1002, 1003]
    assert all(vm.status == "running" for vm in pve.state.vms.values())


def test_a_task_that_does_not_finish_is_given_up_at_the_deadline(pve):
    conn = connection(pve)
    pve.state.tasks.hold("imgcopy")
    upid = pve.client().nodes("pve").storage("local").upload.post(
        content="iso", filename=_named(b"x" * 10, "a.iso"))
    now = [0.0]
    with pytest.raises(TaskFailed) as err:
        wait_task(conn, upid, "uploading a.iso", 30, sleep=lambda s: now.__setitem__(0, now[0]
                                                                                    + s),
                  clock=lambda: now[0])
    assert "uploading a.iso did not finish within 30s" in str(err.value)
    assert "task_timeout" in str(err.value) and err.value.exitstatus is None
    assert now[0] == pytest.approx(30.0)
    pve.state.tasks.release("imgcopy")
    assert wait_task(conn, upid, "uploading a.iso", 5) == "OK"


def test_an_interrupted_create_keeps_its_recorded_vmid(pve, make_lab):
    lab = make_lab(pve)
    pve.api.fail_next("POST", "/nodes/{node}/qemu", status=500,
                      message="cluster not ready - no quorum?")
    with pytest.raises(StepFailed) as err:
        lab.deploy()
    assert "500 cluster not ready - no quorum?" in str(err.value)
    failed = err.value.step.machine
    recorded = lab.ctx().state.resources()[f"proxmox:vm:{failed}"]  # before the create call
    lab.deploy()
    vms = {vm.config["name"]: vm.vmid for vm in pve.state.vms.values()}
    assert len(vms) == 4
    assert vms[lab.plan.machine(failed).resource_name] == recorded["vmid"]


def _named(data: bytes, name: str):
    import io

    f = io.BytesIO(data)
    f.name = name
    return f
