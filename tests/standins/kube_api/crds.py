"""Cilium BGP CustomResourceDefinitions from upstream snapshots (found by tests.upstream).

The stand-in never ships CRDs of its own: it loads cilium/cilium's YAML at pinned commits
(tests/upstream_sources.py). Tests skip when the files are absent (crds_or_skip).
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml

# Upstream snapshot directories, and the Cilium minor release each approximates.
CILIUM_CRD_DIRS: dict[str, str] = {
    "1.16": "v1.16-branchpoint",
    "1.17": "v1.17-branchpoint",
    "1.18": "1.18.0-dev-2025-03-23",
}

from tests.upstream import find, missing_reason  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# The chart's values schema: only the 1.18 one is pinned (helm checks values against it).
VALUES_SCHEMAS = {"1.18": "cilium/values.schema.1.18.0-dev.json"}


def upstream_files(version: str) -> list[str]:
    """The upstream files (tests.upstream names) a Cilium version's stand-in needs."""
    files = [f"cilium/{crd_dir_name(version)}"]
    minor = cilium_minor(version) if version not in CILIUM_CRD_DIRS.values() else None
    return files + ([VALUES_SCHEMAS[minor]] if minor in VALUES_SCHEMAS else [])


def cilium_crd_dir(version_or_dir: str) -> Path | None:
    """The snapshot's folder, None when it is not found."""
    return find(f"cilium/{crd_dir_name(version_or_dir)}")


def crd_dir_name(version_or_dir: str) -> str:
    """Accepts a snapshot directory name or a Cilium version such as "1.17.3" / "v1.18.0"."""
    if version_or_dir in CILIUM_CRD_DIRS.values():
        name = version_or_dir
    else:
        minor = cilium_minor(version_or_dir)
        if minor not in CILIUM_CRD_DIRS:
            raise KeyError(f"no upstream CRD snapshot for Cilium {version_or_dir!r}; "
                           f"known: {', '.join(sorted(CILIUM_CRD_DIRS))}")
        name = CILIUM_CRD_DIRS[minor]
    return name


def cilium_minor(version: str) -> str:
    match = re.match(r"^v?(\d+)\.(\d+)", version.strip())
    if not match:
        raise KeyError(f"not a Cilium version: {version!r}")
    return f"{match.group(1)}.{match.group(2)}"


def crds_available(version_or_dir: str) -> bool:
    try:
        return cilium_crd_dir(version_or_dir) is not None
    except KeyError:
        return False


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _parsed(path: Path, mtime: float) -> tuple[dict[str, Any], ...]:
    docs = yaml.load_all(path.read_text(), Loader=_LOADER)  # noqa: S506 - a safe loader
    return tuple(d for d in docs if d and d.get("kind") == "CustomResourceDefinition")


def load_cilium_crds(version_or_dir: str) -> list[dict[str, Any]]:
    """Every CRD document of one snapshot, sorted by name; FileNotFoundError if absent."""
    base = cilium_crd_dir(version_or_dir)
    if base is None:
        raise FileNotFoundError(missing_reason(f"cilium/{crd_dir_name(version_or_dir)}"))
    files = sorted(base.glob("*/*.yaml"))
    crds = [copy.deepcopy(doc) for path in files for doc in _parsed(path, path.stat().st_mtime)]
    return sorted(crds, key=lambda c: c["metadata"]["name"])


def served_version(crd: dict[str, Any], version: str) -> dict[str, Any] | None:
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version and entry.get("served", False):
            return entry
    return None


def storage_version(crd: dict[str, Any]) -> str:
    for entry in crd["spec"]["versions"]:
        if entry.get("storage"):
            return entry["name"]
    raise ValueError(f"CRD {crd['metadata']['name']} has no storage version")
