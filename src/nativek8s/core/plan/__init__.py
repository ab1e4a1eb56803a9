"""The plan: models, allocation and expected routes."""

from typing import TYPE_CHECKING

from .models import (
    MD5_SECRET,
    BgpEndpoint,
    BgpKind,
    BgpSession,
    Cluster,
    Composition,
    Datacentre,
    ExpectedRoute,
    Interface,
    Machine,
    Network,
    NetworkKind,
    NodePlan,
    Plan,
    RouteOrigin,
    RouterPeer,
    RouterPlan,
)

if TYPE_CHECKING:  # imported lazily at run time, see __getattr__
    from .build import build_plan

__all__ = [
    "MD5_SECRET", "BgpEndpoint", "BgpKind", "BgpSession", "Cluster", "Composition",
    "Datacentre", "ExpectedRoute", "Interface", "Machine", "Network", "NetworkKind",
    "NodePlan", "Plan", "RouteOrigin", "RouterPeer", "RouterPlan", "build_plan",
]


def __getattr__(name: str) -> object:
    # build_plan needs the topology's models; reading a saved plan does not, so they are
    # imported only when a plan is built.
    if name == "build_plan":
        from .build import build_plan

        return build_plan
    raise AttributeError(name)
