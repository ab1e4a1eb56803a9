"""Labels nativek8s puts on the Kubernetes objects it renders, so they can be found again."""

from __future__ import annotations

MANAGED_BY = "app.kubernetes.io/managed-by"
LAB = "nativek8s.io/lab"
ADVERTISE = "nativek8s.io/advertise"  # links a CiliumBGPPeerConfig to its advertisement


def owned(lab: str) -> dict[str, str]:
    return {MANAGED_BY: "nativek8s", LAB: lab}
