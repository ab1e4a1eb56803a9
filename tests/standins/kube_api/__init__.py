"""Stand-in Kubernetes API server for testing nativek8s's Cilium CNI plugin.

Stands in for kube-apiserver (plus Cilium's operator and the workload controllers) over
real HTTP on 127.0.0.1, for the official `kubernetes` Python client and the helm/cilium
CLI stand-ins in ../bin. Start it with `kube_api_server(kubeconfig_path, ...)`.
"""

from .crds import CILIUM_CRD_DIRS, crds_available, load_cilium_crds
from .http import Fault, Recorded
from .server import KubeApiServer, crds_or_skip, kube_api_server

__all__ = ["CILIUM_CRD_DIRS", "Fault", "KubeApiServer", "Recorded", "crds_available",
           "crds_or_skip", "kube_api_server", "load_cilium_crds"]
