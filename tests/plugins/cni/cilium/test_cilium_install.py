"""Installing Cilium (install.py, release.py, readiness.py) with the helm and cilium CLI
stand-ins against the stand-in API server: pinned chart, the plan's values, idempotent
re-runs, upgrades, injected failures and readiness deadlines."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("kubernetes")

from nativek8s.core.errors import NativeK8sError
from nativek8s.plugins.cni.cilium.install import (
    Installer,
    choose_installer,
    ensure_installed,
    install_argv,
)
from nativek8s.plugins.cni.cilium.kube import kubeconfig_path
from nativek8s.plugins.cni.cilium.options import options_of
from nativek8s.plugins.cni.cilium.readiness import wait_cilium_ready
from nativek8s.plugins.cni.cilium.release import current_release
from nativek8s.plugins.cni.cilium.values import helm_values
from nativek8s.shared.waiting import WaitTimeout
from tests.plugins.cni.cilium.cilium_plans import make_plan, with_cilium
from tests.plugins.cni.cilium.kube_lab import calls, cluster, connect, make_ctx


def which_of(*present: str):
    return lambda name: f"/opt/bin/{name}" if name in present else None


def test_installer_choice() -> None:
    assert choose_installer("auto", which_of("helm", "cilium")) == Installer("helm", "/opt/bin/helm")
    assert choose_installer("auto", which_of("cilium")).kind == "cilium-cli"
    assert choose_installer("cilium-cli", which_of("helm", "cilium")).kind == "cilium-cli"
    with pytest.raises(NativeK8sError, match="neither `helm` nor the `cilium` CLI is on PATH"):
        choose_installer("auto", which_of())
    with pytest.raises(NativeK8sError, match="installer is helm, but `helm` is not on PATH"):
        choose_installer("helm", which_of("cilium"))


def test_argv_pins_the_chart_and_names_the_lab_kubeconfig() -> None:
    helm = install_argv(Installer("helm", "helm"), "1.18.4", Path("/s/kubeconfig"),
                        Path("/s/values.yaml"), upgrade=False)
    assert helm == ["helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                    "https://helm.cilium.io", "--version", "1.18.4", "--namespace", "kube-system",
                    "--kubeconfig", "/s/kubeconfig", "--values", "/s/values.yaml",
                    "--reset-values"]
    cli = Installer("cilium-cli", "cilium")
    assert install_argv(cli, "1.18.4", Path("k"), Path("v"), upgrade=False)[:2] == \
        ["cilium", "install"]
    assert install_argv(cli, "1.18.4", Path("k"), Path("v"), upgrade=True)[-1] == "--reset-values"


def test_helm_installs_once_then_upgrades_when_the_plan_changes(tmp_path: Path, tools: Path,
                                                                upstream_file) -> None:
    upstream_file("cilium/values.schema.1.18.0-dev.json")  # helm checks 1.18 values against it
    plan = make_plan()
    ctx = make_ctx(plan, tmp_path / "state")
    values = tmp_path / "values.yaml"
    installer = choose_installer("helm")
    with cluster(ctx) as srv:
        kube = connect(ctx)
        note = ensure_installed(kube, installer, plan, options_of(plan), kubeconfig_path(ctx),
                                values)
        assert note == "installed chart 1.18.0 with helm"
        call, = calls(tools)
        assert call["argv"][:2] == ["upgrade", "--install"]
        assert call["argv"][call["argv"].index("--version") + 1] == "1.18.0"
        assert call["argv"][call["argv"].index("--kubeconfig") + 1] == str(kubeconfig_path(ctx))
        assert call["env"]["KUBECONFIG"] == str(kubeconfig_path(ctx))
        release = current_release(kube, "kube-system", "cilium")
        assert release is not None
        assert (release.status, release.chart_version, release.revision) == ("deployed", "1.18.0", 1)
        assert release.values == helm_values(plan, options_of(plan)) == yaml.safe_load(
            values.read_text())
        assert srv.get("apps/v1", "DaemonSet", "cilium", "kube-system") is not None

        again = ensure_installed(kube, installer, plan, options_of(plan), kubeconfig_path(ctx),
                                 values)
        assert again == "chart 1.18.0 already deployed (revision 1)"
        assert len(calls(tools)) == 1

        changed = make_plan({"options": {"cilium": {"ipam": "cluster-pool"}}})
        note = ensure_installed(kube, installer, changed, options_of(changed),
                                kubeconfig_path(ctx), values)
        assert note == "upgraded chart 1.18.0 with helm"
        release = current_release(kube, "kube-system", "cilium")
        assert release is not None and release.revision == 2
        assert release.values["ipam"]["mode"] == "cluster-pool"


def test_cilium_cli_installs_then_upgrades(tmp_path: Path, tools: Path) -> None:
    plan = make_plan(with_cilium("1.17.3", installer="cilium-cli"))
    ctx = make_ctx(plan, tmp_path / "state")
    installer = choose_installer(options_of(plan).installer)
    with cluster(ctx) as srv:
        kube = connect(ctx)
        args = (kubeconfig_path(ctx), tmp_path / "values.yaml")
        assert ensure_installed(kube, installer, plan, options_of(plan), *args) == \
            "installed chart 1.17.3 with cilium"
        pinned = make_plan(with_cilium("1.17.3", installer="cilium-cli", chart_version="1.17.4"))
        assert ensure_installed(kube, installer, pinned, options_of(pinned), *args) == \
            "upgraded chart 1.17.4 with cilium"
        verbs = [c["argv"][0] for c in calls(tools)]
        assert verbs == ["install", "upgrade"]
        image = srv.get("apps/v1", "DaemonSet", "cilium", "kube-system")["spec"]["template"][
            "spec"]["containers"][0]["image"]
        assert image.endswith(":v1.17.4")


def test_install_failure_is_reported_with_the_tool_message(tmp_path: Path, tools: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NK8S_STANDIN_FAIL", "install")
    plan = make_plan()
    ctx = make_ctx(plan, tmp_path / "state")
    with cluster(ctx) as srv:
        with pytest.raises(NativeK8sError) as err:
            ensure_installed(connect(ctx), choose_installer("helm"), plan, options_of(plan),
                             kubeconfig_path(ctx), tmp_path / "values.yaml")
        assert str(err.value) == ("`helm upgrade --install` failed (exit 1): Error: injected "
                                  "failure (NK8S_STANDIN_FAIL)")
        assert srv.objects("apps/v1", "DaemonSet", "kube-system") == []


def test_readiness_waits_for_agents_and_operator(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        srv.install_cilium("1.18.0")
        srv.script_ready("Deployment", "cilium-operator", after=3)
        note = wait_cilium_ready(connect(ctx), timeout=60, interval=0)
        assert note == "agents 2/2 ready; operator 1/1 ready"
        assert srv.polls("Deployment", "cilium-operator") >= 4


def test_never_ready_operator_ends_at_the_deadline_with_a_diagnosis(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        srv.install_cilium("1.18.0")
        srv.never_ready("Deployment", "cilium-operator")
        with pytest.raises(WaitTimeout) as err:
            wait_cilium_ready(connect(ctx), timeout=0.05, interval=0.01)
    text = str(err.value)
    assert text.startswith("Cilium agents and operator ready: not done after 0.05 s; polled "
                           "DaemonSet kube-system/cilium, Deployment kube-system/cilium-operator "
                           "and their pods ")
    assert ("last answer: agents 2/2 ready; operator 0/1 ready (Available=False: Deployment "
            "does not have minimum availability.); cilium-operator-") in text
    assert "look at: kubectl -n kube-system get pods -l k8s-app=cilium" in text


def test_missing_workloads_are_named(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx), pytest.raises(WaitTimeout) as err:
        wait_cilium_ready(connect(ctx), timeout=0)
    assert "last answer: DaemonSet cilium not found; Deployment cilium-operator not found" \
        in str(err.value)


ONE_NODE = {"datacentres": {"dc1": {"nodes": {"node-1": {"role": "controlplane"}}}}}


def test_operator_replicas_are_no_more_than_the_nodes() -> None:
    plan = make_plan(ONE_NODE)
    assert len(plan.nodes) == 1
    assert helm_values(plan, options_of(plan))["operator"] == {"replicas": 1}
    assert helm_values(make_plan(), options_of(make_plan()))["operator"] == {"replicas": 2}


def test_one_node_lab_gets_one_operator_and_is_ready(tmp_path: Path, tools: Path,
                                                     upstream_file) -> None:
    """The chart's two operators may not share a node (required anti-affinity): in a
    one-node lab the second would stay Pending and readiness would wait to its deadline."""
    upstream_file("cilium/values.schema.1.18.0-dev.json")  # helm checks 1.18 values against it
    plan = make_plan(ONE_NODE)
    ctx = make_ctx(plan, tmp_path / "state")
    with cluster(ctx) as srv:
        kube = connect(ctx)
        ensure_installed(kube, choose_installer("helm"), plan, options_of(plan),
                         kubeconfig_path(ctx), tmp_path / "values.yaml")
        assert wait_cilium_ready(kube, timeout=10, interval=0).endswith("operator 1/1 ready")
        # the chart's default on this one node: the stand-in schedules one, as Kubernetes does
        srv.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "cilium-operator", "namespace": "kube-system"},
                   "spec": {"replicas": 2}}, manager="kubectl", namespace="kube-system",
                  force=True)
        with pytest.raises(WaitTimeout, match="operator 1/2 ready"):
            wait_cilium_ready(kube, timeout=0, interval=0)
