"""The stand-in's bare pods (scheduling, addresses, status) and pod proxy to agnhost netexec,
driven by the official `kubernetes` client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402 - after importorskip

from tests.standins.kube_api import KubeApiServer, kube_api_server  # noqa: E402 - after importorskip

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[KubeApiServer]:
    with kube_api_server(tmp_path / "kubeconfig") as srv:
        srv.add_node("node-1", {"dc": "dc1"}, internal_ip="10.1.0.10", pod_cidr="10.244.0.0/24")
        srv.add_node("node-2", {"dc": "dc2"}, internal_ip="10.2.0.10", pod_cidr="10.244.1.0/24")
        srv.add_node("node-3", {"dc": "dc3"}, internal_ip="10.3.0.10")  # no PodCIDR
        yield srv


@pytest.fixture
def core(server: KubeApiServer, tmp_path: Path) -> Any:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(tmp_path / "kubeconfig")))


def netexec(name: str, node: str | None = None, selector: dict[str, str] | None = None,
            image: str = AGNHOST) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "netexec", "image": image,
                                            "args": ["netexec", "--http-port=8080"],
                                            "ports": [{"containerPort": 8080}]}]}
    if node:
        spec["nodeName"] = node
    if selector:
        spec["nodeSelector"] = selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def proxy(core: Any, pod: str, path: str, query: dict[str, str] | None = None) -> tuple[int, str]:
    api = core.api_client
    params = api.param_serialize("GET", f"/api/v1/namespaces/default/pods/{pod}/proxy/{path}",
                                 query_params=list((query or {}).items()),
                                 auth_settings=["BearerToken"])
    resp = api.call_api(*params)
    resp.read()
    return resp.status, resp.data.decode()


def test_bare_pods_are_bound_and_addressed_from_the_node_pod_cidr(core: Any) -> None:
    core.create_namespaced_pod("default", netexec("a", node="node-1"))
    core.create_namespaced_pod("default", netexec("b", node="node-1"))
    core.create_namespaced_pod("default", netexec("c", selector={"dc": "dc2"}))
    a, b, c = (core.read_namespaced_pod(n, "default") for n in "abc")
    assert (a.status.phase, a.status.pod_ip, a.status.host_ip) == ("Running", "10.244.0.2", "10.1.0.10")
    assert b.status.pod_ip == "10.244.0.3"
    assert (c.spec.node_name, c.status.pod_ip) == ("node-2", "10.244.1.2")
    assert {cond.type: cond.status for cond in a.status.conditions}["Ready"] == "True"


def test_pods_that_cannot_start_say_why(core: Any, server: KubeApiServer) -> None:
    server.kubelet.failing_images.add("example.invalid/missing:1")
    core.create_namespaced_pod("default", netexec("nosched", selector={"dc": "nowhere"}))
    core.create_namespaced_pod("default", netexec("nocidr", node="node-3"))
    core.create_namespaced_pod("default", netexec("nopull", node="node-1",
                                                  image="example.invalid/missing:1"))
    nosched = core.read_namespaced_pod("nosched", "default").status
    assert (nosched.phase, nosched.conditions[0].reason) == ("Pending", "Unschedulable")
    nocidr = core.read_namespaced_pod("nocidr", "default").status
    assert nocidr.pod_ip is None
    assert nocidr.container_statuses[0].state.waiting.reason == "ContainerCreating"
    nopull = core.read_namespaced_pod("nopull", "default").status
    assert nopull.container_statuses[0].state.waiting.reason == "ImagePullBackOff"


def test_dial_reports_the_address_the_far_pod_sees(core: Any, server: KubeApiServer) -> None:
    core.create_namespaced_pod("default", netexec("near", node="node-1"))
    core.create_namespaced_pod("default", netexec("far", node="node-2"))
    query = {"request": "clientip", "host": "10.244.1.2", "port": "8080", "protocol": "http",
             "tries": "1"}
    code, text = proxy(core, "near:8080", "dial", query)
    assert code == 200
    seen, = json.loads(text)["responses"]
    assert seen.rsplit(":", 1)[0] == "10.244.0.2"

    server.network.masquerade["node-1"] = "10.1.0.10"
    code, text = proxy(core, "near:8080", "dial", query)
    assert json.loads(text)["responses"][0].startswith("10.1.0.10:")

    server.network.blocked.add(("node-1", "node-2"))
    code, text = proxy(core, "near:8080", "dial", query)
    assert code == 417
    assert "i/o timeout" in json.loads(text)["errors"][0]

    code, text = proxy(core, "near:8080", "dial", {**query, "host": "10.244.9.9"})
    assert (code, "no route to host" in text) == (417, True)
    assert proxy(core, "near:8080", "dial", {"host": "10.244.1.2", "port": "8080"})[0] == 400


def test_proxy_refuses_what_the_apiserver_refuses(core: Any) -> None:
    core.create_namespaced_pod("default", netexec("nocidr", node="node-3"))
    core.create_namespaced_pod("default", netexec("web", node="node-1"))
    code, text = proxy(core, "nocidr:8080", "clientip")
    assert (code, json.loads(text)["message"]) == (400, "address not allowed")
    code, text = proxy(core, "web:9999", "clientip")
    assert code == 503 and "connection refused" in text
    assert proxy(core, "missing:8080", "clientip")[0] == 404
    code, text = proxy(core, "web", "clientip")  # first declared container port
    assert (code, text.startswith("127.0.0.1:")) == (200, True)


def test_deleting_a_pod_frees_its_address(core: Any) -> None:
    core.create_namespaced_pod("default", netexec("a", node="node-1"))
    core.delete_namespaced_pod("a", "default")
    core.create_namespaced_pod("default", netexec("b", node="node-1"))
    assert core.read_namespaced_pod("b", "default").status.pod_ip == "10.244.0.2"
