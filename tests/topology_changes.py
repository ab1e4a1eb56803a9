"""The reference topology with changes merged in, for tests that need variants of it."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from nativek8s.core.load import reference_text


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key, except ``datacentres``, which is replaced as a whole."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "datacentres":
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def topology_text(changes: dict[str, Any] | None = None) -> str:
    data = merge(yaml.safe_load(reference_text()), changes or {})
    return yaml.safe_dump(data, sort_keys=False)
