"""The `nativek8s` commands that read topologies and change nothing but what they are told."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

import nativek8s
from nativek8s.core.load import load_topology, reference_text
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.secrets import SecretStore

from .conftest import CLI, DATA, cli_env, run_cli
from .sample_plugins import SAMPLE_COMPOSITION

THREE_DC = DATA / "topologies" / "three-dc.yaml"


def test_version():
    result = run_cli(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"nativek8s, version {nativek8s.__version__}\n"


def test_help_lists_every_command():
    result = run_cli(["--help"])
    assert result.exit_code == 0
    for command in ("init", "validate", "plan", "render", "plugins", "deploy", "destroy",
                    "status", "verify"):
        assert f"  {command} " in result.stdout


def test_init_defaults_to_the_reference_lab():
    result = run_cli(["init"])
    assert result.exit_code == 0
    assert result.stdout == reference_text()


def test_init_writes_a_file_that_validates(tmp_path: Path, builtin_registry, isolated,
                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["init", "--datacentres", "3", "--nodes-per-dc", "2", "-o", "lab.yaml"])
    assert result.exit_code == 0, result.output
    assert "wrote lab.yaml" in result.stderr and result.stdout == ""
    text = (tmp_path / "lab.yaml").read_text()
    assert text.startswith("# nativek8s topology") and "# " in text.split("datacentres:")[1]
    check = run_cli(["validate", "lab.yaml"])
    assert check.exit_code == 0, check.output
    assert check.stdout == "lab.yaml: valid: lab 'lab', 3 datacentres, 6 nodes\n"
    topo, _ = load_topology("lab.yaml")
    assert [len(dc.nodes) for dc in topo.datacentres.values()] == [2, 2, 2]
    assert isolated.untouched()


@pytest.mark.parametrize(("dcs", "per_dc"), [(1, 1), (95, 2), (96, 1), (2, 129), (254, 3)])
def test_init_sizes_all_validate(dcs: int, per_dc: int):
    from nativek8s.core.init_template import topology_text
    from nativek8s.core.load import parse_topology
    from nativek8s.core.validate import check_topology

    topo, _ = parse_topology(topology_text(dcs, per_dc, "big"))
    errors, warnings = check_topology(topo)
    assert errors == [] and warnings == []
    assert sum(len(d.nodes) for d in topo.datacentres.values()) == dcs * per_dc


def test_init_refuses_to_overwrite(tmp_path: Path):
    target = tmp_path / "lab.yaml"
    target.write_text("mine\n")
    result = run_cli(["init", "-o", str(target)])
    assert result.exit_code == 2
    assert "exists; choose another file or pass --force" in result.stderr
    assert target.read_text() == "mine\n"
    forced = run_cli(["init", "-o", str(target), "--force", "--name", "mine"])
    assert forced.exit_code == 0
    assert "name: mine\n" in target.read_text()


def test_validate_default_and_file(builtin_registry, isolated):
    assert run_cli(["validate"]).stdout == \
        "reference: valid: lab 'reference', 2 datacentres, 2 nodes\n"
    result = run_cli(["validate", str(THREE_DC)])
    assert result.exit_code == 0 and "3 datacentres, 6 nodes" in result.stdout
    assert isolated.untouched()


def test_validate_missing_file(builtin_registry, tmp_path: Path):
    result = run_cli(["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path}/nope.yaml: no such file; run "
                             f"`nativek8s init --out {tmp_path}/nope.yaml` to write one\n")


def test_validate_flags_override_the_file(builtin_registry, sample_registry):
    result = run_cli(["validate", "--router", "sample-router", "--hypervisor", "sample-hv",
                      str(THREE_DC)])
    assert result.exit_code == 0, result.output


def test_netns_refuses_a_router_os_that_cannot_run_in_a_namespace(builtin_registry,
                                                                   sample_registry):
    """sample-router does not say how to run its daemon in a namespace: netns refuses it at
    validate time, naming the member and what to choose instead."""
    result = run_cli(["validate", "--router", "sample-router", "--hypervisor", "netns",
                      str(THREE_DC)])
    assert result.exit_code == 2
    assert ("plugins.router: the netns hypervisor cannot run the router OS plugin "
            "'sample-router': it does not implement namespace_daemon") in result.stderr
    assert "--router" in result.stderr


def test_netns_refuses_a_cni_without_bgp_intent_before_anything_is_made(builtin_registry,
                                                                      sample_registry, tmp_path,
                                                                      monkeypatch):
    """sample-cni gives no BGP intent: netns could not run the nodes' speakers. validate and
    doctor say so (exit 2) and no lab state appears."""
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path / "state"))
    for command in ("validate", "doctor"):
        result = run_cli([command, "--cni", "sample-cni", "-f", str(THREE_DC)])
        assert result.exit_code == 2, result.output
        assert ("plugins.cni: the CNI plugin 'sample-cni' gives no BGP intent for cp-1, "
                "worker-1, worker-2, worker-3, worker-4, worker-5") in result.stderr
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*.json"))


def test_plan_json_round_trips(builtin_registry, isolated):
    result = run_cli(["plan", "-f", str(THREE_DC), "-o", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc.pop("apiVersion"), doc.pop("kind")) == ("nativek8s/v1", "Plan")
    plan = Plan.model_validate(doc)
    assert plan == build_plan(load_topology(str(THREE_DC))[0])
    assert doc["lab"] == "three"
    assert isolated.untouched()


def test_plan_table_head(builtin_registry):
    result = run_cli(["plan"])
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "lab reference: hypervisor netns, router openwrt, nodeos talos, cni cilium\n"
        "cluster reference: endpoint https://10.1.0.10:6443, pods 10.244.0.0/16 (/24 per node),"
        " services 10.96.0.0/12, AS 65001; routers AS 65000\n")
    for section in ("\nnetworks\n", "\nmachines\n", "\nbgp sessions\n", "\nexpected routes\n"):
        assert section in result.stdout
        header = result.stdout.split(section, 1)[1].splitlines()[0].split()
        assert header[0] in ("NAME", "PREFIX")  # every table has its column header


def test_plan_of_a_bad_file_exits_2(builtin_registry, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    result = run_cli(["plan", "-f", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert "datacentres: required key is missing" in result.stderr


def test_render_writes_each_plugins_files(sample_registry, isolated, tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli(["render", "-f", str(THREE_DC), "--out", str(out), *SAMPLE_COMPOSITION])
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted([
        "sample-hv/networks.txt",
        *(f"sample-os/{n}.conf" for n in
          ("cp-1", "worker-1", "worker-2", "worker-3", "worker-4", "worker-5")),
        *(f"sample-router/router-{i}/peers.txt" for i in (1, 2, 3)),
        "sample-router/md5.secret",
    ])
    assert sorted(result.stdout.splitlines()) == sorted(str(out / w) for w in written)
    assert result.stderr.endswith(f"{len(written)} files written under {out}\n")
    assert (out / "sample-router/router-2/peers.txt").read_text().splitlines() == [
        "10.255.0.1", "10.255.0.3", "10.2.0.10", "10.2.0.11"]
    # The secret: generated once in the lab's state, mode 0600, the same on a second render.
    secret = out / "sample-router/md5.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    stored = isolated.state / "labs" / "three" / "secrets" / "bgp-md5"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert secret.read_text() == stored.read_text() != ""
    assert secret.read_text() not in result.output
    again = run_cli(["render", "-f", str(THREE_DC), "--out", str(out), *SAMPLE_COMPOSITION])
    assert again.exit_code == 0 and secret.read_text() == stored.read_text()


def test_render_with_the_builtins(builtin_registry, isolated, tmp_path: Path):
    """Whatever the built-in plugins render lands under DIR/<plugin>/, listed on stdout."""
    out = tmp_path / "out"
    result = run_cli(["render", "--out", str(out)])
    assert result.exit_code == 0, result.output
    listed = [Path(line) for line in result.stdout.splitlines()]
    on_disk = sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []
    assert sorted(listed) == on_disk
    assert result.stderr.endswith(f"{len(listed)} files written under {out}\n")
    plugins = {"netns", "openwrt", "talos", "cilium"}
    for path in listed:
        assert path.relative_to(out).parts[0] in plugins
        assert path.stat().st_size > 0


def test_render_uses_the_users_password_file(sample_registry, isolated, tmp_path: Path):
    (tmp_path / "bgp.pw").write_text("s3cret-from-user\n")
    (tmp_path / "bgp.pw").chmod(0o600)
    topo = tmp_path / "lab.yaml"
    topo.write_text(THREE_DC.read_text().replace("  md5: true\n", "  password_file: bgp.pw\n"))
    out = tmp_path / "out"
    result = run_cli(["render", "-f", str(topo), "--out", str(out), *SAMPLE_COMPOSITION])
    assert result.exit_code == 0, result.output
    assert (out / "sample-router/md5.secret").read_text() == "s3cret-from-user"
    assert isolated.untouched()  # nothing generated


def test_render_refuses_paths_outside_the_plugins_folder(sample_registry, tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli(["render", "--out", str(out), *SAMPLE_COMPOSITION, "--router", "escaping"])
    assert result.exit_code == 1
    assert "plugin 'escaping' rendered a file with a bad path '../outside.txt'" in result.stderr
    assert not out.exists() and not (tmp_path / "outside.txt").exists()


def test_render_with_a_plugin_lacking_its_interface(sample_registry, tmp_path: Path):
    result = run_cli(["render", "--out", str(tmp_path / "o"), *SAMPLE_COMPOSITION,
                      "--router", "hollow"])
    assert result.exit_code == 1
    assert result.stderr == ("error: router OS plugin 'hollow' (in-process) lacks bgp_daemon, "
                             "bgp_sessions required by RouterOS\n")


def test_plugins_json_lists_builtins(builtin_registry):
    result = run_cli(["plugins", "-o", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["apiVersion"], doc["kind"]) == ("nativek8s/v1", "PluginList")
    rows = doc["plugins"]
    kinds = {r["name"]: r["kind"] for r in rows}
    assert kinds["netns"] == kinds["libvirt"] == kinds["proxmox"] == "hypervisor"
    assert (kinds["openwrt"], kinds["talos"], kinds["cilium"]) == ("router", "nodeos", "cni")
    for row in rows:
        assert row["distribution"].startswith("nativek8s ")
        assert set(row) == {"name", "kind", "distribution", "module", "description", "hooks"}


def test_plugins_table(builtin_registry):
    lines = run_cli(["plugins"]).stdout.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "DISTRIBUTION", "HOOKS"]
    assert [line.split()[0] for line in lines[1:]] == [
        "libvirt", "netns", "proxmox", "openwrt", "talos", "cilium"]
    assert lines[4].split()[1:3] == ["router", "nativek8s"]


def test_deploy_of_a_bad_topology_creates_nothing(builtin_registry, isolated):
    bad = DATA / "bad_topologies" / "several-errors.yaml"
    result = run_cli(["deploy", "-f", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: 8 problems in {bad}:\n")
    assert isolated.untouched()


@pytest.mark.parametrize("command", [["status"], ["verify"], ["status", "nolab"]])
def test_lab_commands_without_a_lab(command: list[str], builtin_registry, isolated):
    result = run_cli(command)
    assert result.exit_code == 2
    assert "no lab is deployed" in result.stderr and result.stdout == ""
    assert isolated.untouched()


def test_destroy_without_a_lab_says_so(builtin_registry, isolated):
    result = run_cli(["destroy"])
    assert result.exit_code == 0
    assert result.stderr == "nothing to destroy: no lab is deployed\n"
    assert isolated.untouched()


def test_cli_import_is_light():
    """`nativek8s --help` must not pay for heavy libraries: none is imported with the CLI."""
    heavy = ["pydantic", "jinja2", "yaml", "libvirt", "kubernetes", "proxmoxer", "pluggy"]
    code = ("import sys, nativek8s.core.cli.main; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    proc = subprocess.run([*CLI[:1], "-c", code], check=False, env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def test_help_process_imports_nothing_heavy():
    code = ("import sys, runpy; sys.argv = ['nativek8s', '--help']\n"
            "try:\n    runpy.run_module('nativek8s.core.cli.main', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'pydantic', 'jinja2', 'yaml', 'pluggy', 'libvirt', 'kubernetes', 'proxmoxer'}))")
    proc = subprocess.run([*CLI[:1], "-c", code], check=False, env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("[]\n") and "Usage: nativek8s" in proc.stdout


def test_a_netns_lab_loads_no_code_of_plugins_it_does_not_run(tmp_path: Path):
    """What deploy does before its first step (render, then doctor) imports nothing of the
    hypervisors the lab does not use, of the node OS and CNI netns emulates (but Cilium's
    BGP intent), nor the download code (HTTP, TLS): every deploy would pay for them."""
    plugins = "nativek8s.plugins."
    unused = [f"{plugins}hypervisors.libvirt.libvirt", f"{plugins}hypervisors.libvirt.doctor",
              f"{plugins}hypervisors.proxmox.proxmox", f"{plugins}hypervisors.proxmox.doctor",
              f"{plugins}nodeos.talos.talos", f"{plugins}nodeos.talos.doctor",
              f"{plugins}cni.cilium.doctor", f"{plugins}cni.cilium.render",
              "nativek8s.core.downloads", "http.client", "ssl"]
    code = (
        "import sys\n"
        "from nativek8s.core.doctor import findings\n"
        "from nativek8s.core.engine.lab import context\n"
        "from nativek8s.core.engine.state import LabState\n"
        "from nativek8s.core.load import load_topology\n"
        "from nativek8s.core.plan import build_plan\n"
        "from nativek8s.core.registry import registry\n"
        "from nativek8s.core.render import render_files\n"
        "reg = registry()\n"
        "plan = build_plan(load_topology(None, reg, deployable=True)[0])\n"
        "ctx = context(plan, LabState(plan.lab), reg, lambda _: None)\n"
        "ctx.rendered = render_files(plan, ctx.plugins, ctx.secrets, ctx.plugins.emulated())\n"
        "findings(ctx, reg.pm.hook.nativek8s_doctor_checks)\n"
        f"print([m for m in {unused!r} if m in sys.modules])")
    proc = subprocess.run([*CLI[:1], "-c", code], check=False, capture_output=True, text=True,
                          env=cli_env(NATIVEK8S_STATE_DIR=str(tmp_path)), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def test_every_public_api_name_resolves_the_lazy_ones_too():
    import nativek8s.api as api
    from nativek8s.core import downloads

    assert [name for name in api.__all__ if not hasattr(api, name)] == []
    assert api.downloads is downloads and api.fetch is downloads.fetch


def test_secret_store_never_regenerates(tmp_path: Path):
    store = SecretStore(tmp_path / "secrets")
    first = store.get("token")
    assert store.get("token") == first and len(first) >= 20
    assert stat.S_IMODE((tmp_path / "secrets" / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
