"""Fixtures of the proxmox plugin's tests: the Proxmox VE API stand-in on 127.0.0.1 (real
HTTPS, real proxmoxer), a token file for it, and labs placed on its nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("proxmoxer")
pytest.importorskip("requests")

from tests.standins.proxmox_api import ProxmoxStandin, require_schema

from .pve_lab import Lab, captured_routers, make_plan, registry, topology, write_token


def _standin(nodes: tuple[str, ...]) -> Iterator[ProxmoxStandin]:
    require_schema()
    with ProxmoxStandin(nodes=nodes) as standin:
        yield standin


@pytest.fixture
def pve() -> Iterator[ProxmoxStandin]:
    """A one-node cluster ('pve')."""
    yield from _standin(("pve",))


@pytest.fixture
def pve2() -> Iterator[ProxmoxStandin]:
    """A two-node cluster ('pve1', 'pve2')."""
    yield from _standin(("pve1", "pve2"))


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "pve.token"


@pytest.fixture
def make_lab(tmp_path: Path, token_file: Path) -> Callable[..., Lab]:
    """make_lab(pve, nodes={dc: node}, **proxmox options) → a Lab on that stand-in."""
    reg = registry()

    def make(standin: ProxmoxStandin, nodes: dict[str, str] | None = None,
             **options: Any) -> Lab:
        write_token(token_file, standin.token)
        if standin.state.guest_for is None:  # routers answer their agent as real ones did
            standin.state.guest_for = captured_routers
        plan = make_plan(topology(standin, token_file, nodes, **options), reg)
        return Lab(plan, tmp_path / "state", reg)

    return make
