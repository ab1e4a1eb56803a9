"""Shared fixtures: paths, an isolated state/cache, the built-in plugin registry, the CLI."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nativek8s.core.registry import (
    DISABLE_ENV,
    Registry,
    make_plugin_manager,
    reset_registry,
)

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
DATA = ROOT / "tests" / "data"


def other_plugin_distributions() -> list[str]:
    """Installed distributions other than nativek8s that declare nativek8s plugins."""
    return sorted({
        ep.dist.name for ep in metadata.entry_points(group="nativek8s")
        if ep.dist is not None and ep.dist.name != "nativek8s"
    })


def normalise(text: str) -> str:
    """Expected files hold `nativek8s <version>`, not the version installed today."""
    version = metadata.version("nativek8s")
    return text.replace(f"nativek8s {version}", "nativek8s <version>")


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m nativek8s.core.cli.main` subprocess using this tree's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATIVEK8S_", "NK8S_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), extra.pop("PYTHONPATH", "")]))
    env[DISABLE_ENV] = ",".join(other_plugin_distributions())
    env.update(extra)
    return env


CLI = [sys.executable, "-m", "nativek8s.core.cli.main"]


@dataclass
class Isolated:
    state: Path
    cache: Path

    def untouched(self) -> bool:
        return not self.state.exists() and not self.cache.exists()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Isolated:
    """State and cache directories that do not exist yet (so any write shows)."""
    iso = Isolated(tmp_path / "state", tmp_path / "cache")
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(iso.state))
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(iso.cache))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return iso


@pytest.fixture(scope="session")
def _builtin_registry_once() -> Registry:
    mp = pytest.MonkeyPatch()
    mp.setenv(DISABLE_ENV, ",".join(other_plugin_distributions()))
    try:
        return Registry(make_plugin_manager())
    finally:
        mp.undo()


@pytest.fixture
def builtin_registry(_builtin_registry_once: Registry):
    """The process-wide registry with nativek8s's own plugins only (other installed plugin
    packages would change 'choose one of' lists)."""
    reset_registry(_builtin_registry_once)
    yield _builtin_registry_once
    reset_registry(None)


def run_cli(args: list[str], **kwargs) -> Result:
    """The real `nativek8s` command group, in process, stdout and stderr apart."""
    from nativek8s.core.cli.main import cli

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli, args, catch_exceptions=False, **kwargs)


@pytest.fixture
def sample_registry(monkeypatch: pytest.MonkeyPatch):
    """Built-in plugins plus tests/core/sample_plugins.py, as the process-wide registry."""
    from .sample_plugins import SamplePlugin

    monkeypatch.setenv(DISABLE_ENV, ",".join(other_plugin_distributions()))
    reg = Registry(make_plugin_manager([SamplePlugin()]))
    monkeypatch.delenv(DISABLE_ENV)
    reset_registry(reg)
    yield reg
    reset_registry(None)
