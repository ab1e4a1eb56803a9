"""What every deploy, destroy, status and verify call receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..compose import Selected
from ..errors import NativeK8sError
from ..kinds import RenderedFile
from ..plan import Plan
from ..report import Reporter
from ..secrets import SecretStore
from .state import LabState


@dataclass
class LabContext:
    plan: Plan
    state: LabState
    secrets: SecretStore
    plugins: Selected
    rendered: dict[str, list[RenderedFile]] = field(default_factory=dict)
    echo: Callable[[str], None] = print
    options: dict[str, object] = field(default_factory=dict)  # command-line extras
    # Progress and messages: plugins report waits through it and never print themselves.
    report: Reporter = field(default_factory=lambda: Reporter(sink=print))

    def hypervisor_for(self, datacentre: str) -> Any:
        """The hypervisor plugin object of a datacentre."""
        return self.plugins.hypervisor_for(self.plan, datacentre)

    def rendered_file(self, plugin: str, machine: str, target: str) -> RenderedFile:
        """The file a plugin rendered for a machine's path (e.g. a router's bird.conf)."""
        for f in self.rendered.get(plugin, []):
            if f.machine == machine and f.target == target:
                return f
        raise NativeK8sError(f"plugin {plugin!r} rendered no {target} for {machine}")
