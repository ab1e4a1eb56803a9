"""Every wait of the talos provisioning has a deadline, and its error says what was polled
and what the last answer was (talosctl stand-in; tiny deadlines, no timing assertions)."""

from __future__ import annotations

import pytest

from nativek8s.api import NativeK8sError
from nativek8s.core.engine.steps import Progress, StepFailed, run_steps
from nativek8s.plugins.nodeos.talos.provision import Provisioner
from nativek8s.plugins.nodeos.talos.talos import Talos
from nativek8s.shared.waiting import WaitTimeout
from tests.plugins.nodeos.talos.talos_lab import FAST, Lab
from tests.plugins.nodeos.talos.talos_plans import reference
from tests.standins import talos_sim

SHORT = {"maintenance_timeout": 0.2, "api_timeout": 0.2, "ready_timeout": 0.2,
         "install_timeout": 0.2}


def _set(lab: Lab, name: str, **fields: object) -> None:
    with talos_sim.session(lab.sim) as state:
        state["nodes"][str(lab.plan.machine(name).address.ip)].update(fields)


def test_maintenance_deadline_then_a_rerun(make_lab) -> None:
    lab = make_lab(**SHORT)
    _set(lab, "node-2", stage="booting", boot_seconds=3600)
    with pytest.raises(StepFailed) as err:
        run_steps(Talos().deploy_steps(lab.context()), Progress(lab.lines.append))
    assert err.value.step.key == "talos:maintenance:node-2"
    message = str(err.value)
    assert "node-2 (10.2.0.10) in maintenance mode: not done after 0.2 s; polled " in message
    assert "`talosctl get machinestatus --insecure --nodes 10.2.0.10 --output json` " in message
    assert "last answer: rpc error: code = Unavailable" in message
    assert "connect: connection refused" in message
    assert "does 10.2.0.10 answer on TCP 50000?" in message
    _set(lab, "node-2", boot_seconds=0)  # the machine comes up: the same deploy finishes
    lab.plan = reference(options={"talos": FAST})
    run_steps(Talos().deploy_steps(lab.context()), Progress(lab.lines.append))
    assert lab.node("node-2")["stage"] == "running"


def test_api_and_ready_deadlines_name_the_missing_piece(make_lab) -> None:
    lab = make_lab(**SHORT)
    _set(lab, "node-2", install_seconds=3600)
    prov = Provisioner(lab.context())
    prov.preflight()
    prov.secrets()
    prov.config()
    for node in lab.plan.nodes:
        prov.maintenance(node)
        prov.apply(node)
    # installing: the control plane does not answer yet
    with pytest.raises(WaitTimeout, match=r"node-1 \(10.1.0.10\) installed and running"):
        prov._wait_secure("node-1 (10.1.0.10) installed and running", prov.first,
                          lambda s: False, 0.2, "")
    prov.options = prov.options.model_copy(update={"api_timeout": 0.5})
    # running but never bootstrapped: no etcd, so no API
    with pytest.raises(WaitTimeout) as err:
        prov.api()
    message = str(err.value)
    assert message.startswith("Kubernetes API on node-1: not done after 0.5 s")
    assert "--nodes 10.1.0.10 --endpoints 10.1.0.10 --talosconfig" in message
    assert "last answer: 10.1.0.10: running, services: etcd not running" in message
    assert "services` and `... dmesg`" in message
    prov.bootstrap()
    prov.api()
    prov.kubeconfig()
    # node-2 still installing: registered is what is waited for, and it names node-2
    with pytest.raises(WaitTimeout) as err:
        prov.ready()
    message = str(err.value)
    assert message.startswith("2 node(s) registered with Kubernetes: not done after 0.2 s")
    assert "last answer: 10.2.0.10: " in message and "connection refused" in message
    last = message.split("last answer: ")[1].split("; look at: a node's kubelet")[0]
    assert last.startswith("10.2.0.10: ") and "10.1.0.10" not in last  # node-1 registered
    _set(lab, "node-2", install_seconds=0)
    assert "2 node(s) registered" in prov.ready()


def test_node_of_another_cluster_is_refused(make_lab) -> None:
    lab = make_lab()
    _set(lab, "node-2", stage="running", config={"type": "worker", "ca": "another CA"})
    prov = Provisioner(lab.context())
    prov.preflight()
    prov.secrets()
    prov.config()
    node = lab.plan.machine("node-2")
    assert "configured already" in prov.maintenance(node)
    with pytest.raises(NativeK8sError, match=r"node-2 \(10.2.0.10\) is configured for another "
                                             r"cluster.*talosctl reset"):
        prov.apply(node)
