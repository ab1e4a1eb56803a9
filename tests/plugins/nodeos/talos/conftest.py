"""Fixtures of the talos plugin's tests: the talosctl stand-in (tests/standins) on PATH with
its simulation, call log and a private HOME, and a lab context in a temporary state root."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from talos_plans import reference
from talos_upstream import SCHEMAS, candidates

from nativek8s.core.engine.context import LabContext
from nativek8s.core.engine.state import LabState
from nativek8s.core.plan import Plan
from nativek8s.plugins.nodeos.talos.versions import parse_version

STANDINS = Path(__file__).resolve().parents[3] / "standins"
sys.path.insert(0, str(STANDINS))  # talos_sim: the stand-in's simulation helpers

import talos_sim

FAST = {"poll_interval": 0.02, "maintenance_timeout": 20.0, "install_timeout": 20.0,
        "api_timeout": 20.0, "ready_timeout": 20.0, "command_timeout": 30.0}


@pytest.fixture(scope="session")
def standin_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin folder whose ``talosctl`` runs the stand-in with this interpreter (``-S`` and
    no version-manager shim: ~0.1 s a call instead of ~0.4 s)."""
    directory = tmp_path_factory.mktemp("talosctl-bin")
    launcher = directory / "talosctl"
    paths = [p for p in sys.path if p]
    launcher.write_text(
        f"#!{sys.executable} -S\nimport sys\nsys.path.extend({paths!r})\nimport runpy\n"
        f"runpy.run_path({str(STANDINS / 'bin' / 'talosctl')!r}, run_name='__main__')\n")
    launcher.chmod(0o755)
    return directory


@dataclass
class Lab:
    """A lab whose nodes are simulated by the talosctl stand-in."""

    tmp: Path
    plan: Plan
    lines: list[str] = field(default_factory=list)

    @property
    def sim(self) -> Path:
        return self.tmp / "sim.json"

    @property
    def log(self) -> Path:
        return self.tmp / "calls.jsonl"

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    def context(self) -> LabContext:
        state = LabState(self.plan.lab, root=self.tmp / "state")
        return LabContext(plan=self.plan, state=state, secrets=state.secrets(self.plan),
                          plugins=None, echo=self.lines.append)  # type: ignore[arg-type]

    def nodes(self, **per_node: dict[str, Any]) -> None:
        """Simulate every node of the plan (in maintenance mode unless told otherwise)."""
        nodes = {str(n.address.ip): {"install_seconds": 0.05, **per_node.get(n.name, {})}
                 for n in self.plan.nodes}
        talos_sim.write_sim(self.sim, nodes)

    def state(self) -> dict[str, Any]:
        return talos_sim.read_sim(self.sim)

    def node(self, name: str) -> dict[str, Any]:
        return self.state()["nodes"][str(self.plan.machine(name).address.ip)]

    def fail(self, command: str, times: int = 1, node: str | None = None) -> None:
        """Make the next ``times`` calls of ``command`` fail (on one node, or any)."""
        with talos_sim.session(self.sim) as state:
            table = (state["nodes"][str(self.plan.machine(node).address.ip)] if node
                     else state).setdefault("fail", {})
            table[command] = times

    def calls(self, command: str | None = None) -> list[list[str]]:
        argvs = [c["argv"] for c in talos_sim.read_log(self.log)]
        if command is None:
            return argvs
        words = command.split()
        return [a for a in argvs if [w for w in a if not w.startswith("-")][:len(words)] == words]


@pytest.fixture
def make_lab(tmp_path: Path, standin_launcher: Path,
             monkeypatch: pytest.MonkeyPatch) -> Callable[..., Lab]:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(("NK8S_", "TALOSCONFIG", "KUBECONFIG")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))  # never the real ~/.talos or ~/.kube
    monkeypatch.setenv("NK8S_TALOS_SIM", str(tmp_path / "sim.json"))
    monkeypatch.setenv("NK8S_STANDIN_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("PATH", f"{standin_launcher}{os.pathsep}{os.environ['PATH']}")

    def make(version: str = "1.13.9", plan: Plan | None = None, **options: Any) -> Lab:
        plan = plan or reference(version, options={"talos": {**FAST, **options}})
        tag = parse_version(plan.versions["talos"])
        monkeypatch.setenv("NK8S_TALOSCTL_VERSION", tag.tag)  # talosctl of the same release
        for base in candidates():  # strict decoding against the real schema, when it is here
            if (base / "talos" / SCHEMAS[tag.minor_version]).is_file():
                monkeypatch.setenv("NK8S_TALOS_SCHEMA",
                                   str(base / "talos" / SCHEMAS[tag.minor_version]))
                break
        lab = Lab(tmp_path, plan)
        lab.nodes()
        return lab

    return make
