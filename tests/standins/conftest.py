"""Fixtures for the stand-in tests (see ``talos_harness``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.standins.talos_harness import SCHEMA, SCHEMA_14, Talos, make_launcher
from tests.upstream import require


@pytest.fixture(scope="session")
def standin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin directory whose ``talosctl`` runs the stand-in; prepend it to PATH."""
    return make_launcher(tmp_path_factory.mktemp("standin-bin"))


@pytest.fixture
def talos(tmp_path: Path, standin_bin: Path) -> Talos:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NK8S_", "TALOSCONFIG"))}
    env.update(
        NK8S_TALOS_SIM=str(tmp_path / "sim.json"),
        NK8S_STANDIN_LOG=str(tmp_path / "calls.jsonl"),
        HOME=str(tmp_path / "home"),  # never read or write the real ~/.talos or ~/.kube
    )
    (tmp_path / "home").mkdir()
    (tmp_path / "sim.json").write_text('{"nodes": {}}')
    env["PATH"] = f"{standin_bin}{os.pathsep}{env.get('PATH', '')}"
    return Talos(cwd=tmp_path, env=env, executable=standin_bin / "talosctl")


@pytest.fixture
def talos_exe(talos: Talos) -> Talos:
    """Like ``talos``, but every call runs the real executable in a subprocess."""
    talos.subprocess = True
    return talos


@pytest.fixture
def schema() -> Path:
    return require(SCHEMA)


@pytest.fixture
def schema14() -> Path:
    return require(SCHEMA_14)
