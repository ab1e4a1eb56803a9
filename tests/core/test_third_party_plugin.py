"""A real third-party plugin package: built by pip (PEP 517, flit_core backend) and installed
with `pip install --target` into a temporary folder, then found through its entry points.

The package (nativek8s-frr-lab) declares four entry points, so one build serves every case;
each test disables the ones it does not want with NATIVEK8S_DISABLE_PLUGINS:
  frr-lab     a complete router OS `frr-lab` and a topology check
  frr-dup     a router OS named `openwrt`, clashing with the built-in
  frr-typo    a misspelled hook
  frr-hollow  a router OS `frr-hollow` whose object lacks the RouterOS methods
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nativek8s.core.errors import PluginError, UsageError
from nativek8s.core.load import load_topology
from nativek8s.core.registry import DISABLE_ENV, Registry, make_plugin_manager

from .conftest import CLI, cli_env, other_plugin_distributions

DIST, VERSION = "nativek8s-frr-lab", "0.3.1"
ALL_EPS = ("frr-lab", "frr-dup", "frr-typo", "frr-hollow")

PYPROJECT = f"""
[build-system]
requires = ["flit_core>=3.4,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "{DIST}"
version = "{VERSION}"
description = "FRRouting for nativek8s labs (test package)"

[project.entry-points.nativek8s]
frr-lab = "frr_lab.plugin"
frr-dup = "frr_lab.dup"
frr-typo = "frr_lab.typo"
frr-hollow = "frr_lab.hollow"

[tool.flit.module]
name = "frr_lab"
"""

MODULES = {
    "__init__.py": '"""FRRouting for nativek8s labs."""\n',
    "plugin.py": '''
        from nativek8s.api import BgpDaemon, Problem, RenderedFile, RouterOS, RouterOSSpec, hookimpl


        class FrrLab(RouterOS):
            name = "frr-lab"

            def render(self, ctx):
                return [RenderedFile(path=f"{r.name}/frr.conf", machine=r.name,
                                     target="/etc/frr/frr.conf", content=f"router bgp {r.asn}\\n")
                        for r in ctx.plan.routers]

            def bgp_daemon(self, router):
                return BgpDaemon(kind="frr", config_target="/etc/frr/frr.conf")

            def bgp_sessions(self, router, access):
                return []


        @hookimpl
        def nativek8s_router_oses():
            return [RouterOSSpec(name="frr-lab", factory=FrrLab, description="FRRouting")]


        @hookimpl
        def nativek8s_validate_topology(topology):
            if topology.plugins.router == "frr-lab" and topology.bgp.hold_time < 10:
                return [Problem("bgp.hold_time", "frr-lab needs a hold time of at least 10 s; "
                                                 "set bgp.hold_time: 10")]
            return []
    ''',
    "dup.py": '''
        from nativek8s.api import RouterOSSpec, hookimpl
        from .plugin import FrrLab


        @hookimpl
        def nativek8s_router_oses():
            return [RouterOSSpec(name="openwrt", factory=FrrLab)]
    ''',
    "typo.py": '''
        from nativek8s.api import hookimpl


        @hookimpl
        def nativek8s_validate_topologies(topology):
            return []
    ''',
    "hollow.py": '''
        from nativek8s.api import RouterOS, RouterOSSpec, hookimpl


        class Hollow(RouterOS):
            name = "frr-hollow"

            def render(self, ctx):
                return []


        @hookimpl
        def nativek8s_router_oses():
            return [RouterOSSpec(name="frr-hollow", factory=Hollow)]
    ''',
}


def _pip(*args: str, cwd: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q",
                           *args], check=False, cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder holding the installed package (frr_lab/ and its .dist-info)."""
    root = tmp_path_factory.mktemp("frr-lab")
    source = root / "source"
    (source / "src" / "frr_lab").mkdir(parents=True)
    (source / "pyproject.toml").write_text(PYPROJECT)
    for name, text in MODULES.items():
        (source / "src" / "frr_lab" / name).write_text(textwrap.dedent(text).lstrip())
    target = root / "site"
    # Without build isolation when the backend is here (offline); else pip fetches flit_core.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("flit_core") else []
    _pip("install", "--no-deps", *isolation, "--target", str(target), str(source), cwd=root)
    assert (target / f"nativek8s_frr_lab-{VERSION}.dist-info" / "entry_points.txt").exists()
    return target


def _disable(*keep: str) -> str:
    """Disable other plugin packages, and this one's entry points not in keep."""
    others = [d for d in other_plugin_distributions() if d != DIST]
    return ",".join([*others, *(e for e in ALL_EPS if e not in keep)])


def _run(installed: Path, args: list[str], keep: tuple[str, ...], tmp_path: Path):
    env = cli_env(PYTHONPATH=str(installed), NATIVEK8S_STATE_DIR=str(tmp_path / "state"),
                  NATIVEK8S_CACHE_DIR=str(tmp_path / "cache"))
    env[DISABLE_ENV] = _disable(*keep)
    return subprocess.run([*CLI, *args], check=False, env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


def test_listed_with_its_distribution(installed: Path, tmp_path: Path):
    proc = _run(installed, ["plugins", "-o", "json"], ("frr-lab", "frr-hollow"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["plugins"]}
    assert rows["frr-lab"]["kind"] == "router"
    assert rows["frr-lab"]["distribution"] == f"{DIST} {VERSION}"
    assert rows["frr-lab"]["module"] == "frr_lab.plugin"
    assert rows["frr-lab"]["hooks"] == ["nativek8s_router_oses", "nativek8s_validate_topology"]
    assert rows["frr-hollow"]["distribution"] == f"{DIST} {VERSION}"
    assert rows["openwrt"]["distribution"].startswith("nativek8s ")
    table = _run(installed, ["plugins"], ("frr-lab",), tmp_path).stdout
    assert any(line.split()[:4] == ["frr-lab", "router", DIST, VERSION]
               for line in table.splitlines())


def test_selected_by_flag_and_checks_topologies(installed: Path, tmp_path: Path):
    topo = tmp_path / "lab.yaml"
    topo.write_text("name: frr\ndatacentres:\n  dc1:\n    nodes:\n      n1: {role: controlplane}"
                    "\nbgp:\n  hold_time: 30\n  keepalive_time: 10\n")
    proc = _run(installed, ["plan", "-f", str(topo), "--router", "frr-lab", "-o", "json"],
                ("frr-lab",), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["composition"]["router"] == "frr-lab"
    # The reference lab's 9 s hold time: the plugin's own check speaks.
    proc = _run(installed, ["validate", "--router", "frr-lab"], ("frr-lab",), tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == ("error: 1 problem in reference:\n  reference:39: bgp.hold_time: "
                           "frr-lab needs a hold time of at least 10 s; set bgp.hold_time: 10\n")
    assert list(tmp_path.iterdir()) == [topo]  # no state, no cache


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch):
    """The package importable in this process; its modules forgotten afterwards."""
    monkeypatch.syspath_prepend(str(installed))
    yield
    for name in [m for m in sys.modules if m == "frr_lab" or m.startswith("frr_lab.")]:
        del sys.modules[name]


def _registry(monkeypatch: pytest.MonkeyPatch, *keep: str) -> Registry:
    monkeypatch.setenv(DISABLE_ENV, _disable(*keep))
    return Registry(make_plugin_manager())


def test_duplicate_name_names_both_distributions(on_path, monkeypatch):
    with pytest.raises(PluginError) as err:
        _registry(monkeypatch, "frr-dup")
    message = str(err.value)
    assert "two router OS plugins are named 'openwrt'" in message
    assert f"from {DIST} {VERSION} (frr_lab.dup)" in message
    assert "nativek8s.plugins.routers.openwrt.plugin" in message


def test_misspelled_hook_fails_check_pending(on_path, monkeypatch):
    with pytest.raises(PluginError) as err:
        _registry(monkeypatch, "frr-typo")
    assert str(err.value).startswith(
        f"plugin 'frr-typo' ({DIST} {VERSION}) implements unknown hooks: "
        "nativek8s_validate_topologies (did you mean nativek8s_validate_topology?)")
    assert str(err.value).endswith(f"or disable it with {DISABLE_ENV}=frr-typo")


def test_disabled_by_entry_point_or_distribution(on_path, monkeypatch):
    assert "frr-lab" in _registry(monkeypatch, "frr-lab").names("router")
    assert "frr-lab" not in _registry(monkeypatch).names("router")
    others = [d for d in other_plugin_distributions() if d != DIST]
    monkeypatch.setenv(DISABLE_ENV, ",".join([*others, DIST]))
    assert Registry(make_plugin_manager()).names("router") == ["openwrt"]


def test_unknown_name_lists_every_choice_with_its_distribution(on_path, monkeypatch):
    reg = _registry(monkeypatch, "frr-lab", "frr-hollow")
    choices = reg.choices("router")
    assert choices.startswith(f"frr-hollow ({DIST} {VERSION}), frr-lab ({DIST} {VERSION}), "
                              "openwrt (nativek8s ")
    with pytest.raises(UsageError) as err:
        load_topology(None, reg, router="bird")
    assert str(err.value) == f"--router bird: no router OS plugin is named 'bird'; choose one " \
                             f"of: {choices}"


def test_object_lacking_its_interface(on_path, monkeypatch):
    reg = _registry(monkeypatch, "frr-hollow")
    with pytest.raises(PluginError, match=rf"router OS plugin 'frr-hollow' \({DIST} {VERSION}\) "
                                          r"lacks bgp_daemon, bgp_sessions required by RouterOS"):
        reg.create("router", "frr-hollow")


def test_two_distributions_declaring_one_entry_point_name(on_path, monkeypatch, tmp_path: Path):
    # A second installed distribution (the metadata pip writes) reusing the name `openwrt`.
    info = tmp_path / "nativek8s_openwrt_fork-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nativek8s-openwrt-fork\n"
                                   "Version: 2.0\n")
    (info / "entry_points.txt").write_text("[nativek8s]\nopenwrt = frr_lab.dup\n")
    monkeypatch.setenv(DISABLE_ENV, _disable())  # before the fork is on the path: keep it
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as err:
        make_plugin_manager()
    message = str(err.value)
    assert message.startswith("two distributions declare the plugin entry point 'openwrt': ")
    assert "nativek8s-openwrt-fork 2.0" in message and "nativek8s 0." in message
