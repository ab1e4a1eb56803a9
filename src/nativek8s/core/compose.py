"""Composition: the plugin object chosen for each role of a plan."""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from typing import cast

from .kinds import CNI, Hypervisor, NodeOS, Plugin, RouterOS
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
    def hypervisors(self) -> dict[str, Hypervisor]:
        comp = self._plan.composition
        names = {comp.hypervisor, *comp.datacentre_hypervisors.values()}
        # The registry checked each object against its kind's interface.
        return {n: cast(Hypervisor, self._registry.create("hypervisor", n))
                for n in sorted(names)}

    @cached_property
    def router(self) -> RouterOS:
        return cast(RouterOS, self._registry.create("router", self._plan.composition.router))

    @cached_property
    def nodeos(self) -> NodeOS:
        return cast(NodeOS, self._registry.create("nodeos", self._plan.composition.nodeos))

    @cached_property
    def cni(self) -> CNI:
        return cast(CNI, self._registry.create("cni", self._plan.composition.cni))

    def hypervisor_for(self, plan: Plan, datacentre: str) -> Hypervisor:
        return self.hypervisors[plan.composition.datacentre_hypervisors[datacentre]]

    def named(self, skip: Collection[str] = ()) -> dict[str, Plugin]:
        """Plugin name → object, each once; the roles in ``skip`` are left out (and not
        created)."""
        out: dict[str, Plugin] = dict(self.hypervisors)
        if "router" not in skip:
            out[self.router.name] = self.router
        if "nodeos" not in skip:
            out[self.nodeos.name] = self.nodeos
        if "cni" not in skip:
            out[self.cni.name] = self.cni
        return out

    def names(self) -> set[str]:
        """The names of named()'s plugins (each object's name is the one it is registered
        under), without creating any."""
        c = self._plan.composition
        return {c.hypervisor, *c.datacentre_hypervisors.values(), c.router, c.nodeos, c.cni}

    def emulated(self) -> frozenset[str]:
        """The roles the lab's hypervisors play themselves (netns: the node OS and the
        CNI): the engine neither deploys nor renders those plugins."""
        return frozenset(r for h in self.hypervisors.values() for r in h.emulates)


def select(plan: Plan, registry: Registry) -> Selected:
    """The plan's composition; every plugin is checked against its kind when created."""
    return Selected(plan, registry)
