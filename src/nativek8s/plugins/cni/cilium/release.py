"""The Helm release of Cilium as the cluster stores it, so install can tell whether the
planned chart and values are already deployed.

Helm 3 (and the cilium CLI, which installs through Helm's library) keeps each revision
in a Secret ``sh.helm.release.v1.<release>.v<revision>`` labelled ``owner=helm``,
``name=<release>``, ``status=<status>``, ``version=<revision>``; its ``release`` key holds
the release as gzip-compressed JSON, base64-encoded (and base64-encoded again by the
Secret's ``data``). The release JSON carries ``chart.metadata.version`` and ``config``
(the values the user supplied).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from dataclasses import dataclass
from typing import Any

from .kube import Kube

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Release:
    name: str
    revision: int
    status: str  # "deployed", "failed", "pending-install", "superseded", ...
    chart_version: str
    values: dict[str, Any]  # the user-supplied values (helm's "config")


def decode_release(data: str) -> dict[str, Any]:
    """The release JSON from a storage Secret's ``data.release``."""
    raw = base64.b64decode(base64.b64decode(data))
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return json.loads(raw)


def _revision(secret: dict[str, Any]) -> int:
    try:
        return int((secret["metadata"].get("labels") or {}).get("version", "0"))
    except ValueError:
        return 0


def current_release(kube: Kube, namespace: str, name: str) -> Release | None:
    """The newest revision of a release, or None when it was never installed."""
    secrets = kube.list("v1", "Secret", namespace, label_selector=f"owner=helm,name={name}")
    if not secrets:
        return None
    newest = max(secrets, key=_revision)
    labels = newest["metadata"].get("labels") or {}
    try:
        body = decode_release((newest.get("data") or {}).get("release", ""))
    except (binascii.Error, OSError, ValueError):
        body = {}  # unreadable: treated as differing, so install runs again
    return Release(name=name, revision=_revision(newest), status=labels.get("status", ""),
                   chart_version=str(((body.get("chart") or {}).get("metadata") or {})
                                     .get("version", "")),
                   values=body.get("config") or {})
