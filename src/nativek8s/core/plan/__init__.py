"""The plan: models, allocation and expected routes."""

from .build import build_plan
from .models import (
    MD5_SECRET, BgpEndpoint, BgpKind, BgpSession, Cluster, Composition, Datacentre,
    ExpectedRoute, Interface, Machine, Network, NetworkKind, NodePlan, Plan, RouteOrigin,
    RouterPlan,
)

__all__ = [
    "MD5_SECRET", "BgpEndpoint", "BgpKind", "BgpSession", "Cluster", "Composition",
    "Datacentre", "ExpectedRoute", "Interface", "Machine", "Network", "NetworkKind",
    "NodePlan", "Plan", "RouteOrigin", "RouterPlan", "build_plan",
]
