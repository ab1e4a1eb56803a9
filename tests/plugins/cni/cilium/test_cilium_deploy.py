"""The plugin's deploy steps run by core's step runner against the stand-ins (install →
labels → BGP resources → sessions), run again as ensures, with failures injected; then
its cluster checks and observer on the deployed lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("kubernetes")

from nativek8s.api import NativeK8sError
from nativek8s.core.engine.steps import Progress, StepFailed, run_steps
from nativek8s.plugins.cni.cilium.cilium import Cilium
from nativek8s.plugins.cni.cilium.probes import PROBE
from tests.plugins.cni.cilium.cilium_plans import make_plan, with_cilium
from tests.plugins.cni.cilium.kube_lab import Ctx, calls, cluster, make_ctx
from tests.standins.kube_api import KubeApiServer, crds_or_skip
from tests.support.launchers import write_launchers


def agents_establish_sessions(srv: KubeApiServer) -> None:
    """Stand in for the agents: a node's sessions come up once its node config exists."""
    def hook(event: str, rtype: Any, obj: dict[str, Any]) -> None:
        if rtype.kind == "CiliumBGPNodeConfig" and event == "ADDED":
            srv.set_bgp_peer_state(obj["metadata"]["name"], "established")
    srv.store.hooks.append(hook)


def run(ctx: Ctx, steps: list | None = None) -> dict[str, str]:
    """Run the plugin's steps; step title → its note."""
    lines: list[str] = []
    steps = steps if steps is not None else Cilium().deploy_steps(ctx)
    run_steps(steps, Progress(lines.append), workers=4)
    return {s.title: line.split(" — ", 1)[1] for s in steps for line in lines
            if f"✓ {s.title} (" in line}


@pytest.fixture
def deployed(tmp_path: Path, tools: Path) -> Iterator[tuple[Ctx, KubeApiServer]]:
    crds_or_skip("1.18")
    ctx = make_ctx(make_plan(), tmp_path / "state")
    # registered as with the controller-manager's node IPAM off: no PodCIDRs yet
    with cluster(ctx, labelled=False, pod_cidrs=False) as srv:
        agents_establish_sessions(srv)
        yield ctx, srv


def test_steps_and_their_order(tmp_path: Path, tools: Path) -> None:
    steps = Cilium().deploy_steps(make_ctx(make_plan(), tmp_path))
    assert [(s.key, s.title, s.after) for s in steps] == [
        ("cilium:podcidrs", "give every node its planned PodCIDR", ()),
        ("cilium:install", "install Cilium 1.18.0 (helm)", ("cilium:podcidrs",)),
        ("cilium:labels", "label nodes with their datacentre", ()),
        ("cilium:bgp", "apply Cilium BGP resources", ("cilium:install", "cilium:labels")),
        ("cilium:bgp-wait", "wait for every node to announce its PodCIDR over BGP",
         ("cilium:bgp",))]


def test_deploy_then_deploy_again(deployed: tuple[Ctx, KubeApiServer], tools: Path) -> None:
    ctx, srv = deployed
    first = run(ctx)
    assert first == {
        "give every node its planned PodCIDR": "2 set from the plan, 0 already right",
        "install Cilium 1.18.0 (helm)": "installed chart 1.18.0 with helm; agents 2/2 ready; "
                                        "operator 2/2 ready",
        "label nodes with their datacentre": "2 changed",
        "apply Cilium BGP resources": "6 created",
        "wait for every node to announce its PodCIDR over BGP":
            "reference-node-1: 10.1.0.1 established, advertising 1; "
            "reference-node-2: 10.2.0.1 established, advertising 1"}
    assert [srv.node(n)["spec"]["podCIDRs"] for n in ("reference-node-1", "reference-node-2")] \
        == [["10.244.0.0/24"], ["10.244.1.0/24"]]
    assert srv.node("reference-node-1")["metadata"]["labels"]["dc"] == "dc1"
    assert len(srv.objects("cilium.io/v2", "CiliumBGPNodeConfig")) == 2
    again = run(ctx)
    assert again["install Cilium 1.18.0 (helm)"].startswith(
        "chart 1.18.0 already deployed (revision 1)")
    assert again["label nodes with their datacentre"] == "2 unchanged"
    assert again["give every node its planned PodCIDR"] == "0 set from the plan, 2 already right"
    assert again["apply Cilium BGP resources"] == "6 unchanged"
    assert [c["tool"] for c in calls(tools)] == ["helm"]


def test_cluster_checks_and_observer_after_deploy(deployed: tuple[Ctx, KubeApiServer]) -> None:
    ctx, srv = deployed
    run(ctx)
    results = Cilium().cluster_checks(ctx)
    assert [r for r in results if not r.ok] == []
    assert sorted({r.check for r in results}) == ["bgp", "overlay", "podcidr", "routes",
                                                  "source", "tcp"]
    node1, node2 = ctx.plan.nodes
    with Cilium().observer(ctx) as observer:
        sessions = observer.node_bgp_sessions(node1)
        assert [(s.peer, s.established) for s in sessions] == [("10.1.0.1", True)]
        seen = observer.client_address(node1, node2)
        assert (seen.ok, seen.value) == (True, observer.probe_address(node1))
        assert seen.value != str(node1.probe_pod)  # IPAM chooses, not the plan
    assert not [p for p in srv.objects("v1", "Pod", "default")
                if PROBE in p["metadata"].get("labels", {})]


def test_install_failure_stops_before_the_bgp_resources(deployed: tuple[Ctx, KubeApiServer],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, srv = deployed
    monkeypatch.setenv("NK8S_STANDIN_FAIL", "install")
    with pytest.raises(StepFailed) as err:
        run(ctx)
    assert str(err.value).startswith(
        "step 'install Cilium 1.18.0 (helm)' failed: `helm upgrade --install` failed (exit 1): "
        "Error: injected failure (NK8S_STANDIN_FAIL)")
    assert not [r for r in srv.requests if r.path.startswith("/apis/cilium.io")
                and r.method != "GET"]


def test_never_ready_operator_fails_the_install_step(tmp_path: Path, tools: Path,
                                                     upstream_file) -> None:
    upstream_file("cilium/values.schema.1.18.0-dev.json")  # helm checks 1.18 values against it
    ctx = make_ctx(make_plan({"options": {"cilium": {"ready_timeout": 0}}}), tmp_path)
    with cluster(ctx) as srv:
        srv.never_ready("Deployment", "cilium-operator")
        with pytest.raises(StepFailed) as err:
            run(ctx)
    assert "Cilium agents and operator ready: not done after 0 s; polled DaemonSet " \
           "kube-system/cilium, Deployment kube-system/cilium-operator" in str(err.value)
    assert "operator 0/2 ready (Available=False" in str(err.value)


def test_peering_policy_without_the_cilium_cli_is_not_waited_for(
        tmp_path: Path, tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crds_or_skip("1.17")
    only_helm = write_launchers(tmp_path / "only-helm", ("helm",))
    monkeypatch.setenv("PATH", str(only_helm))
    ctx = make_ctx(make_plan(with_cilium("1.17.3", peering_policy=True)), tmp_path / "state")
    with cluster(ctx) as srv:
        notes = run(ctx)
        assert len(srv.objects("cilium.io/v2alpha1", "CiliumBGPPeeringPolicy")) == 2
    assert notes["wait for every node to announce its PodCIDR over BGP"] == (
        "not waited: CiliumBGPPeeringPolicy reports no status through the API, and the cilium "
        "CLI (`cilium bgp peers`) is not on PATH")


def test_no_installer_is_refused_before_any_step(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NativeK8sError, match="neither `helm` nor the `cilium` CLI is on PATH"):
        Cilium().deploy_steps(make_ctx(make_plan(), tmp_path))


def test_verify_names_a_node_whose_pod_cidr_is_not_the_plans(
        deployed: tuple[Ctx, KubeApiServer]) -> None:
    """node-2 re-joins and something else (node IPAM left on) gives it another PodCIDR: the
    cluster checks verify runs fail naming it, its planned and its actual prefix."""
    ctx, srv = deployed
    run(ctx)
    node2 = ctx.plan.machine("node-2")
    srv.store.delete(srv.rtype("v1", "Node"), "", "reference-node-2")
    srv.add_node("reference-node-2", {"dc": "dc2"}, internal_ip=str(node2.address.ip),
                 pod_cidr="10.244.9.0/24")
    failed = [r for r in Cilium().cluster_checks(ctx) if not r.ok and r.check == "podcidr"]
    assert [(r.subject, r.expected, r.machine) for r in failed] == [
        ("node-2 (reference-node-2)", "10.244.1.0/24", "node-2")]
    assert failed[0].observed.startswith("10.244.9.0/24 (its router accepts only "
                                         "10.244.1.0/24 from it")
    assert "kubectl delete node reference-node-2" in failed[0].hint
    with pytest.raises(StepFailed, match="node reference-node-2 has PodCIDR 10.244.9.0/24 but "
                                         "the plan gives it 10.244.1.0/24"):
        run(ctx)  # deploy again says what to do, and changes nothing
