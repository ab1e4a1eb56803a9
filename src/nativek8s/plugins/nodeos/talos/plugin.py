"""Registration of the `talos` plugin (entry point `talos` in the `nativek8s` group)."""

from __future__ import annotations

from nativek8s.core.hooks import hookimpl
from nativek8s.core.kinds import NodeOSSpec


def _factory():
    from .talos import Talos

    return Talos()


@hookimpl
def nativek8s_node_oses() -> list[NodeOSSpec]:
    return [NodeOSSpec(name="talos", factory=_factory, description="Talos Linux nodes via talosctl")]
