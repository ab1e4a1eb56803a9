"""Tests of the talosctl stand-in (in-process by default, the real executable where it matters)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.standins import talos_config, talos_sim
from tests.standins.talos_harness import Talos

CP, WK = "10.1.0.10", "10.2.0.10"
PATCH = """\
machine:
  install:
    disk: /dev/vda
  certSANs: [router.example]
cluster:
  network:
    podSubnets: [10.244.0.0/16]
    cni:
      name: none
  proxy:
    disabled: true
"""


def _sim(talos: Talos, nodes: dict[str, dict[str, Any]], fail: dict[str, int] | None = None) -> None:
    talos_sim.write_sim(talos.sim, nodes, fail)


def _docs(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(path.read_text()))


def _gen(talos: Talos, *extra: str) -> Path:
    """gen secrets + gen config with the reference patch; returns the output directory."""
    (talos.cwd / "patch.yaml").write_text(PATCH)
    talos("gen", "secrets", "-o", "secrets.yaml")
    talos(
        "gen",
        "config",
        "lab",
        f"https://{CP}:6443",
        "--with-secrets",
        "secrets.yaml",
        "--config-patch",
        "@patch.yaml",
        "--output",
        "out",
        "--install-image",
        "factory.talos.dev/installer/ce4c:v1.13.9",
        *extra,
    )
    return talos.cwd / "out"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, standin_bin: Path) -> Path:
    """One gen secrets + gen config for the node tests (saves two calls per test)."""
    cwd = tmp_path_factory.mktemp("generated")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NK8S_")}
    env["NK8S_STANDIN_LOG"] = str(cwd / "calls.jsonl")
    _gen(Talos(cwd=cwd, env=env, executable=standin_bin / "talosctl", subprocess=True))
    return cwd


def _copy_generated(talos: Talos, generated: Path) -> Path:
    shutil.copy(generated / "secrets.yaml", talos.cwd)
    shutil.copytree(generated / "out", talos.cwd / "out")
    return talos.cwd / "out"


def _secure(node: str = CP) -> list[str]:
    return ["-n", node, "-e", CP, "--talosconfig", "out/talosconfig"]


def _wait_stage(talos: Talos, ip: str, stage: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30  # a safety net only; transitions take ~0.1 s
    while True:
        node = talos_sim.read_sim(talos.sim)["nodes"][ip]
        if node["stage"] == stage or time.monotonic() > deadline:
            return node
        time.sleep(0.02)


def _running_cluster(talos: Talos, generated: Path) -> Path:
    _sim(talos, {CP: {"install_seconds": 0.1}, WK: {"install_seconds": 0.1}})
    out = _copy_generated(talos, generated)
    talos("apply-config", "--insecure", "-n", CP, "-f", "out/controlplane.yaml")
    talos("apply-config", "--insecure", "--nodes", WK, "--file", "out/worker.yaml")
    assert _wait_stage(talos, CP, "running")["stage"] == "running"
    assert _wait_stage(talos, WK, "running")["stage"] == "running"
    return out


# --- version and the command line ------------------------------------------------------------


def test_version_client_prints_the_upstream_format(talos_exe: Talos) -> None:
    talos = talos_exe
    out = talos("version", "--client").stdout
    assert re.fullmatch(
        r"Client:\n\tTag:         v1\.13\.9\n\tSHA:         3ebd10a7\n\tBuilt:       \n"
        r"\tGo version:  go1\.\d+\.\d+\n\tOS/Arch:     linux/\w+\n",
        out,
    )
    assert talos("version", "--client", "--short").stdout == "Client:\nTalos v1.13.9\n"
    talos.env["NK8S_TALOSCTL_VERSION"] = "v1.14.0"
    assert "\tTag:         v1.14.0\n" in talos("version", "--client").stdout


def test_the_executable_runs_from_its_own_shebang(talos: Talos) -> None:
    import subprocess

    from tests.standins.talos_harness import TALOSCTL

    assert os.access(TALOSCTL, os.X_OK)
    result = subprocess.run(
        [str(TALOSCTL), "version", "--client", "--short"],
        env={**talos.env, "NK8S_STANDIN_PYTHON": sys.executable},  # python3 on PATH may lack PyYAML
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "Client:\nTalos v1.13.9\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["version", "--bogus"], "unknown flag: --bogus"),
        (["version", "-z"], "unknown shorthand flag: 'z' in -z"),
        (["bogus"], 'unknown command "bogus" for "talosctl"'),
        (["version", "extra"], 'unknown command "extra" for "talosctl version"'),
        (["gen", "config", "lab"], "accepts 2 arg(s), received 1"),
        (["gen", "config", "a", "https://x:6443", "--with-secret", "s.yaml"], "unknown flag: --with-secret"),
        (["apply-config", "--file"], "flag needs an argument: --file"),
        (["kubeconfig", "--merge=maybe"], 'invalid argument "maybe" for "-m, --merge" flag'),
        (
            ["apply-config", "-m", "later"],
            'invalid argument "later" for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try',
        ),
        (["get"], "accepts between 1 and 2 arg(s), received 0"),
    ],
)
def test_invalid_command_lines_are_rejected_like_cobra(talos: Talos, args: list[str], message: str) -> None:
    result = talos(*args, ok=False)
    assert result.stderr.startswith(message) and "Usage:" in result.stderr
    assert not (talos.cwd / "out").exists()


def test_flags_follow_the_emulated_version(talos: Talos) -> None:
    _sim(talos, {CP: {}})
    (talos.cwd / "c.yaml").write_text("")
    assert (
        "no configuration data read"
        in talos("apply-config", "-i", "-n", CP, "-f", "c.yaml", "--mode=reboot", ok=False).stderr
    )
    talos.env["NK8S_TALOSCTL_VERSION"] = "v1.14.0-rc.1"
    err = talos("apply-config", "-i", "-n", CP, "-f", "c.yaml", "--mode=reboot", ok=False).stderr
    assert err.startswith('invalid argument "reboot" for "-m, --mode" flag')


def test_every_call_is_logged_with_its_exit_code(talos_exe: Talos) -> None:
    talos = talos_exe
    talos("version", "--client")
    talos("version", "--nope", ok=False)
    log = talos_sim.read_log(talos.log)
    assert [(e["argv"], e["exit"]) for e in log] == [(["version", "--client"], 0), (["version", "--nope"], 1)]


# --- gen secrets / gen config -----------------------------------------------------------------


def test_gen_secrets_writes_a_private_bundle_and_respects_force(talos: Talos) -> None:
    talos("gen", "secrets")
    path = talos.cwd / "secrets.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bundle = yaml.safe_load(path.read_text())
    assert set(bundle) == {"cluster", "secrets", "trustdinfo", "certs"}
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", bundle["secrets"]["bootstraptoken"])
    err = talos("gen", "secrets", ok=False).stderr
    assert err == 'file "secrets.yaml" already exists, use --force to overwrite\n'
    talos("gen", "secrets", "--force")
    assert yaml.safe_load(path.read_text()) != bundle
    assert "certs:" in talos("gen", "secrets", "-o", "-").stdout


def test_gen_config_writes_patched_machine_configs(talos: Talos) -> None:
    out = _gen(
        talos,
        "--config-patch-worker",
        '{"machine": {"nodeLabels": {"dc": "dc2"}}}',
        "--kubernetes-version",
        "v1.33.1",
    )
    bundle = yaml.safe_load((talos.cwd / "secrets.yaml").read_text())
    cp, cp_hostname = _docs(out / "controlplane.yaml")
    worker = _docs(out / "worker.yaml")[0]
    assert cp_hostname == {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"}
    assert cp["version"] == "v1alpha1" and cp["machine"]["type"] == "controlplane"
    assert worker["machine"]["type"] == "worker" and worker["machine"]["ca"]["key"] == ""
    assert cp["machine"]["install"]["disk"] == "/dev/vda"  # patch beats --install-disk default
    assert cp["machine"]["install"]["image"] == "factory.talos.dev/installer/ce4c:v1.13.9"
    assert cp["machine"]["kubelet"]["image"] == "ghcr.io/siderolabs/kubelet:v1.33.1"
    assert cp["cluster"]["controlPlane"]["endpoint"] == f"https://{CP}:6443"
    assert cp["cluster"]["clusterName"] == "lab"
    assert cp["cluster"]["network"]["cni"] == {"name": "none"}
    assert cp["cluster"]["network"]["podSubnets"] == ["10.244.0.0/16"]  # replaced, not appended
    assert cp["cluster"]["proxy"] == {"image": "registry.k8s.io/kube-proxy:v1.33.1", "disabled": True}
    assert cp["cluster"]["secret"] == bundle["cluster"]["secret"]
    assert cp["machine"]["token"] == bundle["trustdinfo"]["token"]
    assert worker["machine"]["nodeLabels"] == {"dc": "dc2"} and "dc" not in cp["machine"]["nodeLabels"]
    talosconfig = yaml.safe_load((out / "talosconfig").read_text())
    assert talosconfig["context"] == "lab"
    assert talosconfig["contexts"]["lab"]["endpoints"] == []
    assert talosconfig["contexts"]["lab"]["ca"] == bundle["certs"]["os"]["crt"]


def test_generated_config_validates_against_the_upstream_schema(talos: Talos, schema: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    defs = json.loads(schema.read_text())["$defs"]
    out = _gen(talos)
    for name in ("controlplane.yaml", "worker.yaml"):
        main = {k: v for k, v in _docs(out / name)[0].items() if k != "persist"}
        validator = jsonschema.Draft202012Validator({"$defs": defs, "$ref": "#/$defs/v1alpha1.Config"})
        assert [e.message for e in validator.iter_errors(main)] == []


CP_PATCH_14 = """\
apiVersion: v1alpha1
kind: KubeFlannelCNIConfig
$patch: delete
---
apiVersion: v1alpha1
kind: KubeProxyConfig
enabled: false
image: registry.k8s.io/kube-proxy:v1.37.0-rc.0
"""


def test_gen_config_114_writes_the_multi_document_layout(talos: Talos, schema14: Path) -> None:
    """Talos 1.14: cluster settings in documents, control-plane-only kinds on control
    planes only, strict decoding against the 1.14 schema; patches delete and merge them."""
    talos.env.update(NK8S_TALOSCTL_VERSION="v1.14.0-rc.1", NK8S_TALOS_SCHEMA=str(schema14))
    (talos.cwd / "cp.yaml").write_text(CP_PATCH_14)
    talos("gen", "secrets", "-o", "secrets.yaml")
    talos("gen", "config", "lab", f"https://{CP}:6443", "--with-secrets", "secrets.yaml",
          "--install-disk", "/dev/vda", "--config-patch-control-plane", "@cp.yaml", "-o", "out")
    cp = {d.get("kind", "v1alpha1"): d for d in _docs(talos.cwd / "out" / "controlplane.yaml")}
    worker = {d.get("kind", "v1alpha1"): d for d in _docs(talos.cwd / "out" / "worker.yaml")}
    assert "install" not in cp["v1alpha1"]["machine"] and "network" not in cp["v1alpha1"]["cluster"]
    assert cp["UnattendedInstallConfig"]["provisioning"]["diskSelector"]["match"] == \
        'disk.dev_path == "/dev/vda"'
    assert "KubeFlannelCNIConfig" not in cp and cp["KubeProxyConfig"]["enabled"] is False
    assert cp["KubeClusterConfig"] == {"apiVersion": "v1alpha1", "kind": "KubeClusterConfig",
                                       "clusterName": "lab", "endpoint": f"https://{CP}:6443"}
    assert not set(worker) & {"KubeProxyConfig", "KubeFlannelCNIConfig", "KubeAPIServerConfig"}
    assert worker["KubeNetworkConfig"]["podSubnets"] == ["10.244.0.0/16"]


def test_apply_114_enforces_the_container_rules(talos: Talos) -> None:
    talos.env["NK8S_TALOSCTL_VERSION"] = "v1.14.0-rc.1"
    _sim(talos, {CP: {}, WK: {}})
    (talos.cwd / "cp.yaml").write_text(CP_PATCH_14)
    talos("gen", "secrets", "-o", "secrets.yaml")
    talos("gen", "config", "lab", f"https://{CP}:6443", "--with-secrets", "secrets.yaml", "-o", "out")
    err = talos("apply-config", "-i", "-n", WK, "-f", "out/worker.yaml", "-p", "@cp.yaml",
                ok=False).stderr
    assert "only allowed on control plane machines: [KubeProxyConfig]" in err
    (talos.cwd / "legacy.yaml").write_text("machine:\n  install:\n    disk: /dev/vda\n")
    err = talos("apply-config", "-i", "-n", WK, "-f", "out/worker.yaml", "-p", "@legacy.yaml",
                ok=False).stderr
    assert "UnattendedInstallConfig document conflicts with .machine.install" in err
    talos("apply-config", "-i", "-n", CP, "-f", "out/controlplane.yaml", "-p", "@cp.yaml")
    config = talos_sim.read_sim(talos.sim)["nodes"][CP]["config"]
    assert config["cni"] == "none" and config["proxy"] is False
    assert config["install_disk"] == "/dev/sda" and config["endpoint"] == f"https://{CP}:6443"


def test_gen_config_merge_semantics(talos: Talos) -> None:
    talos(
        "gen",
        "config",
        "lab",
        "https://10.1.0.10:6443",
        "-o",
        "out",
        "--config-patch",
        "machine: {certSANs: [a]}",
        "--config-patch",
        "machine: {certSANs: [b]}",
        "--config-patch",
        "cluster: {discovery: {enabled: false}, clusterName: ''}",
    )
    cp = _docs(talos.cwd / "out" / "controlplane.yaml")[0]
    assert cp["machine"]["certSANs"] == ["a", "b"]  # lists append
    assert cp["cluster"]["discovery"]["enabled"] is False  # booleans always merge
    assert cp["cluster"]["clusterName"] == "lab"  # zero strings do not override


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("machine: [unclosed", "error parsing config JSON patch: failed to decode patch"),
        (
            "machin:\n  install: {disk: /dev/vda}\n",
            "error parsing config JSON patch: unknown keys found during decoding",
        ),
        ("@missing.yaml", "error parsing config JSON patch: open missing.yaml: no such file or directory"),
    ],
)
def test_gen_config_rejects_bad_patches_and_writes_nothing(talos: Talos, patch: str, message: str) -> None:
    result = talos(
        "gen", "config", "lab", "https://10.1.0.10:6443", "-o", "out", "--config-patch", patch, ok=False
    )
    assert result.stderr.startswith(message)
    assert not (talos.cwd / "out").exists()


def test_unknown_nested_keys_are_rejected_with_the_upstream_schema(talos: Talos, schema: Path) -> None:
    talos.env["NK8S_TALOS_SCHEMA"] = str(schema)
    err = talos(
        "gen",
        "config",
        "lab",
        "https://10.1.0.10:6443",
        "-o",
        "out",
        "--config-patch",
        "machine: {instal: {disk: /dev/vda}}",
        ok=False,
    ).stderr
    assert "unknown keys found during decoding" in err and "instal" in err
    talos("gen", "config", "lab", "https://10.1.0.10:6443", "-o", "out", "--config-patch", PATCH)


def test_gen_config_validates_endpoint_and_existing_files(talos: Talos) -> None:
    err = talos("gen", "config", "lab", "10.1.0.10", ok=False).stderr
    assert 'no scheme and port specified for the cluster endpoint URL\ntry: "https://10.1.0.10:6443"' in err
    err = talos("gen", "config", "lab", "http://10.1.0.10:6443", ok=False).stderr
    assert "should have scheme https://" in err
    talos("gen", "config", "lab", "https://10.1.0.10:6443")
    err = talos("gen", "config", "lab", "https://10.1.0.10:6443", ok=False).stderr
    assert "already exists, use --force to overwrite" in err
    talos("gen", "config", "lab", "https://10.1.0.10:6443", "--force", "-t", "worker", "-o", "-")


# --- nodes: apply, bootstrap, kubeconfig, get ---------------------------------------------------


def test_apply_moves_a_node_from_maintenance_through_installing_to_running(
    talos: Talos, generated: Path
) -> None:
    _sim(talos, {CP: {"install_seconds": 0.1}})
    _copy_generated(talos, generated)
    assert talos_sim.read_sim(talos.sim)["nodes"][CP]["stage"] == "maintenance"
    talos("apply-config", "--insecure", "-n", CP, "-f", "out/controlplane.yaml")
    node = _wait_stage(talos, CP, "running")
    assert [stage for stage, _ in node["history"]] == ["maintenance", "installing", "running"]
    installing, running = node["history"][1][1], node["history"][2][1]
    assert running - installing == pytest.approx(0.1)
    assert node["config"]["type"] == "controlplane" and node["config"]["install_disk"] == "/dev/vda"


def test_booting_node_becomes_reachable_in_maintenance(talos: Talos, generated: Path) -> None:
    _sim(talos, {CP: {"stage": "booting", "boot_seconds": 0.1}})
    assert talos_sim.read_sim(talos.sim)["nodes"][CP]["stage"] == "booting"
    node = _wait_stage(talos, CP, "maintenance")
    assert [stage for stage, _ in node["history"]] == ["booting", "maintenance"]
    status = yaml.safe_load(talos("get", "machinestatus", "-i", "-n", CP, "-o", "yaml").stdout)
    assert status["spec"] == {"stage": "maintenance", "status": {"ready": True, "unmetConditions": []}}


def test_node_is_unreachable_while_installing(talos: Talos, generated: Path) -> None:
    _sim(talos, {CP: {"install_seconds": 60}})
    _copy_generated(talos, generated)
    talos("apply-config", "--insecure", "-n", CP, "-f", "out/controlplane.yaml")
    err = talos("bootstrap", *_secure(), ok=False).stderr
    assert err == (
        "error executing bootstrap: rpc error: code = Unavailable desc = connection error: "
        f'desc = "transport: Error while dialing: dial tcp {CP}:50000: connect: connection refused"\n'
    )


def test_apply_insecure_fails_on_a_configured_node(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    err = talos("apply-config", "--insecure", "-n", CP, "-f", "out/controlplane.yaml", ok=False).stderr
    assert err.startswith("error applying new configuration: rpc error: code = Unavailable")
    assert "tls: certificate required" in err
    # the secure path works and keeps the node running
    assert (
        talos("apply-config", *_secure(), "-f", "out/controlplane.yaml").stderr
        == "Applied configuration without a reboot\n"
    )


def test_apply_validates_the_config_like_the_node(talos: Talos, generated: Path) -> None:
    _sim(talos, {CP: {}})
    _copy_generated(talos, generated)
    docs = _docs(talos.cwd / "out" / "controlplane.yaml")
    del docs[0]["machine"]["install"]
    (talos.cwd / "bad.yaml").write_text(talos_config.dump_docs(docs))
    err = talos("apply-config", "-i", "-n", CP, "-f", "bad.yaml", ok=False).stderr
    assert 'install instructions are required in "metal" mode' in err
    assert talos_sim.read_sim(talos.sim)["nodes"][CP]["stage"] == "maintenance"


def test_secure_commands_fail_on_a_maintenance_node(talos: Talos, generated: Path) -> None:
    _sim(talos, {CP: {}})
    _copy_generated(talos, generated)
    err = talos("bootstrap", *_secure(), ok=False).stderr
    assert "x509: certificate signed by unknown authority" in err


def test_bootstrap_once_then_already_exists(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    talos("bootstrap", *_secure())
    err = talos("bootstrap", *_secure(), ok=False).stderr
    assert (
        err
        == "error executing bootstrap: rpc error: code = AlreadyExists desc = etcd data directory is not empty\n"
    )
    err = talos("bootstrap", "-n", WK, "-e", CP, "--talosconfig", "out/talosconfig", ok=False).stderr
    assert "code = Unimplemented desc = bootstrap is only available on control plane nodes" in err


def test_injected_failures_fail_the_first_calls_only(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    state = json.loads(talos.sim.read_text())
    state["fail"] = {"bootstrap": 1}
    state["nodes"][CP]["fail"] = {"kubeconfig": 2}
    talos.sim.write_text(json.dumps(state))
    err = talos("bootstrap", *_secure(), ok=False).stderr
    assert err.startswith("error executing bootstrap: rpc error: code = Unavailable")
    talos("bootstrap", *_secure())
    for _ in range(2):
        assert "connection refused" in talos("kubeconfig", "kc", *_secure(), ok=False).stderr
    talos("kubeconfig", "kc", *_secure())
    assert talos_sim.read_sim(talos.sim)["fail"] == {"bootstrap": 0}


def test_talosconfig_must_name_endpoints_and_match_the_cluster(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    err = talos("bootstrap", "-n", CP, "--talosconfig", "out/talosconfig", ok=False).stderr
    assert err == "error constructing client: failed to determine endpoints\n"
    talos("gen", "config", "other", f"https://{CP}:6443", "-o", "other")  # new PKI
    err = talos("bootstrap", "-n", CP, "-e", CP, "--talosconfig", "other/talosconfig", ok=False).stderr
    assert "x509: certificate signed by unknown authority" in err
    err = talos(
        "bootstrap", "-n", "10.9.9.9", "-e", "10.9.9.9", "--talosconfig", "out/talosconfig", ok=False
    ).stderr
    assert "no route to host" in err


def test_kubeconfig_writes_a_private_file(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    talos("kubeconfig", "state/kubeconfig", *_secure(), "--force", "--merge=false")
    path = talos.cwd / "state" / "kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kube = yaml.safe_load(path.read_text())
    assert kube["current-context"] == "admin@lab"
    assert kube["clusters"][0]["cluster"]["server"] == f"https://{CP}:6443"
    err = talos("kubeconfig", "state/kubeconfig", *_secure(), "--merge=false", ok=False).stderr
    assert err.startswith("kubeconfig file already exists, use --force to overwrite")
    talos("kubeconfig", "state/kubeconfig", *_secure())  # merge (the default) renames on conflict
    names = [c["name"] for c in yaml.safe_load(path.read_text())["contexts"]]
    assert names == ["admin@lab", "admin@lab-1"]
    err = talos("kubeconfig", "kc", "-n", WK, "-e", CP, "--talosconfig", "out/talosconfig", ok=False).stderr
    assert "kubeconfig is only available on control plane nodes" in err


def test_static_hostname_comes_from_hostname_config(talos: Talos, generated: Path) -> None:
    """HostnameConfig (auto: off + hostname) names the node; beside machine.network.hostname
    it is refused, as HostnameConfig.V1Alpha1ConflictValidate does."""
    _sim(talos, {CP: {"install_seconds": 0.05}})
    _copy_generated(talos, generated)
    named = "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: 'off'\nhostname: lab-cp-1\n"
    (talos.cwd / "both.yaml").write_text("machine:\n  network:\n    hostname: other\n---\n" + named)
    err = talos("apply-config", "-i", "-n", CP, "-f", "out/controlplane.yaml", "-p", "@both.yaml",
                ok=False).stderr
    assert "static hostname is already set in v1alpha1 config" in err
    (talos.cwd / "name.yaml").write_text(named)
    talos("apply-config", "-i", "-n", CP, "-f", "out/controlplane.yaml", "-p", "@name.yaml")
    _wait_stage(talos, CP, "running")
    talos("bootstrap", *_secure())
    status = json.loads(talos("get", "machinestatus", *_secure(), "-o", "json").stdout)
    assert status["spec"]["status"]["unmetConditions"] == [
        {"name": "nodeReady", "reason": 'node "lab-cp-1" is not ready'}]


def test_get_machinestatus_follows_the_node(talos: Talos, generated: Path) -> None:
    _sim(talos, {CP: {"install_seconds": 0.1}})
    _copy_generated(talos, generated)
    status = yaml.safe_load(talos("get", "machinestatus", "--insecure", "-n", CP, "-o", "yaml").stdout)
    assert status["node"] == CP and status["spec"]["stage"] == "maintenance"
    talos("apply-config", "--insecure", "-n", CP, "-f", "out/controlplane.yaml")
    _wait_stage(talos, CP, "running")
    status = json.loads(talos("get", "machinestatus", *_secure(), "-o", "json").stdout)
    assert status["metadata"]["type"] == "MachineStatuses.runtime.talos.dev"
    assert status["spec"]["stage"] == "running" and status["spec"]["status"]["ready"] is False
    talos("bootstrap", *_secure())
    state = json.loads(talos.sim.read_text())
    state["nodes"][CP]["cni_ready"] = True
    talos.sim.write_text(json.dumps(state))
    assert talos("get", "machinestatus", *_secure(), "-o", "jsonpath={.status.ready}").stdout == "true\n"
    err = talos("get", "bogus", *_secure(), ok=False).stderr
    assert err == 'rpc error: code = NotFound desc = resource "bogus" is not registered\n'


def test_no_secret_ever_appears_in_argv(talos: Talos, generated: Path) -> None:
    _running_cluster(talos, generated)
    talos("bootstrap", *_secure())
    talos("kubeconfig", "kc", *_secure())
    bundle = yaml.safe_load((talos.cwd / "secrets.yaml").read_text())
    secrets = talos_config.secret_values(bundle)
    assert len(secrets) >= 10
    assert [e["argv"][:2] for e in talos_sim.read_log(generated / "calls.jsonl")] == [
        ["gen", "secrets"],
        ["gen", "config"],
    ]
    assert len(talos_sim.read_log(talos.log)) == 4
    assert talos_sim.secrets_in_log(generated / "calls.jsonl", secrets) == []
    assert talos_sim.secrets_in_log(talos.log, secrets) == []
    # the check can fail: an inline patch carrying a token is caught
    talos(
        "gen",
        "config",
        "x",
        f"https://{CP}:6443",
        "-o",
        "leak",
        "--config-patch",
        json.dumps({"machine": {"token": bundle["trustdinfo"]["token"]}}),
    )
    assert len(talos_sim.secrets_in_log(talos.log, secrets)) == 1


def test_parallel_calls_do_not_lose_state(talos: Talos, generated: Path) -> None:
    import subprocess

    nodes = {f"10.3.0.{i}": {"install_seconds": 0} for i in range(1, 7)}
    _sim(talos, nodes)
    talos("gen", "config", "lab", f"https://{CP}:6443", "-o", "out", "--config-patch", PATCH)
    procs = [
        subprocess.Popen(
            [str(talos.executable), "apply-config", "-i", "-n", ip, "-f", "out/worker.yaml"],
            cwd=talos.cwd,
            env=talos.env,
        )
        for ip in nodes
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * len(nodes)
    state = talos_sim.read_sim(talos.sim)
    assert all(n["stage"] == "running" and n["applies"] == 1 for n in state["nodes"].values())
    assert len(talos_sim.read_log(talos.log)) == len(nodes) + 1
