"""Registration of the `openwrt` plugin (entry point `openwrt` in the `nativek8s` group)."""

from __future__ import annotations

from typing import Any

from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import RouterOSSpec

from .options import OpenWrtOptions


def _factory():
    from .openwrt import Openwrt

    return Openwrt()


@hookimpl
def nativek8s_router_oses() -> list[RouterOSSpec]:
    return [RouterOSSpec(name="openwrt", factory=_factory, description="OpenWrt with BIRD 2",
                         options=OpenWrtOptions)]


@hookimpl
def nativek8s_doctor_checks(ctx: Any) -> list[Any]:
    from .doctor import checks

    return checks(ctx)
