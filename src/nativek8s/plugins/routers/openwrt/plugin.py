"""Registration of the `openwrt` plugin (entry point `openwrt` in the `nativek8s` group)."""

from __future__ import annotations

from nativek8s.api import Finding, LabContext, RouterOSSpec, hookimpl

from .options import OpenWrtOptions


def _factory():
    from .openwrt import Openwrt

    return Openwrt()


@hookimpl
def nativek8s_router_oses() -> list[RouterOSSpec]:
    return [RouterOSSpec(name="openwrt", factory=_factory, description="OpenWrt with BIRD 2",
                         options=OpenWrtOptions)]


@hookimpl
def nativek8s_doctor_checks(ctx: LabContext) -> list[Finding]:
    from .doctor import checks

    return checks(ctx)
