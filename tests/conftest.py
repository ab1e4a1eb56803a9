"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import upstream


@pytest.fixture
def upstream_file() -> Callable[[str], Path]:
    """``upstream_file("talos/config.schema.v1.13.9.json")``: the upstream file, or the test
    skips naming it and the command that fetches it (fails with NATIVEK8S_REQUIRE_ALL=1)."""
    return upstream.require
