"""Kubernetes API errors as the real kube-apiserver writes them (metav1.Status bodies).

Message formats follow k8s.io/apimachinery/pkg/api/errors and the managed-fields
conflict formatter, so clients that parse `reason`, `code` and `details.causes` see
what they would see from a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        if not self.reason:
            del body["reason"]
        return body

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.code} {self.reason}: {self.message}"


def qualified(resource: str, group: str) -> str:
    """`nodes` for the core group, `ciliumbgppeerconfigs.cilium.io` otherwise."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return details


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(resource, group)} "{name}" not found',
                    _details(name, group, resource))


def path_not_found() -> ApiError:
    # What the apiserver answers for an unknown group, version or resource.
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(resource, group)} "{name}" already exists',
                    _details(name, group, resource))


def rv_conflict(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again",
        _details(name, group, resource))


def apply_conflict(conflicts: list[tuple[str, str]]) -> ApiError:
    """conflicts: (printed manager, field path) pairs, as managedfields/internal/conflict.go."""
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {mgr}", "field": path}
              for mgr, path in conflicts]
    if len(conflicts) == 1:
        mgr, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {mgr}: {path}"
    else:
        by_manager: dict[str, list[str]] = {}
        for mgr, path in conflicts:
            by_manager.setdefault(mgr, []).append(path)
        lines: list[str] = []
        for mgr in sorted(by_manager):
            lines.append(f"conflicts with {mgr}:")
            lines.extend(f"- {p}" for p in by_manager[mgr])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 as field.ErrorList.ToAggregate() renders it."""
    rendered = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", message,
                    {"causes": [{"message": message}]})


def unsupported_media_type(accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted))


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")
