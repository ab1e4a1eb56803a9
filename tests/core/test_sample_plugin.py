"""A plugin written only from docs/plugins.md and `nativek8s.api` (tests/sample_plugin): it
type-checks under `mypy --strict`, builds as a wheel, is found through its entry point and
renders. (tests/e2e/test_sample_plugin_netns.py deploys it on the netns backend.)"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sample_plugin import DIST, ENTRY_POINT, HERE, VERSION, install

from .conftest import CLI, cli_env, other_plugin_distributions

PLUGIN = HERE / "src" / "nk8s_sample" / "plugin.py"


def _mypy(folder: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(folder / ".mypy_cache"), str(folder / "src")],
                          check=False, capture_output=True, text=True, timeout=300,
                          cwd=folder)


def test_imports_only_the_public_api():
    tree = ast.parse(PLUGIN.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in modules if m and m.startswith("nativek8s")} == {"nativek8s.api"}


def test_type_checks_strictly(tmp_path: Path):
    shutil.copytree(HERE / "src", tmp_path / "src")
    proc = _mypy(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The check bites: the same plugin returning the wrong type from bgp_intent fails it.
    broken = PLUGIN.read_text().replace("        return intents\n",
                                        "        return [i.node for i in intents]\n")
    (tmp_path / "src" / "nk8s_sample" / "plugin.py").write_text(broken)
    proc = _mypy(tmp_path)
    assert proc.returncode == 1
    assert "plugin.py:50: error: List comprehension has incompatible type List[str]; expected " \
           "List[SpeakerIntent]" in proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install(tmp_path_factory.mktemp("sample-plugin"))


def _cli(installed: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(PYTHONPATH=str(installed), NATIVEK8S_STATE_DIR=str(tmp_path / "state"),
                  NATIVEK8S_CACHE_DIR=str(tmp_path / "cache"))
    env["NATIVEK8S_DISABLE_PLUGINS"] = ",".join(
        d for d in other_plugin_distributions() if d != DIST)
    return subprocess.run([*CLI, *args], check=False, env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def test_found_through_its_entry_point(installed: Path, tmp_path: Path):
    proc = _cli(installed, tmp_path, "plugins", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["plugins"]}
    assert rows[ENTRY_POINT]["kind"] == "cni"
    assert rows[ENTRY_POINT]["distribution"] == f"{DIST} {VERSION}"


def test_renders_with_its_options(installed: Path, tmp_path: Path):
    topo = tmp_path / "lab.yaml"
    topo.write_text("name: sample\ndatacentres:\n  dc1:\n    nodes:\n"
                    "      n1: {role: controlplane}\n"
                    "options:\n  sample-bgp: {announce_pods: false}\n")
    out = tmp_path / "out"
    proc = _cli(installed, tmp_path, "render", "-f", str(topo), "--cni", "sample-bgp",
                "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = (out / "sample-bgp" / "speakers.txt").read_text()
    assert text.splitlines()[0].startswith("n1 AS")
    assert text.splitlines()[-1] == "announce_pods: False"
    # Its options model is the topology's check: a wrong key is refused with its YAML path.
    topo.write_text(topo.read_text().replace("announce_pods", "announce"))
    proc = _cli(installed, tmp_path, "render", "-f", str(topo), "--cni", "sample-bgp",
                "--out", str(out))
    assert proc.returncode == 2
    assert "options.sample-bgp.announce" in proc.stderr


def test_the_docs_show_this_very_plugin():
    """docs/plugins.md's example is the sample plugin, so what the docs show type-checks,
    builds and deploys (the tests above and tests/e2e/test_sample_plugin_netns.py)."""
    docs = (HERE.parents[1] / "docs" / "plugins.md").read_text()
    example = docs.split("```python\n", 1)[1].split("```", 1)[0]
    assert example in PLUGIN.read_text()
    assert example.startswith("from pydantic import") and "def nativek8s_cnis()" in example
