"""Composition: the plugin object chosen for each role of a plan."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .plan import Plan
from .registry import Registry


class Selected:
    """The plugin objects a plan uses; hypervisors by name (datacentres may differ).

    Each is created on first use: `destroy` needs only the hypervisor, so it does not pay
    for importing the router's image pipeline or the CNI's Kubernetes code.
    """

    def __init__(self, plan: Plan, registry: Registry):
        self._plan, self._registry = plan, registry

    @cached_property
    def hypervisors(self) -> dict[str, Any]:
        comp = self._plan.composition
        names = {comp.hypervisor, *comp.datacentre_hypervisors.values()}
        return {n: self._registry.create("hypervisor", n) for n in sorted(names)}

    @cached_property
    def router(self) -> Any:
        return self._registry.create("router", self._plan.composition.router)

    @cached_property
    def nodeos(self) -> Any:
        return self._registry.create("nodeos", self._plan.composition.nodeos)

    @cached_property
    def cni(self) -> Any:
        return self._registry.create("cni", self._plan.composition.cni)

    def as_roles(self) -> dict[str, Any]:
        roles = {"router": self.router, "nodeos": self.nodeos, "cni": self.cni}
        roles.update({f"hypervisor:{n}": h for n, h in self.hypervisors.items()})
        return roles

    def hypervisor_for(self, plan: Plan, datacentre: str) -> Any:
        return self.hypervisors[plan.composition.datacentre_hypervisors[datacentre]]

    def named(self) -> dict[str, Any]:
        """Plugin name → object, each once."""
        return {**self.hypervisors, self.router.name: self.router,
                self.nodeos.name: self.nodeos, self.cni.name: self.cni}


def select(plan: Plan, registry: Registry) -> Selected:
    """The plan's composition; every plugin is checked against its kind when created."""
    return Selected(plan, registry)
