"""Fixtures of the libvirt plugin's tests. Tier 1: libvirt's test driver, one connection.
Tier 2: a private libvirtd and the stand-in guest (``tests/libvirt_env``, see its README)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed "
                              "(pip install nativek8s[libvirt])")

from nativek8s.core.engine.state import LabState  # noqa: E402 - after importorskip
from nativek8s.core.registry import Registry  # noqa: E402 - after importorskip
from nativek8s.plugins.hypervisors.libvirt.connection import binding, pinned  # noqa: E402 - after importorskip
from tests.libvirt_env.fixtures import (  # noqa: E402,F401 - tier-2 fixtures
    libvirt_conn,
    libvirt_daemon,
    libvirt_uri,
    standin_guest,
)

from .libvirt_lab import NODE_XML, MediaFiles, Recording, registry_with  # noqa: E402 - after importorskip
from .standin_os import StandinOSes  # noqa: E402 - after importorskip


@pytest.fixture
def test_uri(tmp_path: Path) -> str:
    """A private test-driver hypervisor: every open of this URI starts from NODE_XML."""
    node = tmp_path / "node.xml"
    node.write_text(NODE_XML)
    return f"test://{node}"


@pytest.fixture
def calls() -> list[str]:
    """Changing calls the code under test made through the connection."""
    return []


@pytest.fixture
def conn(test_uri: str, calls: list[str]) -> Iterator[Any]:
    """The raw connection the test uses to look; the code under test gets a recording
    wrapper of the same one."""
    binding()  # quiet libvirt's stderr printing
    raw = libvirt.open(test_uri)
    with pinned(test_uri, Recording(raw, calls)):
        yield raw
    raw.close()


@pytest.fixture
def media(tmp_path: Path) -> MediaFiles:
    return MediaFiles(tmp_path / "images")


@pytest.fixture
def oses(media: MediaFiles) -> StandinOSes:
    return StandinOSes(media)


@pytest.fixture
def registry(oses: StandinOSes) -> Registry:
    return registry_with(oses)


@pytest.fixture
def state(tmp_path: Path) -> LabState:
    return LabState("reference", root=tmp_path / "state")
