"""The conformance kit (`nativek8s plugins check`, nativek8s.testing): every built-in plugin
and the FRR example pass it; a deliberately broken plugin fails it, each broken point named
with what to fix."""

from __future__ import annotations

import importlib.util

import pytest

from nativek8s.core.registry import DISABLE_ENV, Registry, make_plugin_manager, reset_registry
from nativek8s.testing import PluginContract
from nativek8s.testing.contract import check_plugin

from . import broken_plugin
from .conftest import other_plugin_distributions, run_cli

BUILTIN = ["netns", "libvirt", "proxmox", "openwrt", "talos", "cilium"]


@pytest.fixture
def broken_registry(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DISABLE_ENV, ",".join(other_plugin_distributions()))
    reg = Registry(make_plugin_manager([broken_plugin]))
    monkeypatch.delenv(DISABLE_ENV)
    reset_registry(reg)
    yield reg
    reset_registry(None)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_plugin_passes(builtin_registry, name):
    outcomes = check_plugin(builtin_registry, name, netns=False)
    assert [(o.check.name, o.failures) for o in outcomes if not o.ok] == []
    ran = {o.check.name for o in outcomes if not o.skipped}
    assert {"registration", "options", "render"} <= ran


def test_the_frr_example_passes_from_the_command_line():
    if importlib.util.find_spec("nativek8s_frr") is None:
        pytest.skip("the example is not installed: pip install -e examples/nativek8s-frr")
    reset_registry(None)
    result = run_cli(["plugins", "check", "frr", "--no-netns"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("router plugin frr (nativek8s-frr ")
    assert result.stdout.splitlines()[-1].endswith("passes the contract")
    assert "ok   validate-hook" in result.stdout


def test_a_broken_plugin_fails_naming_each_broken_point(broken_registry):
    result = run_cli(["plugins", "check", "broken", "--no-netns"])
    assert result.exit_code == 1
    out = result.stdout
    assert out.splitlines()[-1] == ("router plugin broken (in-process): breaks the contract: "
                                    "registration, options, render, validate-hook")
    for expected in [
        # registration
        "its RouterOSSpec has no description",
        "its object's name is 'broken-wrt', not the registered 'broken': set `name = 'broken'`",
        # options
        "its options cannot be left out (no default for colour)",
        "its options accept an unknown key ('no-such-option')",
        "option 'anything' accepts anything",
        # render
        "reference lab: rendering twice gives different output (router-1/etc/bird.conf)",
        "reference lab: ghost/notes is for machine 'ghost', which the plan does not have",
        "reference lab: no /etc/bird.conf rendered for router-2",
        "three-datacentre route-reflector lab: ",
        "holds the MD5 password but is not marked secret=True",
        # validate hook
        "problem 'something is wrong somewhere' is located at '', not a topology path",
        "the check returned 'not a problem object', not a Problem(path, message)",
        "problem 'no such top-level key' is located at 'routers.r1'",
    ]:
        assert expected in out, f"missing: {expected}\n{out}"


def test_an_unknown_plugin_is_a_usage_error(builtin_registry):
    result = run_cli(["plugins", "check", "nope"])
    assert result.exit_code == 2
    assert "no installed plugin is named 'nope'" in result.stderr


class TestOpenwrtContract(PluginContract):
    """The pytest face of the kit, as a plugin's own suite uses it."""

    plugin = "openwrt"
    netns = False


def test_the_pytest_plugin_checks_plugins_named_on_its_command_line(tmp_path):
    """`pytest -p nativek8s.testing --pyargs nativek8s.testing.suite --nativek8s-plugin X`:
    one test per check and plugin; the broken points fail the run."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "nativek8s.testing", "--pyargs", "nativek8s.testing.suite", "--nativek8s-plugin",
         "openwrt", "--nativek8s-plugin", "talos", "--nativek8s-no-netns", "-rs"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # registration, options, render for both; talos's topology check too; no netns
    assert proc.stdout.splitlines()[-1].startswith("7 passed, 3 skipped in ")


def test_plugins_check_needs_no_pytest(tmp_path):
    """A runtime install has no pytest: `plugins check` runs the checks all the same."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['pytest'] = None\n"  # `import pytest` fails from here on
            "from nativek8s.core.cli.main import main\n"
            "sys.argv = ['nativek8s', 'plugins', 'check', 'openwrt', '--no-netns']\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].endswith("passes the contract")
