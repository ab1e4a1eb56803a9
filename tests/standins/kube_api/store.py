"""Object storage and the write pipeline of the stand-in API server.

Plays the part of kube-apiserver's registry + etcd: resourceVersion, uid, generation,
optimistic concurrency, status-subresource split, managedFields, CRD pruning/defaulting/
validation, label validation, namespace existence. Objects are kept once per resource in
the CRD's storage version and served in the requested version (conversion strategy None,
which is what Cilium's CRDs use).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from . import errors, selectors, ssa
from . import nodes as node_rules
from . import patch as patches
from . import schema as sch
from .registry import Registry, ResourceType

Hook = Callable[[str, ResourceType, dict[str, Any]], None]
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_causes(labels: Any) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    if not isinstance(labels, dict):
        return causes
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (not _LABEL_NAME.match(name) or len(name) > 63
                or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)))):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f"Invalid value: {json.dumps(key)}: name part must consist of "
                                      "alphanumeric characters, '-', '_' or '.', and must start and "
                                      "end with an alphanumeric character"})
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f"Invalid value: {json.dumps(value)}: a valid label must be an "
                                      "empty string or consist of alphanumeric characters, '-', '_' "
                                      "or '.', and must start and end with an alphanumeric character"})
    return causes


class Store:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.lock = threading.RLock()
        self.hooks: list[Hook] = []
        self._objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._rv = 1000

    # --- reads ---------------------------------------------------------------------

    @staticmethod
    def _key(rtype: ResourceType, namespace: str, name: str) -> tuple[str, str, str, str]:
        return (rtype.group, rtype.plural, namespace if rtype.namespaced else "", name)

    def _served(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        out["apiVersion"] = rtype.api_version
        return out

    def find(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            obj = self._objects.get(self._key(rtype, namespace, name))
            return self._served(rtype, obj) if obj else None

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        found = self.find(rtype, namespace, name)
        if found is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        return found

    def items(self, rtype: ResourceType, namespace: str = "") -> list[dict[str, Any]]:
        with self.lock:
            out = [self._served(rtype, obj) for (group, plural, ns, _), obj in self._objects.items()
                   if (group, plural) == (rtype.group, rtype.plural)
                   and (not namespace or ns == namespace)]
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def select(self, rtype: ResourceType, namespace: str = "", label_selector: str | None = None,
             field_selector: str | None = None) -> dict[str, Any]:
        by_label = selectors.label_selector(label_selector)
        by_field = selectors.field_selector(field_selector, rtype.kind)
        with self.lock:
            found = [o for o in self.items(rtype, namespace) if by_label(o) and by_field(o)]
            return {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List",
                    "metadata": {"resourceVersion": str(self._rv)}, "items": found}

    # --- writes ----------------------------------------------------------------------

    def _check_namespace(self, rtype: ResourceType, namespace: str) -> None:
        if not rtype.namespaced:
            return
        ns_type = self.registry.lookup("", "v1", "namespaces")
        assert ns_type is not None
        if self.find(ns_type, "", namespace) is None:
            raise errors.not_found("namespaces", "", namespace)

    def create(self, rtype: ResourceType, namespace: str, body: dict[str, Any], *, manager: str,
               field_validation: str = "", dry_run: bool = False) -> tuple[dict[str, Any], list[str]]:
        name = (body.get("metadata") or {}).get("name", "")
        if not name and (body.get("metadata") or {}).get("generateName"):
            name = body["metadata"]["generateName"] + uuid.uuid4().hex[:5]
            body["metadata"]["name"] = name
        if not name:
            raise errors.invalid(rtype.kind, rtype.group, "", [
                {"reason": "FieldValueRequired", "message": "name or generateName is required",
                 "field": "metadata.name"}])
        with self.lock:
            self._check_namespace(rtype, namespace)
            if self._objects.get(self._key(rtype, namespace, name)):
                raise errors.already_exists(rtype.plural, rtype.group, name)
            new = copy.deepcopy(body)
            new.setdefault("metadata", {}).pop("managedFields", None)
            return self._write(rtype, namespace, name, None, new, "", field_validation, dry_run,
                               update_manager=manager)

    def update(self, rtype: ResourceType, namespace: str, name: str, body: dict[str, Any], *,
               manager: str, subresource: str = "", field_validation: str = "",
               dry_run: bool = False) -> tuple[dict[str, Any], list[str]]:
        with self.lock:
            old = self._objects.get(self._key(rtype, namespace, name))
            if old is None:
                raise errors.not_found(rtype.plural, rtype.group, name)
            self._precondition(rtype, name, old, body)
            new = copy.deepcopy(body)
            new.setdefault("metadata", {})["managedFields"] = old["metadata"].get("managedFields", [])
            return self._write(rtype, namespace, name, old, new, subresource, field_validation,
                               dry_run, update_manager=manager)

    def patch(self, rtype: ResourceType, namespace: str, name: str, content_type: str,
              body: Any, *, manager: str, force: bool, subresource: str = "",
              field_validation: str = "", dry_run: bool = False) -> tuple[dict[str, Any], list[str]]:
        with self.lock:
            old = self._objects.get(self._key(rtype, namespace, name))
            if content_type == APPLY:
                return self._apply(rtype, namespace, name, old, body, manager, force, subresource,
                                   field_validation, dry_run)
            if old is None:
                raise errors.not_found(rtype.plural, rtype.group, name)
            current = self._served(rtype, old)
            if content_type == JSON_PATCH:
                new = patches.json_patch(current, body)
            elif content_type == MERGE:
                new = patches.merge_patch(current, body)
            else:  # strategic merge; rejected for custom resources by the HTTP layer
                new = patches.strategic_merge_patch(current, body)
            if not isinstance(new, dict):
                raise errors.bad_request("patched object is not a JSON object")
            if isinstance(body, dict):
                self._precondition(rtype, name, old, body)
            return self._write(rtype, namespace, name, old, new, subresource, field_validation,
                               dry_run, update_manager=manager)

    def _apply(self, rtype: ResourceType, namespace: str, name: str, old: dict[str, Any] | None,
               config: Any, manager: str, force: bool, subresource: str, field_validation: str,
               dry_run: bool) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(config, dict):
            raise errors.bad_request("error decoding YAML: apply patch must be a YAML object")
        if config.get("apiVersion") != rtype.api_version or config.get("kind") != rtype.kind:
            raise errors.bad_request(
                f"Incorrect version specified in apply patch. Specified patch version: "
                f"{config.get('apiVersion', '')}, expected: {rtype.api_version}"
                if config.get("apiVersion") != rtype.api_version else
                f"Incorrect kind specified in apply patch. Specified patch kind: "
                f"{config.get('kind', '')}, expected: {rtype.kind}")
        meta_name = (config.get("metadata") or {}).get("name")
        if meta_name != name:
            raise errors.bad_request("the name of the object "
                                     f"({meta_name}) does not match the name on the URL ({name})")
        if old is None:
            if subresource:
                raise errors.not_found(rtype.plural, rtype.group, name)
            self._check_namespace(rtype, namespace)
        else:
            self._precondition(rtype, name, old, config)
        if rtype.schema is not None:
            problems = list(sch.type_errors({k: v for k, v in config.items() if k != "metadata"},
                                            rtype.schema))
            if problems:
                raise errors.internal(
                    f"failed to create typed patch object ({rtype.group}/{rtype.version}, "
                    f"Kind={rtype.kind}) : {problems[0]}")
        live = self._served(rtype, old) if old else None
        new = ssa.apply(live, copy.deepcopy(config), manager, force, rtype.schema, subresource,
                        rtype.has_status, rtype.api_version)
        return self._write(rtype, namespace, name, old, new, subresource, field_validation,
                           dry_run, update_manager=None)

    def _precondition(self, rtype: ResourceType, name: str, old: dict[str, Any],
                      body: dict[str, Any]) -> None:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise errors.rv_conflict(rtype.plural, rtype.group, name)

    def _write(self, rtype: ResourceType, namespace: str, name: str, old: dict[str, Any] | None,
               new: dict[str, Any], subresource: str, field_validation: str, dry_run: bool,
               update_manager: str | None) -> tuple[dict[str, Any], list[str]]:
        warnings: list[str] = []
        new["apiVersion"], new["kind"] = rtype.api_version, rtype.kind
        meta = new.setdefault("metadata", {})
        meta["name"] = name
        if rtype.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if old is not None and rtype.has_status:
            if subresource == "status":
                keep = {k: v for k, v in old.items() if k not in ("status", "metadata")}
                status = new.get("status")
                new = {**copy.deepcopy(keep), "metadata": new["metadata"]}
                if status is not None:
                    new["status"] = status
                new["apiVersion"] = rtype.api_version
            elif "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if rtype.kind == "Secret":
            self._fold_string_data(new)
        if rtype.schema is not None:
            unknown = sch.prune(new, rtype.schema)
            if unknown and field_validation == "Strict":
                raise errors.bad_request(f'strict decoding error: unknown field "{unknown[0][1:]}"')
            if field_validation != "Ignore":
                warnings.extend(f'unknown field "{u[1:]}"' for u in unknown)
            sch.apply_defaults(new, rtype.schema)
        causes = label_causes(meta.get("labels"))
        if old is None:
            causes = sch.name_causes(name) + causes
        if (rtype.group, rtype.kind) == ("", "Node"):
            node_rules.normalise(new)
            causes += node_rules.causes(old, new)
        if rtype.schema is not None:
            causes += sch.validate(new, rtype.schema)
        if causes:
            raise errors.invalid(rtype.kind, rtype.group, name, causes)
        if update_manager is not None:
            served_old = self._served(rtype, old) if old else None
            ssa.record_update(served_old, new, update_manager, rtype.schema, subresource,
                              rtype.has_status, rtype.api_version)
        if old is not None:
            for field in ("uid", "creationTimestamp", "generation"):
                if field in old["metadata"]:
                    meta[field] = old["metadata"][field]
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            if self._same(old, new):
                return self._served(rtype, old), warnings
            if self._spec_changed(old, new, rtype):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        else:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = ssa.now()
            meta["generation"] = 1
        if dry_run:
            return self._served(rtype, new), warnings
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        stored = copy.deepcopy(new)
        stored["apiVersion"] = rtype.stored_api_version
        self._objects[self._key(rtype, namespace, name)] = stored
        for hook in list(self.hooks):
            hook("MODIFIED" if old else "ADDED", rtype, self._served(rtype, stored))
        return self._served(rtype, stored), warnings

    @staticmethod
    def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
        def strip(obj: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in obj.items() if k != "apiVersion"}
            meta = dict(out.get("metadata", {}))
            meta["managedFields"] = [{k: v for k, v in e.items() if k != "time"}
                                     for e in meta.get("managedFields", [])]
            out["metadata"] = meta
            return out
        return strip(old) == strip(new)

    @staticmethod
    def _spec_changed(old: dict[str, Any], new: dict[str, Any], rtype: ResourceType) -> bool:
        ignored = {"metadata", "apiVersion", "kind"} | ({"status"} if rtype.has_status else set())
        pick = lambda o: {k: v for k, v in o.items() if k not in ignored}  # noqa: E731
        return pick(old) != pick(new)

    @staticmethod
    def _fold_string_data(secret: dict[str, Any]) -> None:
        data = secret.get("data") or {}
        for key, value in data.items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise errors.bad_request(f"illegal base64 data in data[{key!r}]") from None
        for key, value in (secret.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        if data:
            secret["data"] = data
        secret.setdefault("type", "Opaque")

    def delete(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self._objects.pop(self._key(rtype, namespace, name), None)
            if obj is None:
                raise errors.not_found(rtype.plural, rtype.group, name)
            self._rv += 1
            served = self._served(rtype, obj)
            for hook in list(self.hooks):
                hook("DELETED", rtype, served)
            return served

    def drop_resource(self, group: str, plural: str) -> None:
        """Remove every object of one resource (its CRD was deleted)."""
        with self.lock:
            for key in [k for k in self._objects if (k[0], k[1]) == (group, plural)]:
                del self._objects[key]

    def drop_namespace(self, namespace: str) -> None:
        with self.lock:
            for key in [k for k in self._objects if k[2] == namespace]:
                del self._objects[key]
