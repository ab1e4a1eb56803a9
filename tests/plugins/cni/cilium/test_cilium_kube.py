"""The plugin's Kubernetes access (kube.py) and its deadline waits (wait.py), against the
stand-in API server with the real `kubernetes` client."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("kubernetes")

from nativek8s.core.errors import NativeK8sError
from nativek8s.plugins.cni.cilium.kube import (
    ApplyConflict,
    Kube,
    KubeError,
    MissingKind,
    kubeconfig_path,
    require_kubernetes,
)
from nativek8s.shared.waiting import Poll, WaitTimeout, wait_for
from tests.plugins.cni.cilium.cilium_plans import make_plan
from tests.plugins.cni.cilium.kube_lab import cluster, connect, make_ctx

SECRET = {"apiVersion": "v1", "kind": "Secret",
          "metadata": {"name": "s", "namespace": "kube-system"},
          "data": {"password": "c2VjcmV0LXZhbHVl"}}  # "secret-value"


def test_kubeconfig_is_the_lab_state_one(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    assert kubeconfig_path(ctx) == ctx.state.dir / "kubeconfig"


def test_missing_kubeconfig_says_who_writes_it(tmp_path: Path) -> None:
    with pytest.raises(NativeK8sError, match="node OS plugin writes it"):
        Kube.connect(tmp_path / "kubeconfig")


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_kubernetes(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "kubernetes" or name.startswith("kubernetes."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_kubernetes)
    with pytest.raises(NativeK8sError, match=r"pip install 'nativek8s\[kubernetes\]'"):
        require_kubernetes()


def test_get_list_apply_delete_and_errors(tmp_path: Path) -> None:
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        kube = connect(ctx)
        assert kube.get("v1", "Node", "reference-node-1")["metadata"]["labels"]["dc"] == "dc1"
        assert kube.get("v1", "Node", "absent") is None
        assert [n["metadata"]["name"] for n in kube.list("v1", "Node", label_selector="dc=dc2")] \
            == ["reference-node-2"]
        created = kube.apply(SECRET)
        assert kube.apply(SECRET)["metadata"]["resourceVersion"] == \
            created["metadata"]["resourceVersion"]
        managers = [e["manager"] for e in srv.get("v1", "Secret", "s", "kube-system")
                    ["metadata"]["managedFields"]]
        assert managers == ["nativek8s"]

        other = {**SECRET, "data": {"password": "b3RoZXI="}}
        srv.apply(other, manager="kubectl", namespace="kube-system", force=True)
        with pytest.raises(ApplyConflict) as conflict:
            kube.apply(SECRET)
        assert conflict.value.conflicts == [("kubectl", ".data.password")]
        assert "secret-value" not in str(conflict.value) and "c2VjcmV0" not in str(conflict.value)
        kube.apply(SECRET, force=True)
        assert srv.get("v1", "Secret", "s", "kube-system")["data"] == SECRET["data"]

        assert kube.delete("v1", "Secret", "s", "kube-system") is True
        assert kube.delete("v1", "Secret", "s", "kube-system") is False
        with pytest.raises(MissingKind, match="does not serve CiliumBGPClusterConfig"):
            kube.get("cilium.io/v2", "CiliumBGPClusterConfig", "dc1")
        assert kube.served_versions("cilium.io", "CiliumBGPClusterConfig") == []
        srv.inject_fault("/api/v1/nodes", code=500, message="etcd is down")
        with pytest.raises(KubeError, match="list Node: HTTP 500 InternalError: etcd is down"):
            kube.list("v1", "Node")
    with pytest.raises(KubeError, match="get Node reference-node-1: no answer"):
        connect(ctx).get("v1", "Node", "reference-node-1")  # the server is gone


def test_wait_returns_when_done_and_counts_polls() -> None:
    answers = iter([Poll(False, "0/2"), Poll(False, "1/2"), Poll(True, "2/2")])
    assert wait_for("x", "y", lambda: next(answers), timeout=60, interval=0).answer == "2/2"


def test_wait_diagnosis_names_what_was_polled_and_the_last_answer() -> None:
    seen = []

    def probe() -> Poll:
        seen.append(1)
        if len(seen) == 1:
            raise KubeError("get DaemonSet cilium", 503, "ServiceUnavailable", "starting")
        return Poll(False, f"agents 0/2 ready (poll {len(seen)})")

    with pytest.raises(WaitTimeout) as err:
        wait_for("Cilium ready", "DaemonSet kube-system/cilium", probe, timeout=0.05,
                 interval=0.01, hint="kubectl get pods")
    text = str(err.value)
    assert text.startswith("Cilium ready: not done after 0.05 s; polled "
                           "DaemonSet kube-system/cilium ")
    assert f"{len(seen)} times; last answer: agents 0/2 ready (poll {len(seen)})" in text
    assert text.endswith("look at: kubectl get pods")


def test_wait_polls_once_with_no_time() -> None:
    with pytest.raises(WaitTimeout, match="polled p 1 time; last answer: no"):
        wait_for("w", "p", lambda: Poll(False, "no"), timeout=0)


def test_discovery_errors_are_kube_errors(tmp_path: Path) -> None:
    # (A 503 is different: the client's discovery takes it for an unavailable aggregated
    # API and reports the kind as not served.)
    ctx = make_ctx(make_plan(), tmp_path)
    with cluster(ctx) as srv:
        kube = connect(ctx)
        srv.inject_fault(r"^/apis/apps/v1$", code=500, reason="InternalError",
                         message="apiserver is starting", times=None)
        with pytest.raises(KubeError) as err:
            kube.get("apps/v1", "DaemonSet", "cilium", "kube-system")
    assert str(err.value) == ("discover DaemonSet in apps/v1: HTTP 500 InternalError: "
                              "apiserver is starting")
