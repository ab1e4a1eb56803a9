"""What kube-apiserver enforces on a Node's PodCIDRs (pkg/apis/core/validation,
ValidateNode and ValidateNodeUpdate; the v1 conversion of spec.podCIDR/podCIDRs).

- ``podCIDR`` and ``podCIDRs`` are one field: a write of only ``podCIDR`` sets
  ``podCIDRs = [podCIDR]``; ``podCIDR`` is served as ``podCIDRs[0]``.
- Each must be a CIDR; at most one per IP family (two in all).
- Once set, they may not change: "node updates may not change podCIDR except from \\"\\" to
  valid" (so whoever sets a node's PodCIDR first decides it for the node's lifetime; a node
  that re-registers is a new object).
"""

from __future__ import annotations

import json
from ipaddress import ip_network
from typing import Any

FORBIDDEN_CHANGE = 'node updates may not change podCIDR except from "" to valid'


def normalise(node: dict[str, Any]) -> None:
    spec = node.get("spec")
    if not isinstance(spec, dict):
        return
    cidrs = spec.get("podCIDRs") or []
    if not cidrs and spec.get("podCIDR"):
        spec["podCIDRs"] = [spec["podCIDR"]]
    elif cidrs:
        spec["podCIDR"] = cidrs[0]


def _cidrs(node: dict[str, Any] | None) -> list[str]:
    return list(((node or {}).get("spec") or {}).get("podCIDRs") or [])


def causes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    cidrs = _cidrs(new)
    families = []
    for i, value in enumerate(cidrs):
        try:
            families.append(ip_network(str(value), strict=False).version)
        except ValueError:
            out.append({"reason": "FieldValueInvalid", "field": f"spec.podCIDRs[{i}]",
                        "message": f"Invalid value: {json.dumps(value)}: must be a valid CIDR "
                                   "value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"})
    if len(cidrs) > 2 or len(families) != len(set(families)):
        out.append({"reason": "FieldValueInvalid", "field": "spec.podCIDRs",
                    "message": f"Invalid value: {json.dumps(cidrs)}: may specify no more than "
                               "one CIDR for each IP family"})
    if old is not None and _cidrs(old) and _cidrs(old) != cidrs:
        out.append({"reason": "FieldValueForbidden", "field": "spec.podCIDRs",
                    "message": f"Forbidden: {FORBIDDEN_CHANGE}"})
    return out
