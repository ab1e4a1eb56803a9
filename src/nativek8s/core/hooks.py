"""Hook specifications of the ``nativek8s`` plugin system.

Plugins are modules declared in the ``nativek8s`` entry-point group; they implement some of
these hooks with :data:`hookimpl` (all three from :mod:`nativek8s.api`). Registration hooks
return descriptors (``HypervisorSpec``, ...); the behaviour lives on the object the
descriptor's factory makes, a subclass of its kind's base class. Fan-out hooks let several
plugins contribute to one step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .doctor import Finding
    from .engine.context import LabContext
    from .errors import Problem
    from .kinds import CNISpec, HypervisorSpec, NodeOSSpec, RouterOSSpec
    from .topology import Topology

PROJECT = "nativek8s"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def nativek8s_hypervisors() -> list[HypervisorSpec]:
    """Register hypervisor plugins: what creates a lab's networks and machines.

    :return: the hypervisors this plugin provides.

    Example::

        @hookimpl
        def nativek8s_hypervisors():
            return [HypervisorSpec(name="netns", factory=NetnsHypervisor,
                                   description="network namespaces on this host")]
    """


@hookspec
def nativek8s_router_oses() -> list[RouterOSSpec]:
    """Register router operating systems: what configures the datacentre routers.

    :return: the router OSes this plugin provides.

    Example::

        @hookimpl
        def nativek8s_router_oses():
            return [RouterOSSpec(name="openwrt", factory=OpenWrt, options=OpenWrtOptions)]
    """


@hookspec
def nativek8s_node_oses() -> list[NodeOSSpec]:
    """Register node operating systems: what turns machines into Kubernetes nodes.

    :return: the node OSes this plugin provides.

    Example::

        @hookimpl
        def nativek8s_node_oses():
            return [NodeOSSpec(name="talos", factory=Talos)]
    """


@hookspec
def nativek8s_cnis() -> list[CNISpec]:
    """Register CNI plugins: pod networking and each node's BGP speaker.

    :return: the CNIs this plugin provides.

    Example::

        @hookimpl
        def nativek8s_cnis():
            return [CNISpec(name="cilium", factory=Cilium)]
    """


@hookspec
def nativek8s_validate_topology(topology: Topology) -> list[Problem]:
    """Check a topology beyond what core checks (fan-out: every plugin may answer).

    Called after the core checks pass, for every installed plugin. Return problems located
    by YAML path; an empty list (or None) means nothing to say. Problems make the topology
    invalid and nothing is created, except those with ``warning=True``, which are shown and
    let the work go on.

    :param topology: the validated topology, plugin choices already applied.
    :return: problems found.

    Example::

        @hookimpl
        def nativek8s_validate_topology(topology):
            if topology.plugins.cni == "cilium" and topology.versions.cilium < "1.16":
                return [Problem("versions.cilium", "Cilium 1.16 or newer is needed")]
            return []
    """


@hookspec
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    """Check what a deploy of this lab needs from this host, creating nothing.

    Fan-out: every plugin may answer. Called by ``nativek8s doctor`` and first thing by
    ``deploy``, for every installed plugin, after the hypervisors' ``preflight``. Answer
    only for a composition that uses you (see ``ctx.plan.composition``;
    :func:`nativek8s.core.doctor.role_is_deployed` says whether your role runs for real or
    is emulated). Report every finding, not the first: tools and
    their versions, downloads cached or reachable, disk space, memory, KVM, host settings
    that would break the lab. A finding with ``ok=False`` stops the deploy (exit 2) unless
    it is a ``warning``.

    :param ctx: the lab's :class:`~nativek8s.core.engine.context.LabContext` (plan, state
        folder, the selected plugin objects); write nothing into it.
    :return: findings (:class:`~nativek8s.core.doctor.Finding`).

    Example::

        @hookimpl
        def nativek8s_doctor_checks(ctx):
            if ctx.plan.composition.cni != "mycni":
                return []
            found = shutil.which("mycnictl")
            return [Finding("mycni", "mycnictl", found is not None,
                            found or "not on PATH: install it from https://example.org")]
    """
