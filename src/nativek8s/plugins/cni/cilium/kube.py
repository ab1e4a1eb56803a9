"""The Kubernetes API of a lab's cluster, through the official `kubernetes` client.

The kubeconfig is the one the node OS plugin writes into the lab's state
(:func:`kubeconfig_path`). Requests go through the client's DynamicClient, which finds
each kind by discovery (so a kind whose CRD is absent is known to be absent, not a
generic 404) and performs server-side apply. `kubernetes` is imported only when a command
talks to the cluster; without it the error names the extra to install.

Errors become :class:`KubeError` with the API's status, reason and message only: request
bodies (a Secret's data) never reach a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nativek8s.api import LabContext, NativeK8sError

FIELD_MANAGER = "nativek8s"  # owner of every field nativek8s applies
REQUEST_TIMEOUT = 30  # seconds per API request


def kubeconfig_path(ctx: LabContext) -> Path:
    """The lab's kubeconfig (written, mode 0600, by the node OS plugin)."""
    return Path(ctx.state.kubeconfig)


def require_kubernetes() -> Any:
    try:
        import kubernetes
    except ImportError:
        raise NativeK8sError(
            "the cilium plugin talks to the cluster with the `kubernetes` Python package, "
            "which is not installed: pip install 'nativek8s[kubernetes]'") from None
    return kubernetes


@dataclass
class KubeError(NativeK8sError):
    """An API request that failed: what was asked, and the API's own answer."""

    what: str  # "apply CiliumBGPPeerConfig dc1-peer"
    status: int  # HTTP status; 0 when the API could not be reached
    reason: str = ""
    message: str = ""
    causes: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        code = f"HTTP {self.status} {self.reason}".strip() if self.status else "no answer"
        return f"{self.what}: {code}: {self.message}" if self.message else f"{self.what}: {code}"


class ApplyConflict(KubeError):
    """Server-side apply refused: another field manager owns fields with other values."""

    @property
    def conflicts(self) -> list[tuple[str, str]]:
        """(manager, field path) pairs, as the API lists them."""
        out = []
        for cause in self.causes:
            if cause.get("reason") == "FieldManagerConflict":
                manager = str(cause.get("message", "")).removeprefix("conflict with ")
                out.append((manager.strip('"'), str(cause.get("field", ""))))
        return out


class MissingKind(KubeError):
    """The API does not serve a kind (for a custom resource: its CRD is absent)."""


def _from_api(what: str, exc: Any) -> KubeError:
    status = int(getattr(exc, "status", 0) or 0)
    body: Any = getattr(exc, "body", None)
    try:
        parsed = json.loads(body) if isinstance(body, (str, bytes)) else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict) or parsed.get("kind") != "Status":
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        return KubeError(what, status, str(getattr(exc, "reason", "") or ""), text[:300])
    causes = (parsed.get("details") or {}).get("causes") or []
    cls = ApplyConflict if status == 409 and any(
        c.get("reason") == "FieldManagerConflict" for c in causes) else KubeError
    return cls(what, status, parsed.get("reason", ""), parsed.get("message", ""), causes)


def _describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


class Kube:
    """The few operations nativek8s needs, on plain dicts."""

    def __init__(self, dynamic: Any, server: str) -> None:
        self._dyn = dynamic
        self.server = server
        k8s = require_kubernetes()
        self._errors = k8s.dynamic.exceptions
        import urllib3  # the client's transport, installed with it

        # An HTTP answer that is an error (the dynamic client's or the generated one's).
        self._api_errors = (self._errors.DynamicApiError, k8s.client.exceptions.ApiException)
        # No HTTP answer: refused or reset connections, timeouts.
        self._transport_errors = (OSError, urllib3.exceptions.HTTPError)

    @classmethod
    def connect(cls, kubeconfig: Path, discovery_cache: Path | None = None) -> Kube:
        """A client for the cluster of a kubeconfig; discovery is cached in the given file
        (one per concurrent user: the client rewrites it without locking)."""
        k8s = require_kubernetes()
        if not kubeconfig.is_file():
            raise NativeK8sError(f"no kubeconfig at {kubeconfig}: the node OS plugin writes it "
                                 "once the cluster is bootstrapped; deploy the nodes first")
        try:
            api = k8s.config.new_client_from_config(config_file=str(kubeconfig))
        except Exception as exc:  # noqa: BLE001 - the loader raises several unrelated types
            raise NativeK8sError(f"cannot load kubeconfig {kubeconfig}: {exc}") from None
        server = api.configuration.host
        cache = str(discovery_cache) if discovery_cache else None
        try:
            dyn = k8s.dynamic.DynamicClient(api, cache_file=cache)
        except k8s.client.exceptions.ApiException as exc:
            raise _from_api(f"discover the API of {server}", exc) from None
        except Exception as exc:  # noqa: BLE001 - urllib3's errors, whose module is lazy
            raise KubeError(f"reach the Kubernetes API at {server}", 0, "",
                            f"{type(exc).__name__}: {exc}") from None
        return cls(dyn, server)

    # --- discovery ---------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Any:
        try:
            return self._call(f"discover {kind} in {api_version}", self._dyn.resources.get,
                              api_version=api_version, kind=kind, timeout=False)
        except self._errors.ResourceNotFoundError:
            raise MissingKind(f"find {kind} in {api_version}", 404, "NotFound",
                              f"the API at {self.server} does not serve {kind} in "
                              f"{api_version}") from None

    def served_versions(self, group: str, kind: str) -> list[str]:
        """apiVersions in which the API serves a kind (empty: not at all), rediscovered."""
        what = f"discover {kind} in {group}"
        # Asked after a miss: the cache may be stale.
        self._call(what, self._dyn.resources.invalidate_cache, timeout=False)
        try:
            found = self._call(what, self._dyn.resources.search, group=group, kind=kind,
                               timeout=False)
        except self._errors.ResourceNotFoundError:
            return []
        return sorted({r.group_version for r in found if getattr(r, "kind", None) == kind})

    # --- objects -----------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, timeout: bool = True, **kwargs: Any) -> Any:
        """fn(*args, **kwargs) with API and transport errors as KubeError (discovery calls
        take no request timeout argument: timeout=False)."""
        if timeout:
            kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return fn(*args, **kwargs)
        except self._api_errors as exc:
            raise _from_api(what, exc) from None
        except self._transport_errors as exc:
            raise KubeError(what, 0, "", f"{type(exc).__name__}: {exc}") from None

    def get(self, api_version: str, kind: str, name: str,
            namespace: str = "") -> dict[str, Any] | None:
        res = self.resource(api_version, kind)
        try:
            obj = self._call(f"get {kind} {name}", res.get, name=name,
                             namespace=namespace or None)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return obj.to_dict()

    def list(self, api_version: str, kind: str, namespace: str = "",
             label_selector: str | None = None) -> list[dict[str, Any]]:
        res = self.resource(api_version, kind)
        found = self._call(f"list {kind}", res.get, namespace=namespace or None,
                           label_selector=label_selector)
        return [item.to_dict() if hasattr(item, "to_dict") else dict(item)
                for item in found.to_dict().get("items", [])]

    def apply(self, obj: dict[str, Any], force: bool = False) -> dict[str, Any]:
        """Server-side apply as field manager ``nativek8s``."""
        res = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        out = self._call(f"apply {_describe(obj)}", res.server_side_apply, body=obj,
                         name=meta.get("name"), namespace=meta.get("namespace"),
                         field_manager=FIELD_MANAGER, force_conflicts=force or None)
        return out.to_dict()

    def merge_patch(self, api_version: str, kind: str, name: str, body: dict[str, Any],
                    namespace: str = "") -> dict[str, Any]:
        """JSON merge patch of an existing object (404 if it is gone: never creates one, unlike
        server-side apply). A ``metadata.resourceVersion`` in the body is a precondition."""
        res = self.resource(api_version, kind)
        out = self._call(f"patch {kind} {name}", res.patch, body=body, name=name,
                         namespace=namespace or None,
                         content_type="application/merge-patch+json")
        return out.to_dict()

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        """Delete one object; False if it was already gone."""
        res = self.resource(api_version, kind)
        try:
            self._call(f"delete {kind} {name}", res.delete, name=name,
                       namespace=namespace or None)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def pod_proxy_get(self, namespace: str, pod: str, port: int, path: str,
                      query: dict[str, str]) -> tuple[int, str]:
        """GET through the API server's pod proxy: (HTTP status, body text)."""
        url = f"/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/{path.lstrip('/')}"
        try:
            resp = self._dyn.request("GET", url, query_params=list(query.items()),
                                     serialize=False, _request_timeout=REQUEST_TIMEOUT)
        except self._errors.DynamicApiError as exc:
            body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) \
                else str(exc.body or "")
            return int(exc.status or 0), body
        except self._transport_errors as exc:
            raise KubeError(f"proxy to pod {namespace}/{pod}", 0, "", str(exc)) from None
        return int(resp.status), resp.data.decode(errors="replace")
