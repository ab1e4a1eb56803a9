"""Fixtures of the openwrt plugin tests: plans from topologies, rendered files, BIRD."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nativek8s.api import RenderContext, RenderedFile, SecretStore
from nativek8s.core.load import load_topology
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.registry import registry
from nativek8s.plugins.routers.openwrt.openwrt import Openwrt


@dataclass
class Rendered:
    plan: Plan
    files: list[RenderedFile]
    secrets: SecretStore

    def file(self, router: str, target: str) -> RenderedFile:
        found = [f for f in self.files if f.machine == router and f.target == target]
        assert len(found) == 1, f"{router}:{target} rendered {len(found)} times"
        return found[0]

    def text(self, router: str, target: str) -> str:
        content = self.file(router, target).content
        assert isinstance(content, str)
        return content


def plan_of(tmp_path: Path, yaml_text: str | None) -> Plan:
    path = None
    if yaml_text is not None:
        path = tmp_path / "topology.yaml"
        path.write_text(yaml_text)
    topo, _ = load_topology(str(path) if path else None, registry())
    return build_plan(topo)


@pytest.fixture
def render_lab(tmp_path: Path) -> Callable[[str | None], Rendered]:
    """Render a topology (None: the reference lab) with secrets kept under tmp_path."""

    def render(yaml_text: str | None) -> Rendered:
        plan = plan_of(tmp_path, yaml_text)
        secrets = SecretStore(tmp_path / "secrets")
        files = Openwrt().render(RenderContext(plan=plan, secrets=secrets))
        return Rendered(plan, files, secrets)

    return render


@pytest.fixture(scope="session")
def bird_binary() -> str:
    found = shutil.which("bird")
    if found is None:
        pytest.skip("BIRD 2 is not installed (Debian: apt-get install bird2)")
    return found


@pytest.fixture
def bird_check(bird_binary: str, tmp_path: Path) -> Callable[[str], subprocess.CompletedProcess]:
    """Run `bird -p -c FILE` on a configuration text (parse only, nothing runs)."""
    count = 0

    def check(text: str) -> subprocess.CompletedProcess:
        nonlocal count
        count += 1
        conf = tmp_path / f"bird-{count}.conf"
        conf.write_text(text)
        return subprocess.run([bird_binary, "-p", "-c", str(conf)], capture_output=True,
                              text=True, timeout=30)

    return check
