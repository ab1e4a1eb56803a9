"""Fixtures of the cilium plugin's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from nativek8s.core.secrets import SecretStore


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    return SecretStore(tmp_path / "secrets")
