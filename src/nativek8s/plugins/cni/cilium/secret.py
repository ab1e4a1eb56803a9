"""The Kubernetes Secret holding the lab's BGP TCP-MD5 password for Cilium.

Cilium reads ``authSecretRef`` Secrets from its BGP secrets namespace (Helm value
``bgpControlPlane.secretsNamespace.name``, kube-system by default) and takes the
password from the key ``password``.
"""

from __future__ import annotations

from typing import Any

from .labels import owned

SECRET_NAME = "nativek8s-bgp-md5"
SECRET_NAMESPACE = "kube-system"
PASSWORD_KEY = "password"


def md5_secret(password: str, lab: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": SECRET_NAMESPACE,
                     "labels": owned(lab)},
        "type": "Opaque",
        "stringData": {PASSWORD_KEY: password},
    }
