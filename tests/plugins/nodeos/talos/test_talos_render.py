"""`render` of the talos plugin: a patch per node, the cluster patches and the talosctl
script, which is valid shell, in deploy order, and holds no secret."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from nativek8s.api import NodeOS, RenderContext, SecretStore
from nativek8s.plugins.nodeos.talos.plugin import _factory
from tests.plugins.nodeos.talos.talos_plans import VERSIONS, reference, three_dc


def _render(plan, tmp_path: Path):
    plugin = _factory()
    assert isinstance(plugin, NodeOS)
    return {f.path: f for f in plugin.render(RenderContext(plan, SecretStore(tmp_path)))}


@pytest.mark.parametrize("version", VERSIONS)
def test_files_per_node_and_cluster(version: str, tmp_path: Path) -> None:
    plan = three_dc(version)
    files = _render(plan, tmp_path)
    expected = {"cluster.patch.yaml", "provision.sh",
                *(f"{n.name}/patch.yaml" for n in plan.nodes)}
    if version.startswith("1.14"):
        expected.add("controlplane.patch.yaml")
    assert set(files) == expected
    for node in plan.nodes:
        assert files[f"{node.name}/patch.yaml"].machine == node.name
    assert not any(f.secret for f in files.values())
    assert not list(tmp_path.iterdir())  # rendering generates no secret


@pytest.mark.parametrize("version", VERSIONS)
def test_script_is_valid_shell_in_deploy_order(version: str, tmp_path: Path) -> None:
    plan = reference(version)
    script = _render(plan, tmp_path)["provision.sh"].content
    path = tmp_path / "provision.sh"
    path.write_text(script)
    subprocess.run(["sh", "-n", str(path)], check=True)
    calls = []
    for line in script.splitlines():
        if "talosctl " in line and not line.startswith("#"):
            words = shlex.split(line)
            calls.append(" ".join(words[words.index("talosctl") + 1:][:2]))
    assert calls == ["gen secrets", "gen config", "apply-config --insecure",
                     "apply-config --insecure", "bootstrap --nodes", "kubeconfig $KUBECONFIG_OUT",
                     "get machinestatus"]
    assert '[ -e "$SECRETS" ] || talosctl gen secrets' in script  # once per lab
    if version.startswith("1.14"):
        assert '--config-patch-control-plane "@$PATCHES/controlplane.patch.yaml"' in script
    else:
        assert "--config-patch-control-plane" not in script
    assert "--merge=false" in script and "~/.kube" not in script.replace("not ~/.kube", "")


def test_script_reads_secrets_from_files_only(tmp_path: Path) -> None:
    """Every path the script passes is a variable or a rendered patch: no key material."""
    script = _render(reference(), tmp_path)["provision.sh"].content
    for line in script.splitlines():
        if line.startswith("talosctl"):
            for arg in shlex.split(line, posix=False):
                assert "BEGIN" not in arg and len(arg) < 200, arg
    assert "--with-secrets \"$SECRETS\"" in script
    assert "--talosconfig \"$TALOSCONFIG\"" in script
