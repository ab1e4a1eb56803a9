"""Fixtures of the cilium plugin's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nativek8s.core.secrets import SecretStore
from tests.support.launchers import write_launchers


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    return SecretStore(tmp_path / "secrets")


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The helm and cilium CLI stand-ins first on PATH; returns their call log."""
    bin_dir = write_launchers(tmp_path / "bin", ("helm", "cilium"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("NK8S_STANDIN_LOG", str(log))
    monkeypatch.setenv("NK8S_STANDIN_TIME_SCALE", "0.001")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # never the user's helm or kube config
    for name in ("NK8S_STANDIN_FAIL", "KUBECONFIG", "HELM_REPOSITORY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return log
