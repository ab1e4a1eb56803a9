"""Registration of the `netns` plugin (entry point `netns` in the `nativek8s` group)."""

from __future__ import annotations

from nativek8s.api import HypervisorSpec, hookimpl


def _factory():
    from .netns import Netns

    return Netns()


def _options():
    from .options import NetnsOptions

    return NetnsOptions


@hookimpl
def nativek8s_hypervisors() -> list[HypervisorSpec]:
    return [HypervisorSpec(
        name="netns", factory=_factory, options=_options(),
        description="Linux network namespaces on this host: real BIRD routers and GoBGP node "
                    "speakers, no VMs")]
