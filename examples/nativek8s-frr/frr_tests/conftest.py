"""Fixtures of the FRR plugin's own tests: plans rendered through nativek8s's public API."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from nativek8s.api import Plan, RenderContext, SecretStore, Topology, build_plan

from nativek8s_frr.frr import Frr

# Three datacentres whose three routers exceed a full mesh of two: two route reflectors.
THREE_DC_RR = """
name: tri
bgp: {full_mesh_max_routers: 2, md5: true, hold_time: 30, keepalive_time: 10}
datacentres:
  dc1:
    nodes: {dc1-node-1: {role: controlplane}, dc1-node-2: {}}
  dc2:
    nodes: {dc2-node-1: {}}
  dc3:
    nodes: {dc3-node-1: {}}
"""

REFERENCE = """
name: reference
datacentres:
  dc1:
    lan: 10.1.0.0/24
    nodes: {node-1: {role: controlplane}}
  dc2:
    lan: 10.2.0.0/24
    nodes: {node-2: {role: worker}}
"""


def plan_of(text: str) -> Plan:
    return build_plan(Topology.model_validate(yaml.safe_load(text)).with_plugins(router="frr"))


@pytest.fixture
def render(tmp_path: Path):
    def make(text: str) -> tuple[Plan, dict[tuple[str, str], object]]:
        plan = plan_of(text)
        files = Frr().render(RenderContext(plan=plan, secrets=SecretStore(tmp_path / "secrets")))
        return plan, {(f.machine, f.target): f for f in files}
    return make


def dryrun(conf: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """FRR's own parser on a whole frr.conf (every daemon's commands): exit 0 if valid."""
    if shutil.which("vtysh") is None:
        pytest.skip("FRR is not installed (apt-get install frr; scripts/install-deps.sh --dev)")
    path = tmp_path / "frr.conf"
    path.write_text(conf)
    return subprocess.run(["vtysh", "--dryrun", "-f", str(path)], capture_output=True,
                          text=True, timeout=30)
