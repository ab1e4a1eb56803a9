"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import upstream
from tests.support.golden import OPTION, Golden


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, action="store_true",
                     help="rewrite the golden files in tests/data instead of comparing with them")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """``golden.check(path, text)`` / ``golden.check_tree(folder, {name: text})`` against tests/data."""
    return Golden(update=bool(request.config.getoption(OPTION)))


@pytest.fixture
def upstream_file() -> Callable[[str], Path]:
    """``upstream_file("talos/config.schema.v1.13.9.json")``: the upstream file, or the test
    skips naming it and the command that fetches it (fails with NATIVEK8S_REQUIRE_ALL=1)."""
    return upstream.require
