"""The helm and cilium CLI stand-ins (tests/standins/bin), run as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.standins.kube_api import KubeApiServer, crds_or_skip, kube_api_server
from tests.support.launchers import write_launchers


@pytest.fixture(scope="module")
def launchers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_launchers(tmp_path_factory.mktemp("bin"), ("helm", "cilium"))


@pytest.fixture
def env(tmp_path: Path, launchers: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{launchers}{os.pathsep}{os.environ.get('PATH', '')}", "NK8S_STANDIN_LOG": str(tmp_path / "calls.jsonl"),
            "HELM_REPOSITORY_CONFIG": str(tmp_path / "repositories.yaml"),
            "KUBECONFIG": str(tmp_path / "kubeconfig"), "NK8S_STANDIN_TIME_SCALE": "0.001",
            "HOME": str(tmp_path)}


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[KubeApiServer]:
    with kube_api_server(env["KUBECONFIG"], nodes={"node-1": {"dc": "dc1"},
                                                   "node-2": {"dc": "dc2"}}) as srv:
        yield srv


def run(tool: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], env=env, capture_output=True,
                          text=True, timeout=60)


def calls(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["NK8S_STANDIN_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_scripts_in_bin_run_from_any_directory(env: dict[str, str], tmp_path: Path) -> None:
    bin_dir = Path(__file__).resolve().parent / "bin"
    for tool, expected in (("helm", "v3.19.5+g4a19a5b"), ("cilium", "cilium-cli: v0.18.3")):
        result = subprocess.run([str(bin_dir / tool), "version", "--short" if tool == "helm" else "--client"],
                                env={**env, "NK8S_STANDIN_PYTHON": sys.executable}, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60, check=True)
        assert result.stdout.startswith(expected)


def test_versions(env: dict[str, str]) -> None:
    helm = run("helm", "version", "--short", env=env)
    assert (helm.returncode, helm.stdout) == (0, "v3.19.5+g4a19a5b\n")
    cilium = run("cilium", "version", "--client", env=env)
    assert cilium.returncode == 0
    assert cilium.stdout.splitlines()[0].startswith("cilium-cli: v0.18.3 compiled with")


@pytest.mark.parametrize("tool,args,message", [
    ("helm", ["upgrade", "--install", "cilium", "cilium/cilium", "--bogus"],
     "Error: unknown flag: --bogus\n"),
    ("helm", ["upgrade", "-x", "cilium", "cilium/cilium"], "Error: unknown shorthand flag: 'x' in -x\n"),
    ("helm", ["upgrade", "cilium", "cilium/cilium", "--timeout", "5 minutes"],  # Go reads the unit up to the next digit
     'Error: invalid argument "5 minutes" for "--timeout" flag: time: unknown unit " minutes" in duration "5 minutes"\n'),
    ("helm", ["version", "--client-only"], "Error: unknown flag: --client-only\n"),
    ("helm", ["install-it"], 'Error: unknown command "install-it" for "helm"\n'
                             "Run 'helm --help' for usage.\n"),
    ("cilium", ["install", "--helm-sett", "a=b"], "unknown flag: --helm-sett\n"),
    ("cilium", ["status", "--wait=maybe"],
     'invalid argument "maybe" for "--wait" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n'),
    ("cilium", ["bgp", "peers", "--values", "x.yaml"], "unknown flag: --values\n"),
])
def test_unknown_or_bad_flags_are_rejected(env: dict[str, str], tool: str, args: list[str],
                                           message: str) -> None:
    result = run(tool, *args, env=env)
    assert (result.returncode, result.stderr, result.stdout) == (1, message, "")
    assert calls(env)[-1]["argv"] == args  # recorded even when rejected


def test_calls_are_recorded_with_kubeconfig(env: dict[str, str]) -> None:
    run("helm", "version", "--short", env=env)
    run("cilium", "version", "--client", env=env)
    assert calls(env) == [
        {"tool": "helm", "argv": ["version", "--short"], "env": {"KUBECONFIG": env["KUBECONFIG"]},
         "cwd": os.getcwd()},
        {"tool": "cilium", "argv": ["version", "--client"], "env": {"KUBECONFIG": env["KUBECONFIG"]},
         "cwd": os.getcwd()}]


def test_helm_install_makes_cilium_appear(env: dict[str, str], server: KubeApiServer,
                                          tmp_path: Path) -> None:
    crds_or_skip("1.17")
    values = tmp_path / "values.yaml"
    values.write_text("routingMode: native\nbgpControlPlane:\n  enabled: true\n"
                      "operator:\n  replicas: 1\n")
    server.script_ready("DaemonSet", "cilium", after=2)
    assert run("helm", "repo", "add", "cilium", "https://helm.cilium.io/", env=env).returncode == 0
    result = run("helm", "upgrade", "--install", "cilium", "cilium/cilium", "--version", "1.17.3",
                 "--namespace", "kube-system", "--values", str(values),
                 "--kubeconfig", env["KUBECONFIG"], "--wait", "--timeout", "5m", env=env)
    assert result.returncode == 0, result.stderr
    assert 'Release "cilium" does not exist. Installing it now.' in result.stdout
    assert server.polls("DaemonSet", "cilium") >= 3
    cfg = server.get("v1", "ConfigMap", "cilium-config", "kube-system")
    assert cfg["data"]["routing-mode"] == "native"
    assert cfg["data"]["enable-bgp-control-plane"] == "true"
    crds = [c["metadata"]["name"] for c in
            server.objects("apiextensions.k8s.io/v1", "CustomResourceDefinition")]
    assert "ciliumbgpclusterconfigs.cilium.io" in crds
    secrets = server.objects("v1", "Secret", "kube-system")
    assert [s["metadata"]["name"] for s in secrets] == ["sh.helm.release.v1.cilium.v1"]

    again = run("helm", "upgrade", "--install", "cilium", "cilium/cilium", "--version", "1.17.3",
                "-n", "kube-system", "-f", str(values), env=env)
    assert again.returncode == 0 and "has been upgraded" in again.stdout
    assert "REVISION: 2" in again.stdout


def test_helm_wait_times_out_when_never_ready(env: dict[str, str], server: KubeApiServer) -> None:
    server.never_ready("DaemonSet", "cilium")
    result = run("helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                 "https://helm.cilium.io/", "--version", "1.16.5", "-n", "kube-system",
                 "--wait", "--timeout", "10s", env=env)
    assert (result.returncode, result.stderr) == (1, "Error: context deadline exceeded\n")
    release, = server.objects("v1", "Secret", "kube-system")
    assert release["metadata"]["labels"]["status"] == "failed"


def test_helm_rejects_invalid_values_file(env: dict[str, str], server: KubeApiServer,
                                          tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("routingMode: native\n  bgp: [\n")
    result = run("helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                 "https://helm.cilium.io/", "--version", "1.17.3", "-f", str(bad), env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: failed to parse {bad}: error converting YAML to JSON")
    assert server.objects("apps/v1", "DaemonSet", "kube-system") == []


def test_helm_checks_values_schema_for_118(env: dict[str, str], server: KubeApiServer) -> None:
    crds_or_skip("1.18")
    result = run("helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                 "https://helm.cilium.io/", "--version", "1.18.0",
                 "--set", "bgpControlPlane.enabled=yes-please", env=env)
    assert result.returncode == 1
    assert "- at '/bgpControlPlane/enabled'" in result.stderr


def test_helm_needs_repo_and_known_version(env: dict[str, str], server: KubeApiServer) -> None:
    no_repo = run("helm", "upgrade", "--install", "cilium", "cilium/cilium", env=env)
    assert no_repo.stderr == "Error: repo cilium not found\n"
    unknown = run("helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                  "https://helm.cilium.io/", "--version", "9.9.9", env=env)
    assert unknown.returncode == 1 and 'chart "cilium" matching 9.9.9 not found' in unknown.stderr


def test_injected_failure(env: dict[str, str], server: KubeApiServer) -> None:
    result = run("helm", "upgrade", "--install", "cilium", "cilium", "--repo",
                 "https://helm.cilium.io/", "--version", "1.17.3",
                 env={**env, "NK8S_STANDIN_FAIL": "install"})
    assert result.returncode == 1 and "NK8S_STANDIN_FAIL" in result.stderr
    assert server.objects("apps/v1", "DaemonSet", "kube-system") == []


def test_cilium_install_status_and_bgp_peers(env: dict[str, str], server: KubeApiServer) -> None:
    crds_or_skip("1.18")
    server.script_ready("Deployment", "cilium-operator", after=1)
    install = run("cilium", "install", "--version", "1.18.0", "--helm-set", "routingMode=native",
                  "--set", "bgpControlPlane.enabled=true", env=env)
    assert install.returncode == 0, install.stderr
    status = run("cilium", "status", "--wait", env=env)
    assert status.returncode == 0, status.stderr
    assert "Deployment             cilium-operator    Desired: 2, Ready: 2/2" in status.stdout
    server.apply({"apiVersion": "cilium.io/v2", "kind": "CiliumBGPClusterConfig",
                  "metadata": {"name": "dc1"},
                  "spec": {"nodeSelector": {"matchLabels": {"dc": "dc1"}},
                           "bgpInstances": [{"name": "dc1", "localASN": 65001, "peers": [
                               {"name": "router-1", "peerAddress": "10.1.0.1", "peerASN": 65000}]}]}},
                 manager="nativek8s")
    server.set_bgp_peer_state("node-1", "established")
    peers = run("cilium", "bgp", "peers", "-o", "json", env=env)
    assert peers.returncode == 0, peers.stderr
    by_node = json.loads(peers.stdout)
    assert by_node["node-2"] == []
    peer, = by_node["node-1"]
    assert (peer["local-asn"], peer["peer-asn"], peer["peer-address"], peer["session-state"]) == \
        (65001, 65000, "10.1.0.1", "established")
    table = run("cilium", "bgp", "peers", env=env).stdout.splitlines()
    assert table[0].split() == ["Node", "Local", "AS", "Peer", "AS", "Peer", "Address", "Session",
                                "State", "Uptime", "Family", "Received", "Advertised"]
    assert table[1].split()[:5] == ["node-1", "65001", "65000", "10.1.0.1", "established"]
    again = run("cilium", "install", "--version", "1.18.0", env=env)
    assert again.returncode == 1 and "cannot re-use a name that is still in use" in again.stderr


def test_cilium_status_without_cilium_fails(env: dict[str, str], server: KubeApiServer) -> None:
    result = run("cilium", "status", env=env)
    assert result.returncode == 1
    assert 'daemonsets.apps "cilium" not found' in result.stdout


def test_cilium_upgrade_needs_a_release_and_records_a_revision(env: dict[str, str],
                                                               server: KubeApiServer,
                                                               tmp_path: Path,
                                                               upstream_file) -> None:
    upstream_file("cilium/values.schema.1.18.0-dev.json")  # the chart checks 1.18 values against it
    from tests.standins.kube_api.cli_chart import release_values

    values = tmp_path / "values.yaml"
    values.write_text("routingMode: native\nipam:\n  mode: kubernetes\n")
    first = run("cilium", "upgrade", "--version", "1.18.0", "--values", str(values), env=env)
    assert first.returncode == 1 and '"cilium" has no deployed releases' in first.stderr
    assert run("cilium", "install", "--version", "1.18.0", "-f", str(values),
               env=env).returncode == 0
    values.write_text("routingMode: native\n")
    upgrade = run("cilium", "upgrade", "--version", "1.18.0", "--values", str(values),
                  "--reset-values", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    secrets = server.objects("v1", "Secret", "kube-system")
    by_revision = {s["metadata"]["labels"]["version"]: s for s in secrets
                   if s["metadata"].get("labels", {}).get("owner") == "helm"}
    assert sorted(by_revision) == ["1", "2"]
    assert by_revision["1"]["metadata"]["labels"]["status"] == "superseded"
    assert release_values(by_revision["2"]) == {"routingMode": "native"}
    reuse = run("cilium", "upgrade", "--version", "1.18.0", "--reuse-values", "--set",
                "ipam.mode=kubernetes", env=env)
    assert reuse.returncode == 0, reuse.stderr
    newest = [s for s in server.objects("v1", "Secret", "kube-system")
              if s["metadata"].get("labels", {}).get("version") == "3"]
    assert release_values(newest[0]) == {"routingMode": "native", "ipam": {"mode": "kubernetes"}}
