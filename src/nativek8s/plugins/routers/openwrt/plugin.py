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
    """The tools that make each lab's router login (credentials.py)."""
    if ctx.plan.composition.router != "openwrt":
        return []
    import shutil

    from nativek8s.core.doctor import Finding

    out = []
    for tool, package in (("ssh-keygen", "openssh-client"), ("openssl", "openssl")):
        found = shutil.which(tool)
        out.append(Finding("openwrt", tool, found is not None, found or (
            f"not on PATH: the routers' SSH key and root password are made with it; "
            f"install {package}")))
    return out
