"""The lab the talos provisioning tests drive: a plan, a state root and the talosctl
stand-in's simulation (``tests/standins/talos_sim``). A plain module with a name no other
test folder uses (tests import it; ``conftest`` only holds fixtures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nativek8s.api import CNI, Hypervisor, LabContext, LabState, NodeOS, Plan, PluginSet, RouterOS
from nativek8s.core.compose import select
from nativek8s.core.registry import registry
from tests.standins import talos_sim

FAST = {"poll_interval": 0.02, "maintenance_timeout": 20.0, "install_timeout": 20.0,
        "api_timeout": 20.0, "ready_timeout": 20.0, "command_timeout": 30.0}



class WithHypervisor:
    """A composition's plugins with another hypervisor object in every datacentre."""

    def __init__(self, plugins: PluginSet, hypervisor: Hypervisor):
        self._plugins, self._hypervisor = plugins, hypervisor

    @property
    def router(self) -> RouterOS:
        return self._plugins.router

    @property
    def nodeos(self) -> NodeOS:
        return self._plugins.nodeos

    @property
    def cni(self) -> CNI:
        return self._plugins.cni

    @property
    def hypervisors(self) -> dict[str, Hypervisor]:
        return {name: self._hypervisor for name in self._plugins.hypervisors}


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

    def context(self, hypervisor: Hypervisor | None = None) -> LabContext:
        """The plan's own composition (its hypervisor says which disk the nodes install
        to), or with ``hypervisor`` in every datacentre."""
        state = LabState(self.plan.lab, root=self.tmp / "state")
        plugins: PluginSet = select(self.plan, registry())
        if hypervisor is not None:
            plugins = WithHypervisor(plugins, hypervisor)
        return LabContext(plan=self.plan, state=state, secrets=state.secrets(self.plan),
                          plugins=plugins, echo=self.lines.append)

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
