"""Stand-in Kubernetes API server for testing nativek8s's Cilium CNI plugin.

Stands in for kube-apiserver (plus Cilium's operator, the workload controllers, the
scheduler and kubelet for bare pods, and the pod proxy to agnhost netexec pods) over real
HTTP on 127.0.0.1, for the official `kubernetes` Python client and the helm/cilium CLI
stand-ins in ../bin. Start it with `kube_api_server(kubeconfig_path, ...)`; knobs:
`srv.kubelet.failing_images`, `srv.network.masquerade`, `srv.network.blocked`.
Exports resolve lazily so that the CLI stand-ins start without loading the server.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"CILIUM_CRD_DIRS": "crds", "crds_available": "crds", "load_cilium_crds": "crds",
            "Fault": "http", "Recorded": "http", "KubeApiServer": "server",
            "crds_or_skip": "server", "kube_api_server": "server"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
