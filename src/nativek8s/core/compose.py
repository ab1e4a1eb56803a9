"""Composition: the plugin object chosen for each role of a plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan import Plan
from .registry import Registry


@dataclass
class Selected:
    """The plugin objects a plan uses; hypervisors by name (datacentres may differ)."""

    hypervisors: dict[str, Any]
    router: Any
    nodeos: Any
    cni: Any

    def as_roles(self) -> dict[str, Any]:
        roles = {"router": self.router, "nodeos": self.nodeos, "cni": self.cni}
        roles.update({f"hypervisor:{n}": h for n, h in self.hypervisors.items()})
        return roles

    def hypervisor_for(self, plan: Plan, datacentre: str) -> Any:
        return self.hypervisors[plan.composition.datacentre_hypervisors[datacentre]]

    def named(self) -> dict[str, Any]:
        """Plugin name → object, each once."""
        objs = {**self.hypervisors, self.router.name: self.router,
                self.nodeos.name: self.nodeos, self.cni.name: self.cni}
        return objs


def select(plan: Plan, registry: Registry) -> Selected:
    comp = plan.composition
    names = {comp.hypervisor, *comp.datacentre_hypervisors.values()}
    return Selected(
        hypervisors={n: registry.create("hypervisor", n) for n in sorted(names)},
        router=registry.create("router", comp.router),
        nodeos=registry.create("nodeos", comp.nodeos),
        cni=registry.create("cni", comp.cni),
    )
