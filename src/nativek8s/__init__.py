"""nativek8s: Kubernetes clusters with natively routed pods across datacentres."""

__version__ = "0.1.0"
