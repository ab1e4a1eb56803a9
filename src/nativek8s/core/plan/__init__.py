"""The plan: models, allocation and expected routes."""

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
    RouterPlan,
)

__all__ = [
    "MD5_SECRET", "BgpEndpoint", "BgpKind", "BgpSession", "Cluster", "Composition",
    "Datacentre", "ExpectedRoute", "Interface", "Machine", "Network", "NetworkKind",
    "NodePlan", "Plan", "RouteOrigin", "RouterPlan", "build_plan",
]


def __getattr__(name: str):
    # build_plan needs the topology's models; reading a saved plan does not, so they are
    # imported only when a plan is built.
    if name == "build_plan":
        from .build import build_plan

        return build_plan
    raise AttributeError(name)
