"""Registration of the `cilium` plugin (entry point `cilium` in the `nativek8s` group)."""

from __future__ import annotations

from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import CNISpec


def _factory():
    from .cilium import Cilium

    return Cilium()


@hookimpl
def nativek8s_cnis() -> list[CNISpec]:
    return [CNISpec(name="cilium", factory=_factory, description="Cilium, native routing with the BGP control plane")]
