"""Resource types served by the stand-in and their discovery documents.

Built-in kinds are the few a CNI installer touches; custom kinds appear only while their
CustomResourceDefinition exists (and only the versions it serves), exactly as discovery
on a real cluster changes when Cilium's operator registers its CRDs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from . import crds as crd_files


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    has_status: bool = False
    schema: dict[str, Any] | None = None
    storage_version: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    deprecation_warning: str | None = None
    custom: bool = False
    verbs: tuple[str, ...] = field(default=("create", "delete", "get", "list", "patch", "update"))

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def stored_api_version(self) -> str:
        version = self.storage_version or self.version
        return f"{self.group}/{version}" if self.group else version


_CORE = [
    ResourceType("", "v1", "nodes", "node", "Node", False, has_status=True, short_names=("no",)),
    ResourceType("", "v1", "namespaces", "namespace", "Namespace", False, has_status=True,
                 short_names=("ns",)),
    ResourceType("", "v1", "secrets", "secret", "Secret", True),
    ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, short_names=("cm",)),
    ResourceType("", "v1", "pods", "pod", "Pod", True, has_status=True, short_names=("po",),
                 categories=("all",)),
    ResourceType("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, has_status=True,
                 short_names=("ds",), categories=("all",)),
    ResourceType("apps", "v1", "deployments", "deployment", "Deployment", True, has_status=True,
                 short_names=("deploy",), categories=("all",)),
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                 "customresourcedefinition", "CustomResourceDefinition", False, has_status=True,
                 short_names=("crd", "crds")),
]


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version priority: GA > beta > alpha, then higher numbers first."""
    match = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not match:
        return (3, 0, 0)
    level = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    return (level, -int(match.group(1)), -int(match.group(3) or 0))


def types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    spec = crd["spec"]
    names = spec["names"]
    storage = crd_files.storage_version(crd)
    out = []
    for entry in spec["versions"]:
        if not entry.get("served", False):
            continue
        warning = None
        if entry.get("deprecated"):
            warning = entry.get("deprecationWarning") or (
                f"{spec['group']}/{entry['name']} {names['kind']} is deprecated")
        out.append(ResourceType(
            group=spec["group"], version=entry["name"], plural=names["plural"],
            singular=names.get("singular", names["kind"].lower()), kind=names["kind"],
            namespaced=spec["scope"] == "Namespaced",
            has_status="status" in (entry.get("subresources") or {}),
            schema=(entry.get("schema") or {}).get("openAPIV3Schema"),
            storage_version=storage, short_names=tuple(names.get("shortNames", [])),
            categories=tuple(names.get("categories", [])), deprecation_warning=warning,
            custom=True, verbs=("delete", "deletecollection", "get", "list", "patch", "create",
                                "update", "watch")))
    return out


class Registry:
    def __init__(self) -> None:
        self._crds: dict[str, dict[str, Any]] = {}

    def set_crd(self, crd: dict[str, Any]) -> None:
        self._crds[crd["metadata"]["name"]] = crd

    def drop_crd(self, name: str) -> None:
        self._crds.pop(name, None)

    def types(self) -> list[ResourceType]:
        out = list(_CORE)
        for crd in self._crds.values():
            out.extend(types_from_crd(crd))
        return out

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rtype in self.types():
            if (rtype.group, rtype.version, rtype.plural) == (group, version, plural):
                return rtype
        return None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        for rtype in self.types():
            if rtype.api_version == api_version and rtype.kind == kind:
                return rtype
        return None

    def group_versions(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for rtype in self.types():
            versions = found.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        for versions in found.values():
            versions.sort(key=_version_priority)
        return found

    # --- discovery documents ---------------------------------------------------------

    def api_versions(self, server_address: str) -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": server_address}]}

    def api_group(self, group: str) -> dict[str, Any] | None:
        versions = self.group_versions().get(group)
        if not versions or not group:
            return None
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": listed, "preferredVersion": listed[0]}

    def api_group_list(self) -> dict[str, Any]:
        groups = [self.api_group(g) for g in self.group_versions() if g]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        resources = []
        for rtype in self.types():
            if (rtype.group, rtype.version) != (group, version):
                continue
            entry: dict[str, Any] = {
                "name": rtype.plural, "singularName": rtype.singular,
                "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": list(rtype.verbs),
                "storageVersionHash": hashlib.sha256(
                    f"{rtype.group}/{rtype.storage_version or rtype.version}/{rtype.kind}".encode()
                ).hexdigest()[:11]}
            if rtype.short_names:
                entry["shortNames"] = list(rtype.short_names)
            if rtype.categories:
                entry["categories"] = list(rtype.categories)
            resources.append(entry)
            if rtype.has_status:
                resources.append({"name": f"{rtype.plural}/status", "singularName": "",
                                  "namespaced": rtype.namespaced, "kind": rtype.kind,
                                  "verbs": ["get", "patch", "update"]})
        if not resources:
            return None
        group_version = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": resources}
