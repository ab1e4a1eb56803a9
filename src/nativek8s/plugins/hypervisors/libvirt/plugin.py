"""Registration of the `libvirt` plugin (entry point `libvirt` in the `nativek8s` group)."""

from __future__ import annotations

from nativek8s.api import Finding, HypervisorSpec, LabContext, hookimpl

from .options import LibvirtOptions


def _factory():
    from .libvirt import Libvirt

    return Libvirt()


@hookimpl
def nativek8s_hypervisors() -> list[HypervisorSpec]:
    return [HypervisorSpec(name="libvirt", factory=_factory, options=LibvirtOptions,
                           description="libvirt/QEMU virtual machines (local or remote URI)")]


@hookimpl
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    if "libvirt" not in ctx.plugins.hypervisors:
        return []  # another hypervisor's lab: no need to import the libvirt code at all
    from .doctor import checks

    return checks(ctx)
