"""Reading MachineStatus output and waiting with a deadline (no processes, a fake clock)."""

from __future__ import annotations

import json

import pytest

from nativek8s.api import NativeK8sError
from nativek8s.plugins.nodeos.talos.status import node_error, parse_statuses
from nativek8s.shared.waiting import Poll, WaitTimeout, wait_for


def _status(node: str, stage: str, *unmet: tuple[str, str]) -> dict:
    return {"node": node, "metadata": {"type": "MachineStatuses.runtime.talos.dev"},
            "spec": {"stage": stage, "status": {
                "ready": not unmet,
                "unmetConditions": [{"name": n, "reason": r} for n, r in unmet]}}}


def test_stream_of_objects_and_what_registered_means() -> None:
    text = "\n".join(json.dumps(o, indent=4) for o in [
        _status("10.1.0.10", "running", ("nodeReady", 'node "lab-n1" is not ready')),
        _status("10.2.0.10", "running", ("nodeReady", 'node "lab-n2" status is not available yet')),
        _status("10.3.0.10", "running", ("services", "etcd not running"),
                ("nodeReady", 'node "lab-n3" is not ready')),
        _status("10.4.0.10", "booting"),
        _status("10.5.0.10", "running"),
    ])
    found = parse_statuses(text)
    assert [s.node for s in found] == ["10.1.0.10", "10.2.0.10", "10.3.0.10", "10.4.0.10",
                                       "10.5.0.10"]
    assert [s.registered for s in found] == [True, False, False, False, True]
    assert found[2].describe() == ('10.3.0.10: running, services: etcd not running; '
                                   'nodeReady: node "lab-n3" is not ready')
    assert found[4].describe() == "10.5.0.10: running, ready"
    assert parse_statuses("  \n") == []
    with pytest.raises(NativeK8sError, match="cannot read talosctl's MachineStatus output"):
        parse_statuses('{"node": "x"}')


def test_node_error_picks_the_node_of_a_multi_node_error() -> None:
    stderr = ("2 errors occurred:\n\t* 10.1.0.10: rpc error: code = Unavailable\n"
              "\t* 10.2.0.10: connect: connection refused\n\n")
    assert node_error(stderr, "10.2.0.10") == "connect: connection refused"
    assert node_error("rpc error: boom\n", "10.2.0.10") == "rpc error: boom"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_returns_when_done_and_reports_when_expired() -> None:
    clock = Clock()
    answers = iter([Poll(False, "booting"), Poll(False, "booting"), Poll(True, "up")])
    assert wait_for("x", "probe", lambda: next(answers), 10, 2, clock=clock,
                    sleep=clock.sleep).answer == "up"
    assert clock.sleeps == [2, 2]
    clock = Clock()
    with pytest.raises(WaitTimeout) as err:
        wait_for("node-1 in maintenance mode", "talosctl get machinestatus", lambda:
                 Poll(False, "connection refused"), 5, 2, hint="is it running?",
                 clock=clock, sleep=clock.sleep)
    assert str(err.value) == ("node-1 in maintenance mode: not done after 5 s; polled "
                              "talosctl get machinestatus 4 times; last answer: connection "
                              "refused; look at: is it running?")
    assert clock.sleeps == [2, 2, 1]  # never sleeps past the deadline
