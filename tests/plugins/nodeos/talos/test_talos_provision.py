"""Provisioning against the talosctl stand-in (tests/standins): the whole sequence, a
failure injected at each step with re-runs that finish the job, bootstrap exactly once,
no secret on a command line or in the progress, private files, a re-run that changes
nothing."""

from __future__ import annotations

import json
import stat
import time

import pytest
import yaml

from nativek8s.api import Hypervisor, LabContext, Observer, Step
from nativek8s.core.engine.steps import Progress, StepFailed, run_steps
from nativek8s.plugins.nodeos.talos.talos import Talos
from tests.plugins.nodeos.talos.talos_lab import Lab
from tests.standins import talos_config, talos_sim

INJECTED = [("version", None), ("gen secrets", None), ("gen config", None),
            ("apply-config", "node-2"), ("bootstrap", "node-1"), ("kubeconfig", "node-1")]
# Progress lines of the steps the injected failures break (several may fail in one run:
# bootstrap only waits for node-1's apply, so it can fail beside node-2's).
FAILING_STEPS = {"check talosctl", "Talos secrets", "Talos machine configs",
                 "apply Talos config [node-2]", "bootstrap the cluster [node-1]",
                 "fetch the kubeconfig"}
GENERATING = ("gen secrets", "gen config", "apply-config", "bootstrap")


def deploy(lab: Lab) -> None:
    run_steps(Talos().deploy_steps(lab.context()), Progress(lab.lines.append))


def _secret_values(lab: Lab) -> list[str]:
    state = lab.context().state.dir
    bundle = yaml.safe_load((state / "secrets" / "talos-secrets.yaml").read_text())
    found = talos_config.secret_values(bundle)
    for name in ("talosconfig", "kubeconfig"):
        text = (state / name).read_text()
        found += [line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.strip().startswith(("key:", "client-key-data:"))]
    assert len(found) > 8
    return found


def test_whole_sequence_and_reruns(make_lab) -> None:
    """One lab, deployed, then deployed again: as is, with its bootstrap record lost, and
    with a changed configuration (and the kubeconfig merge asked for)."""
    lab = make_lab()
    deploy(lab)
    done = [line.split("✓ ")[1].split(" (")[0] for line in lab.lines if "✓ " in line]
    order = ["bootstrap the cluster [node-1]", "wait for the Kubernetes API [node-1]",
             "fetch the kubeconfig", "wait for the nodes to register"]
    # These depend on each other; steps of other nodes may finish in between.
    assert [done.index(step) for step in order] == sorted(done.index(step) for step in order)
    assert done[-1] == order[-1]
    assert len(lab.calls("bootstrap")) == 1
    for name in ("node-1", "node-2"):
        node = lab.node(name)
        assert node["stage"] == "running"
        assert node["config"]["hostname"] == f"reference-{name}"
        assert node["config"]["cni"] == "none"
        assert node["config"]["install_disk"] == "/dev/vda"
        assert node["config"]["install_image"].startswith("factory.talos.dev/installer/ce4c98")
        assert node["config"]["labels"]["dc"] == lab.plan.machine(name).datacentre
        assert node["config"]["proxy"] is False
        assert node["config"]["taints"] == {}  # the control plane (node-1) too
    assert lab.node("node-1")["config"]["type"] == "controlplane"
    assert lab.node("node-2")["config"]["type"] == "worker"
    assert "registered; NotReady until the CNI runs" in lab.lines[-1]
    _check_private_and_no_leak(lab)

    # again: nothing is generated, applied or bootstrapped
    calls = len(lab.calls())
    lab.lines.clear()
    deploy(lab)
    assert not [c for c in lab.calls()[calls:] if c[0] in GENERATING or
                " ".join(c[:2]) in GENERATING]
    assert any("already bootstrapped" in line for line in lab.lines)
    assert sum("already applied" in line for line in lab.lines) == 2

    # the record of the bootstrap is lost (a crash right after it): Talos says
    # AlreadyExists, which is recorded; the next run does not even ask
    record = lab.context().state.dir / "backend" / "talos" / "provision.json"
    data = json.loads(record.read_text())
    del data["bootstrapped"]
    record.write_text(json.dumps(data))
    lab.lines.clear()
    deploy(lab)
    assert any("already bootstrapped (etcd data directory not empty)" in line
               for line in lab.lines)
    assert "found bootstrapped" in json.loads(record.read_text())["bootstrapped"]
    assert len(lab.calls("bootstrap")) == 2
    assert lab.node("node-1")["etcd"] is True

    # a changed installer: applied again over the secure API; the kubeconfig merge asked for
    lab.plan = lab.plan.model_copy(update={"options": {"talos": {
        **lab.plan.options["talos"], "install_image": "registry.lab/installer:v1.13.9",
        "merge_kubeconfig": True}}})
    lab.lines.clear()
    deploy(lab)
    assert len(lab.calls("bootstrap")) == 2
    assert sum("configuration changed: applied again" in line for line in lab.lines) == 2
    assert len([c for c in lab.calls("apply-config") if "--insecure" not in c]) == 2
    assert lab.node("node-2")["config"]["install_image"] == "registry.lab/installer:v1.13.9"
    merged = yaml.safe_load((lab.home / ".kube" / "config").read_text())
    assert merged["current-context"] == "admin@reference"


def _check_private_and_no_leak(lab: Lab) -> None:
    state = lab.context().state.dir
    private = [state / "kubeconfig", state / "talosconfig",
               state / "secrets" / "talos-secrets.yaml",
               state / "backend" / "talos" / "generated" / "controlplane.yaml",
               state / "backend" / "talos" / "generated" / "worker.yaml"]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (state / "secrets", state / "backend" / "talos" / "generated"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert not (lab.home / ".kube").exists() and not (lab.home / ".talos").exists()
    secrets = _secret_values(lab)
    assert talos_sim.secrets_in_log(lab.log, secrets) == []
    shown = "\n".join(lab.lines)
    assert not [s for s in secrets if s in shown]
    kubeconfig = yaml.safe_load((state / "kubeconfig").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://10.1.0.10:6443"


def test_failure_at_each_step_then_reruns_finish(make_lab) -> None:
    lab = make_lab()
    for command, node in INJECTED:
        lab.fail(command, node=node)
    runs = 0
    for runs in range(1, len(INJECTED) + 2):  # noqa: B007 (the count is read after the loop)
        try:
            deploy(lab)
            break
        except StepFailed as exc:
            assert "fix the cause and run the same command again" in str(exc)
    else:
        pytest.fail(f"still failing after {runs} runs")
    failed = {line.split("✗ ")[1].split(" (")[0] for line in lab.lines if "✗" in line}
    assert failed == FAILING_STEPS
    assert runs <= len(INJECTED) + 1
    state = lab.state()
    assert not any(state.get("fail", {}).values())  # every injected failure was hit
    assert not any(n.get("fail", {}).get(c) for n in state["nodes"].values() for c, _ in INJECTED)
    bootstraps = lab.calls("bootstrap")
    assert len(bootstraps) == 2  # one refused by the injected failure, one that worked
    assert lab.node("node-1")["etcd"] is True
    assert len(lab.calls("gen secrets")) == 2  # failed once, then generated once, kept
    assert lab.node("node-1")["applies"] == 1 and lab.node("node-2")["applies"] == 1


def test_talos_114_documents_reach_the_nodes(make_lab) -> None:
    """Talos 1.14 (stand-in in its multi-document mode, strict against the 1.14 schema):
    the control-plane patch deletes Flannel and turns kube-proxy off, each node gets its
    install document, label and hostname, and workers get no control-plane-only kind."""
    lab = make_lab("1.14.0-rc.1")
    deploy(lab)
    assert "--config-patch-control-plane" in lab.calls("gen config")[0]
    for node in lab.plan.nodes:
        config = lab.node(node.name)["config"]
        assert config["cni"] == "none"
        assert config["install_disk"] == "/dev/vda"
        assert config["install_image"].endswith(":v1.14.0-rc.1")
        assert config["labels"].get("dc") == node.datacentre
        assert config["hostname"] == node.resource_name
        assert config["taints"] == {}  # control planes run workloads too
    assert lab.node("node-1")["config"]["proxy"] is False
    assert len(lab.calls("bootstrap")) == 1
    assert "registered; NotReady until the CNI runs" in lab.lines[-1]


class PowerCycling(Hypervisor):
    """The hypervisor side of boot_from_disk (libvirt's is tested on its test driver):
    it boots a kernel directly (so the installed disk must be switched to), records the
    call and power-cycles the simulated machine, which boots its disk."""

    name = "power-cycling"
    kernel_boot = True

    def __init__(self, lab: Lab) -> None:
        self.lab, self.calls = lab, []
        self.bootstrapped_before: dict[str, bool] = {}

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        return []

    def destroy(self, ctx: LabContext) -> list[str]:
        return []

    def observer(self, ctx: LabContext) -> Observer:
        raise NotImplementedError("not observed in these tests")

    def boot_from_disk(self, ctx: LabContext, machine: str, restart: bool = False) -> str:
        ip = str(self.lab.plan.machine(machine).address.ip)
        with talos_sim.session(self.lab.sim) as state:
            node = state["nodes"][ip]
            self.calls.append((machine, restart, node["stage"]))
            self.bootstrapped_before[machine] = bool(node.get("etcd"))
            node["boot_seconds"] = 0.05
            talos_sim.set_stage(node, "rebooting", time.time())
        return "boots from disk (restarted)"


def test_installed_nodes_boot_their_disk_once(make_lab) -> None:
    """Where the hypervisor would keep booting the install media (a direct kernel), each
    node is switched to its disk once it runs installed, before bootstrap; not again."""
    lab = make_lab("1.13.9")
    hypervisor = PowerCycling(lab)
    steps = Talos().deploy_steps(lab.context(hypervisor))
    by_key = {s.key: s for s in steps}
    assert by_key["talos:disk-boot:node-1"].after == ("talos:apply:node-1",)
    assert by_key["talos:bootstrap"].after == ("talos:disk-boot:node-1",)
    assert set(by_key["talos:ready"].after) >= {"talos:disk-boot:node-1",
                                               "talos:disk-boot:node-2"}
    run_steps(steps, Progress(lab.lines.append))
    assert sorted(hypervisor.calls) == [("node-1", True, "running"), ("node-2", True, "running")]
    for name in ("node-1", "node-2"):
        history = [stage for stage, _ in lab.node(name)["history"]]
        assert history[-2:] == ["rebooting", "running"]  # came back from its disk
    assert hypervisor.bootstrapped_before == {"node-1": False, "node-2": False}
    assert lab.node("node-1")["etcd"] is True  # bootstrapped after node-1's reboot
    assert any("boot from the installed disk [node-2]" in line for line in lab.lines)
    run_steps(Talos().deploy_steps(lab.context(hypervisor)), Progress(lab.lines.append))
    assert len(hypervisor.calls) == 2  # a re-run does not power-cycle again
    assert len(lab.calls("bootstrap")) == 1


def test_hypervisors_that_boot_the_disk_themselves_get_no_such_step(make_lab) -> None:
    lab = make_lab("1.13.9")  # netns here; Proxmox likewise (disk first in its boot order)
    assert not [s for s in Talos().deploy_steps(lab.context()) if "disk-boot" in s.key]
