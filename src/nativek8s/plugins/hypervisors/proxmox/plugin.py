"""Registration of the `proxmox` plugin (entry point `proxmox` in the `nativek8s` group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nativek8s.api import Finding, HypervisorSpec, LabContext, hookimpl

if TYPE_CHECKING:
    from .options import ProxmoxOptions
    from .proxmox import Proxmox


def _factory() -> Proxmox:
    from .proxmox import Proxmox

    return Proxmox()


def _options() -> type[ProxmoxOptions]:
    # pydantic only: proxmoxer is imported when a lab is acted on
    from .options import ProxmoxOptions

    return ProxmoxOptions


@hookimpl
def nativek8s_hypervisors() -> list[HypervisorSpec]:
    return [HypervisorSpec(name="proxmox", factory=_factory, options=_options(),
                           description="Proxmox VE cluster (datacentres spread over its nodes)")]


@hookimpl
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    if "proxmox" not in ctx.plugins.hypervisors:
        return []  # another hypervisor's lab: no need to import the Proxmox code at all
    from .doctor import checks

    return checks(ctx)
