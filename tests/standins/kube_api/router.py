"""REST routing of the stand-in API server: URL layout, verbs, query options, bodies.

Mirrors kube-apiserver's handlers for the resources in registry.py: discovery
(/version, /api, /apis, group and group-version documents), get/list (labelSelector,
fieldSelector), create, update, patch (json/merge/strategic/apply, with fieldManager,
force, dryRun, fieldValidation), delete, and the `status` subresource. Unknown paths
answer 404 "the server could not find the requested resource", as for an absent CRD.
Not served: watch, deletecollection, protobuf/CBOR, pagination (limit is ignored).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import errors
from .registry import Registry, ResourceType
from .store import APPLY, JSON_PATCH, MERGE, STRATEGIC, Store
from .workloads import Workloads

KUBE_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "standin",
                "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z",
                "goVersion": "go1.23.3", "compiler": "gc", "platform": "linux/amd64"}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class Response:
    code: int
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    raw: bytes | None = None  # sent as is instead of body (proxied answers)
    content_type: str = "application/json"


# (request, namespace, "name[:port]", path below proxy/) → the proxied answer
PodProxy = Callable[["Request", str, str, str], "Response"]


def _options_invalid(field_name: str, reason: str, message: str) -> errors.ApiError:
    return errors.invalid("PatchOptions", "meta.k8s.io", "", [
        {"reason": reason, "message": message, "field": field_name}])


class Router:
    def __init__(self, registry: Registry, store: Store, workloads: Workloads,
                 server_address: str, pod_proxy: PodProxy | None = None) -> None:
        self.registry = registry
        self.store = store
        self.workloads = workloads
        self.server_address = server_address
        self.pod_proxy = pod_proxy

    # --- entry point -------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if req.method == "GET" and parts == ["version"]:
            return Response(200, dict(KUBE_VERSION))
        if req.method == "GET" and parts == ["api"]:
            return Response(200, self.registry.api_versions(self.server_address))
        if req.method == "GET" and parts == ["apis"]:
            return Response(200, self.registry.api_group_list())
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 2 and parts[0] == "apis":
            group = parts[1]
            if len(parts) == 2:
                found = self.registry.api_group(group)
                if req.method != "GET" or found is None:
                    raise errors.path_not_found()
                return Response(200, {"kind": "APIGroup", "apiVersion": "v1", **found})
            version, rest = parts[2], parts[3:]
        else:
            raise errors.path_not_found()
        if not rest:
            doc = self.registry.resource_list(group, version)
            if req.method != "GET" or doc is None:
                raise errors.path_not_found()
            return Response(200, doc)
        return self._resource(req, group, version, rest)

    def _resource(self, req: Request, group: str, version: str, rest: list[str]) -> Response:
        namespace: str | None = None
        if rest[0] == "namespaces" and (len(rest) >= 4 or (len(rest) == 3 and rest[2] != "status")):
            namespace, rest = rest[1], rest[2:]
        if (group, version) == ("", "v1") and namespace is not None and len(rest) >= 3 \
                and rest[0] == "pods" and rest[2] == "proxy" and self.pod_proxy is not None:
            return self.pod_proxy(req, namespace, rest[1], "/".join(rest[3:]))
        if len(rest) > 3:
            raise errors.path_not_found()
        plural, name = rest[0], (rest[1] if len(rest) > 1 else "")
        sub = rest[2] if len(rest) > 2 else ""
        rtype = self.registry.lookup(group, version, plural)
        if rtype is None or (sub and (sub != "status" or not rtype.has_status)):
            raise errors.path_not_found()
        if namespace is not None and not rtype.namespaced:
            raise errors.path_not_found()
        if rtype.namespaced and name and namespace is None:
            raise errors.path_not_found()
        warnings = [rtype.deprecation_warning] if rtype.deprecation_warning else []
        response = self._verb(req, rtype, namespace or "", name, sub)
        response.warnings = warnings + response.warnings
        return response

    def _verb(self, req: Request, rtype: ResourceType, ns: str, name: str, sub: str) -> Response:
        method = req.method
        if req.query.get("watch") in _TRUE:
            raise errors.method_not_allowed()
        if not name:
            if method == "GET":
                return Response(200, self._list(rtype, ns, req.query))
            if method == "POST":
                body = self._body(req)
                if not isinstance(body, dict):
                    raise errors.bad_request("the body of the request is not a JSON object")
                self._check_body_identity(rtype, body, ns)
                obj, warns = self.store.create(
                    rtype, ns, body, manager=self._manager(req),
                    field_validation=req.query.get("fieldValidation", ""),
                    dry_run=self._dry_run(req))
                return Response(201, obj, warns)
            raise errors.method_not_allowed()
        if method == "GET":
            return Response(200, self._get(rtype, ns, name))
        if method == "PUT":
            body = self._body(req)
            if not isinstance(body, dict):
                raise errors.bad_request("the body of the request is not a JSON object")
            self._check_body_identity(rtype, body, ns)
            if (body.get("metadata") or {}).get("name") != name:
                raise errors.bad_request("the name of the object "
                                         f"({(body.get('metadata') or {}).get('name')}) does not "
                                         f"match the name on the URL ({name})")
            obj, warns = self.store.update(rtype, ns, name, body, manager=self._manager(req),
                                           subresource=sub,
                                           field_validation=req.query.get("fieldValidation", ""),
                                           dry_run=self._dry_run(req))
            return Response(200, obj, warns)
        if method == "PATCH":
            return self._patch(req, rtype, ns, name, sub)
        if method == "DELETE" and not sub:
            obj = self.store.delete(rtype, ns, name)
            if rtype.custom or rtype.kind == "Pod":  # registries with ReturnDeletedObject
                return Response(200, obj)
            details = {"name": name, "kind": rtype.plural, "uid": obj["metadata"]["uid"]}
            if rtype.group:
                details["group"] = rtype.group
            return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Success", "details": details})
        raise errors.method_not_allowed()

    # --- reads, with readiness polls ---------------------------------------------------

    def _workload_keys(self, rtype: ResourceType, objs: list[dict[str, Any]]) -> list[Any]:
        keys = []
        for obj in objs:
            meta = obj["metadata"]
            if rtype.kind in ("DaemonSet", "Deployment"):
                keys.append((rtype.kind, meta["namespace"], meta["name"]))
            elif rtype.kind == "Pod":
                owner = self.workloads.workload_of_pod(meta["namespace"], meta["name"])
                if owner is not None:
                    keys.append(owner)
        return list(dict.fromkeys(keys))

    def _get(self, rtype: ResourceType, ns: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rtype, ns, name)
        keys = self._workload_keys(rtype, [obj])
        for key in keys:
            self.workloads.poll(key)
        return self.store.get(rtype, ns, name) if keys else obj

    def _list(self, rtype: ResourceType, ns: str, query: dict[str, str]) -> dict[str, Any]:
        args = (rtype, ns, query.get("labelSelector"), query.get("fieldSelector"))
        listed = self.store.select(*args)
        keys = self._workload_keys(rtype, listed["items"])
        for key in keys:
            self.workloads.poll(key)
        return self.store.select(*args) if keys else listed

    # --- writes ------------------------------------------------------------------------

    def _patch(self, req: Request, rtype: ResourceType, ns: str, name: str, sub: str) -> Response:
        accepted = [JSON_PATCH, MERGE] + ([] if rtype.custom else [STRATEGIC]) + [APPLY]
        ctype = req.content_type
        if ctype == "application/apply-patch+yaml":
            ctype = APPLY
        if ctype not in accepted:
            raise errors.unsupported_media_type(accepted)
        force = req.query.get("force")
        if ctype != APPLY and force is not None:
            raise _options_invalid("force", "FieldValueForbidden",
                                   "Forbidden: may not be specified for non-apply patch")
        manager = req.query.get("fieldManager", "")
        if ctype == APPLY and not manager:
            raise _options_invalid("fieldManager", "FieldValueRequired",
                                   "Required value: is required for apply patch")
        manager = manager or self._manager(req)
        body = self._body(req)
        with self.store.lock:
            existed = self.store.find(rtype, ns, name) is not None
            obj, warns = self.store.patch(rtype, ns, name, ctype, body, manager=manager,
                                          force=force in _TRUE, subresource=sub,
                                          field_validation=req.query.get("fieldValidation", ""),
                                          dry_run=self._dry_run(req))
        return Response(200 if existed else 201, obj, warns)

    def _body(self, req: Request) -> Any:
        text = req.raw_body.decode("utf-8", errors="replace")
        if req.content_type.endswith("yaml"):
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error decoding YAML: {exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.bad_request(f"json: {exc}") from None

    @staticmethod
    def _check_body_identity(rtype: ResourceType, body: dict[str, Any], ns: str) -> None:
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if api_version and api_version != rtype.api_version or kind and kind != rtype.kind:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rtype.api_version})" if api_version != rtype.api_version else
                f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})")
        body_ns = (body.get("metadata") or {}).get("namespace")
        if rtype.namespaced and body_ns and body_ns != ns:
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")

    @staticmethod
    def _manager(req: Request) -> str:
        manager = req.query.get("fieldManager")
        if manager:
            if len(manager) > 128:
                raise _options_invalid("fieldManager", "FieldValueTooLong",
                                       "Too long: may not be more than 128 bytes")
            return manager
        agent = req.headers.get("user-agent", "unknown")
        return agent.split("/", 1)[0][:128] or "unknown"

    @staticmethod
    def _dry_run(req: Request) -> bool:
        value = req.query.get("dryRun")
        if value in (None, ""):
            return False
        if value != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        return True
