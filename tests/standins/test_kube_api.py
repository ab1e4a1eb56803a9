"""The Kubernetes API stand-in, driven by the official `kubernetes` Python client."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from tests.standins.kube_api import KubeApiServer, crds_available, crds_or_skip, kube_api_server  # noqa: E402

APPLY = "application/apply-patch+yaml"
GROUP, PLURAL = "cilium.io", "ciliumbgpclusterconfigs"


def cluster_config(version: str = "v2", asn: int = 65001, peer_asn: int = 65000) -> dict[str, Any]:
    return {"apiVersion": f"cilium.io/{version}", "kind": "CiliumBGPClusterConfig",
            "metadata": {"name": "dc1"},
            "spec": {"nodeSelector": {"matchLabels": {"dc": "dc1"}},
                     "bgpInstances": [{"name": "dc1", "localASN": asn, "peers": [
                         {"name": "router-1", "peerAddress": "10.1.0.1", "peerASN": peer_asn}]}]}}


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    return tmp_path / "kubeconfig"


@pytest.fixture
def server(kubeconfig: Path) -> Iterator[KubeApiServer]:
    crds = "1.18" if crds_available("1.18") else None  # tests that need them skip themselves
    with kube_api_server(kubeconfig, nodes={"node-1": {"dc": "dc1"}, "node-2": {"dc": "dc2"}},
                         cilium_crds=crds) as srv:
        yield srv


@pytest.fixture
def api(server: KubeApiServer, kubeconfig: Path) -> Any:
    return config.new_client_from_config(config_file=str(kubeconfig))


def apply(api: Any, body: dict[str, Any], manager: str, force: bool | None = None) -> None:
    version = body["apiVersion"].split("/")[1]
    client.CustomObjectsApi(api).patch_cluster_custom_object(
        GROUP, version, PLURAL, body["metadata"]["name"], body, field_manager=manager,
        force=force, _content_type=APPLY)


def read(api: Any, version: str = "v2") -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, version, PLURAL, "dc1")


def test_kubeconfig_is_private_and_loads_with_load_kube_config(server: KubeApiServer,
                                                               kubeconfig: Path) -> None:
    assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
    config.load_kube_config(config_file=str(kubeconfig))
    names = [n.metadata.name for n in client.CoreV1Api().list_node().items]
    assert names == ["node-1", "node-2"]
    assert server.token not in json.dumps([r.query for r in server.requests])


def test_wrong_token_is_unauthorized(server: KubeApiServer, kubeconfig: Path) -> None:
    cfg = client.Configuration()
    cfg.host = server.url
    cfg.api_key = {"BearerToken": "not-the-token"}
    cfg.api_key_prefix = {"BearerToken": "Bearer"}
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(client.ApiClient(cfg)).list_node()
    assert err.value.status == 401


def test_ssa_creates_updates_and_is_idempotent(api: Any, server: KubeApiServer) -> None:
    crds_or_skip("1.18")
    apply(api, cluster_config(), "nativek8s")
    created = read(api)
    assert created["spec"]["bgpInstances"][0]["localASN"] == 65001
    # peerASN has a schema default of 0; a given value wins, and defaults fill in the rest
    assert created["metadata"]["generation"] == 1
    entry, = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("nativek8s", "Apply")
    assert 'k:{"name":"dc1"}' in entry["fieldsV1"]["f:spec"]["f:bgpInstances"]

    apply(api, cluster_config(), "nativek8s")
    assert read(api)["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    apply(api, cluster_config(asn=65011), "nativek8s")
    updated = read(api)
    assert updated["spec"]["bgpInstances"][0]["localASN"] == 65011
    assert updated["metadata"]["generation"] == 2
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_ssa_removes_fields_the_manager_stopped_applying(api: Any) -> None:
    crds_or_skip("1.18")
    apply(api, cluster_config(), "nativek8s")
    body = cluster_config()
    del body["spec"]["nodeSelector"]
    apply(api, body, "nativek8s")
    assert "nodeSelector" not in read(api)["spec"]


def test_conflict_with_another_manager_without_force(api: Any) -> None:
    crds_or_skip("1.18")
    apply(api, cluster_config(), "nativek8s")
    with pytest.raises(ApiException) as err:
        apply(api, cluster_config(asn=65099), "someone-else")
    assert err.value.status == 409
    status = json.loads(err.value.body)
    assert (status["kind"], status["status"], status["reason"], status["code"]) == \
        ("Status", "Failure", "Conflict", 409)
    cause, = status["details"]["causes"]
    assert cause == {"reason": "FieldManagerConflict", "message": 'conflict with "nativek8s"',
                     "field": '.spec.bgpInstances[name="dc1"].localASN'}
    assert status["message"].startswith("Apply failed with 1 conflict")
    assert read(api)["spec"]["bgpInstances"][0]["localASN"] == 65001

    # Same value is shared ownership, not a conflict; force takes the field over.
    apply(api, cluster_config(), "someone-else")
    apply(api, cluster_config(asn=65099), "someone-else", force=True)
    owners = {e["manager"]: e["fieldsV1"] for e in read(api)["metadata"]["managedFields"]}
    instance = 'k:{"name":"dc1"}'
    assert "f:localASN" in owners["someone-else"]["f:spec"]["f:bgpInstances"][instance]
    assert "f:localASN" not in owners["nativek8s"]["f:spec"]["f:bgpInstances"][instance]


def test_update_by_another_manager_takes_ownership_silently(api: Any, server: KubeApiServer) -> None:
    crds_or_skip("1.18")
    apply(api, cluster_config(), "nativek8s")
    client.CustomObjectsApi(api).patch_cluster_custom_object(
        GROUP, "v2", PLURAL, "dc1", {"spec": {"nodeSelector": {"matchLabels": {"dc": "x"}}}},
        field_manager="kubectl-edit")
    with pytest.raises(ApiException) as err:
        apply(api, cluster_config(), "nativek8s")
    assert err.value.status == 409
    assert '"kubectl-edit" using cilium.io/v2 at' in json.loads(err.value.body)["message"]


def test_schema_invalid_cluster_config_is_422(api: Any) -> None:
    crds_or_skip("1.18")
    body = cluster_config(asn=0)
    body["spec"]["bgpInstances"][0]["peers"][0]["peerAddress"] = "10.1.0.300"
    body["spec"]["nodeSelector"] = {"matchExpressions": [{"key": "dc", "operator": "Equals"}]}
    with pytest.raises(ApiException) as err:
        apply(api, body, "nativek8s")
    assert err.value.status == 422
    status = json.loads(err.value.body)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('CiliumBGPClusterConfig.cilium.io "dc1" is invalid: [')
    causes = {c["field"]: c for c in status["details"]["causes"]}
    assert causes["spec.bgpInstances[0].localASN"]["message"] == \
        "Invalid value: 0: spec.bgpInstances[0].localASN in body should be greater than or equal to 1"
    assert causes["spec.bgpInstances[0].peers[0].peerAddress"]["reason"] == "FieldValueInvalid"
    assert causes["spec.nodeSelector.matchExpressions[0].operator"]["reason"] == "FieldValueNotSupported"
    with pytest.raises(ApiException):
        read(api)


def test_missing_required_field_is_422(api: Any) -> None:
    crds_or_skip("1.18")
    body = cluster_config()
    del body["spec"]["bgpInstances"]
    with pytest.raises(ApiException) as err:
        apply(api, body, "nativek8s")
    assert err.value.status == 422
    cause, = json.loads(err.value.body)["details"]["causes"]
    assert cause == {"reason": "FieldValueRequired", "message": "Required value",
                     "field": "spec.bgpInstances"}


def test_apply_needs_a_field_manager(api: Any) -> None:
    crds_or_skip("1.18")
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).patch_cluster_custom_object(
            GROUP, "v2", PLURAL, "dc1", cluster_config(), _content_type=APPLY)
    assert err.value.status == 422
    assert "fieldManager: Required value" in json.loads(err.value.body)["message"]


def test_unknown_version_and_absent_crds_are_404(api: Any, kubeconfig: Path) -> None:
    crds_or_skip("1.18")
    with pytest.raises(ApiException) as err:
        apply(api, {**cluster_config(), "apiVersion": "cilium.io/v3"}, "nativek8s")
    assert err.value.status == 404
    with kube_api_server(kubeconfig.with_name("bare"), nodes=["n"]):
        bare_api = config.new_client_from_config(config_file=str(kubeconfig.with_name("bare")))
        with pytest.raises(ApiException) as err:
            apply(bare_api, cluster_config(), "nativek8s")
        assert err.value.status == 404
        assert json.loads(err.value.body)["message"] == \
            "the server could not find the requested resource"
        groups = client.ApisApi(bare_api).get_api_versions()
        assert "cilium.io" not in [g.name for g in groups.groups]


@pytest.mark.parametrize("version,served", [("1.16", "v2alpha1"), ("1.17", "v2alpha1")])
def test_older_cilium_serves_v2alpha1_only(tmp_path: Path, version: str, served: str) -> None:
    crds_or_skip(version)
    path = tmp_path / "kc"
    with kube_api_server(path, cilium_crds=version):
        api = config.new_client_from_config(config_file=str(path))
        apply(api, cluster_config(served), "nativek8s")
        assert read(api, served)["apiVersion"] == f"cilium.io/{served}"
        with pytest.raises(ApiException) as err:
            apply(api, cluster_config("v2"), "nativek8s")
        assert err.value.status == 404
        resources = client.CustomObjectsApi(api).get_api_resources(GROUP, served)
        assert "ciliumbgppeeringpolicies" in [r.name for r in resources.resources]


def test_node_labels_by_patch_and_by_apply(api: Any, server: KubeApiServer) -> None:
    core = client.CoreV1Api(api)
    node = core.patch_node("node-2", {"metadata": {"labels": {"rack": "r1"}}})
    assert node.metadata.labels["rack"] == "r1" and node.metadata.labels["dc"] == "dc2"
    core.patch_node("node-2", {"apiVersion": "v1", "kind": "Node",
                               "metadata": {"name": "node-2", "labels": {"dc": "dc7"}}},
                    field_manager="nativek8s", force=True, _content_type=APPLY)
    labels = server.node("node-2")["metadata"]["labels"]
    assert labels["dc"] == "dc7" and labels["kubernetes.io/hostname"] == "node-2"
    with pytest.raises(ApiException) as err:
        core.patch_node("node-2", {"metadata": {"labels": {"dc": "not valid!"}}})
    assert err.value.status == 422


def test_secrets_and_namespaces(api: Any) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "cilium-secrets"}})
    core.create_namespaced_secret("cilium-secrets", {"metadata": {"name": "bgp-auth"},
                                                     "stringData": {"password": "s3cret"}})
    secret = core.read_namespaced_secret("bgp-auth", "cilium-secrets")
    assert secret.data == {"password": "czNjcmV0"} and secret.type == "Opaque"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("cilium-secrets", {"metadata": {"name": "bgp-auth"}})
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("nowhere", {"metadata": {"name": "x"}})
    assert err.value.status == 404


def test_readiness_scripted_in_polls(api: Any, server: KubeApiServer) -> None:
    server.script_ready("DaemonSet", "cilium", after=2)
    server.install_cilium("1.18.0")
    apps = client.AppsV1Api(api)
    seen = [apps.read_namespaced_daemon_set("cilium", "kube-system").status.number_ready
            for _ in range(3)]
    assert seen == [0, 0, 2]
    pods = client.CoreV1Api(api).list_namespaced_pod("kube-system", label_selector="k8s-app=cilium")
    assert sorted(p.spec.node_name for p in pods.items) == ["node-1", "node-2"]
    assert all(c.status == "True" for p in pods.items for c in p.status.conditions if c.type == "Ready")
    operator = apps.read_namespaced_deployment("cilium-operator", "kube-system")
    assert operator.status.ready_replicas == 1


def test_never_ready_and_crds_follow_the_operator(kubeconfig: Path) -> None:
    crds_or_skip("1.17")
    with kube_api_server(kubeconfig, nodes=["n1"]) as server:
        server.never_ready("Deployment", "cilium-operator")
        server.install_cilium("1.17.3")
        api = config.new_client_from_config(config_file=str(kubeconfig))
        apps = client.AppsV1Api(api)
        for _ in range(5):
            dep = apps.read_namespaced_deployment("cilium-operator", "kube-system")
            assert not dep.status.ready_replicas
        assert server.polls("Deployment", "cilium-operator") == 5
        with pytest.raises(ApiException) as err:
            apply(api, cluster_config("v2alpha1"), "nativek8s")
        assert err.value.status == 404  # no CRDs until the operator runs
        server.script_ready("Deployment", "cilium-operator", after=0)
        apps.read_namespaced_deployment("cilium-operator", "kube-system")
        apply(api, cluster_config("v2alpha1"), "nativek8s")


def test_bgp_node_configs_and_peer_status(api: Any, server: KubeApiServer) -> None:
    crds_or_skip("1.18")
    server.install_cilium("1.18.0")
    client.AppsV1Api(api).read_namespaced_deployment("cilium-operator", "kube-system")
    apply(api, cluster_config(), "nativek8s")
    objs = client.CustomObjectsApi(api)
    configs = objs.list_cluster_custom_object(GROUP, "v2", "ciliumbgpnodeconfigs")["items"]
    assert [c["metadata"]["name"] for c in configs] == ["node-1"]
    server.set_bgp_peer_state("node-1", "established")
    status = objs.get_cluster_custom_object(GROUP, "v2", "ciliumbgpnodeconfigs", "node-1")["status"]
    peer, = status["bgpInstances"][0]["peers"]
    assert (peer["name"], peer["peeringState"], peer["peerASN"]) == ("router-1", "established", 65000)
    # Status is a subresource in 1.18: writes to the main resource leave it alone.
    body = objs.get_cluster_custom_object(GROUP, "v2", "ciliumbgpnodeconfigs", "node-1")
    body["status"]["bgpInstances"][0]["peers"][0]["peeringState"] = "idle"
    objs.replace_cluster_custom_object(GROUP, "v2", "ciliumbgpnodeconfigs", "node-1", body)
    after = objs.get_cluster_custom_object(GROUP, "v2", "ciliumbgpnodeconfigs", "node-1")
    assert after["status"]["bgpInstances"][0]["peers"][0]["peeringState"] == "established"


def test_discovery_and_dynamic_client(api: Any, tmp_path: Path) -> None:
    crds_or_skip("1.18")
    from kubernetes.dynamic import DynamicClient
    dyn = DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))  # not /tmp/osrcp-*
    resource = dyn.resources.get(api_version="cilium.io/v2", kind="CiliumBGPClusterConfig")
    dyn.server_side_apply(resource, body=cluster_config(), field_manager="nativek8s")
    assert resource.get(name="dc1").spec.bgpInstances[0].localASN == 65001


def test_fault_injection_and_request_log(api: Any, server: KubeApiServer) -> None:
    server.inject_fault(r"/nodes$", method="GET", code=503, reason="ServiceUnavailable")
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as err:
        core.list_node()
    assert err.value.status == 503
    assert len(core.list_node().items) == 2
    listed = [r for r in server.requests if r.path == "/api/v1/nodes"]
    assert [r.code for r in listed] == [503, 200]


def test_https_with_ca_in_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    with kube_api_server(path, nodes=["n1"], tls=True) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        api = config.new_client_from_config(config_file=str(path))
        assert [n.metadata.name for n in client.CoreV1Api(api).list_node().items] == ["n1"]


def test_node_pod_cidr_is_set_once_and_never_changed(server: KubeApiServer,
                                                     kubeconfig: Path) -> None:
    """As kube-apiserver's ValidateNodeUpdate: from "" to valid only; podCIDR alone sets
    podCIDRs too; not a CIDR, or two of one family, is invalid."""
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    with pytest.raises(ApiException) as bad:
        core.patch_node("node-1", {"spec": {"podCIDR": "10.244.0.0/33"}})
    assert bad.value.status == 422 and "must be a valid CIDR" in bad.value.body
    with pytest.raises(ApiException) as two:
        core.patch_node("node-1", {"spec": {"podCIDRs": ["10.244.0.0/24", "10.244.1.0/24"]}})
    assert two.value.status == 422 and "no more than one CIDR for each IP family" in two.value.body
    node = core.patch_node("node-1", {"spec": {"podCIDR": "10.244.0.0/24"}})
    assert (node.spec.pod_cidr, node.spec.pod_cidrs) == ("10.244.0.0/24", ["10.244.0.0/24"])
    core.patch_node("node-1", {"spec": {"podCIDRs": ["10.244.0.0/24"]}})  # the same: fine
    with pytest.raises(ApiException) as changed:
        core.patch_node("node-1", {"spec": {"podCIDR": "10.244.1.0/24",
                                            "podCIDRs": ["10.244.1.0/24"]}})
    body = json.loads(changed.value.body)
    assert changed.value.status == 422
    assert body["message"] == ('Node "node-1" is invalid: spec.podCIDRs: Forbidden: node updates '
                               'may not change podCIDR except from "" to valid')
    assert core.read_node("node-1").spec.pod_cidrs == ["10.244.0.0/24"]
