"""Structural-schema handling of CustomResourceDefinitions, as kube-apiserver does it.

Stands in for apiextensions-apiserver's pruning, defaulting and OpenAPI v3 validation:
unknown fields are pruned (or rejected with fieldValidation=Strict), `default`s are filled
in, and the object is validated with `jsonschema` after converting the OpenAPI v3 subset.
Violations become 422 causes worded like the real server's. Not done: CEL rules
(x-kubernetes-validations), ratcheting, int32/int64 range checks.
"""

from __future__ import annotations

import base64
import copy
import datetime
import ipaddress
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema

Schema = dict[str, Any]

_DROP = {"description", "default", "nullable", "example", "externalDocs"}


def to_jsonschema(node: Any) -> Any:
    """OpenAPI v3 (CRD subset) → JSON Schema draft 4 (same exclusiveMinimum semantics)."""
    if isinstance(node, list):
        return [to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-kubernetes-"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: to_jsonschema(v) for k, v in value.items()}
        else:
            out[key] = to_jsonschema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


# --- formats the apiserver checks (kube-openapi strfmt) --------------------------------

_FORMATS = jsonschema.FormatChecker(formats=())


def _fmt(name: str) -> Any:
    def register(check: Any) -> Any:
        def wrapped(value: Any) -> bool:
            if not isinstance(value, str):
                return True
            try:
                return bool(check(value))
            except ValueError:
                return False
        _FORMATS.checks(name)(wrapped)
        return check
    return register


_fmt("ipv4")(lambda v: ipaddress.IPv4Address(v))
_fmt("ipv6")(lambda v: ipaddress.IPv6Address(v))
_fmt("cidr")(lambda v: ipaddress.ip_network(v, strict=False))
_fmt("uuid")(lambda v: uuid.UUID(v))
_fmt("byte")(lambda v: base64.b64decode(v, validate=True) is not None)
_fmt("date-time")(lambda v: datetime.datetime.fromisoformat(v.replace("Z", "+00:00")))


# --- schema navigation ---------------------------------------------------------------

def child(schema: Schema | None, key: str) -> Schema | None:
    """Schema of map key `key`; None when the schema says nothing (unknown field)."""
    if schema is None:
        return None
    props = schema.get("properties")
    if props is not None and key in props:
        return props[key]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    if extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
        return {"x-kubernetes-preserve-unknown-fields": True}
    return None


def items(schema: Schema | None) -> Schema | None:
    if schema is None:
        return None
    found = schema.get("items")
    return found if isinstance(found, dict) else None


def list_type(schema: Schema | None) -> str:
    return (schema or {}).get("x-kubernetes-list-type", "atomic")


def map_keys(schema: Schema | None) -> list[str]:
    return list((schema or {}).get("x-kubernetes-list-map-keys", []))


def is_atomic_map(schema: Schema | None) -> bool:
    return (schema or {}).get("x-kubernetes-map-type") == "atomic"


# --- pruning and defaulting ------------------------------------------------------------

def prune(obj: Any, schema: Schema | None, path: str = "") -> list[str]:
    """Remove fields the schema does not declare; returns their paths (".spec.x")."""
    removed: list[str] = []
    if schema is None or schema.get("x-kubernetes-preserve-unknown-fields"):
        return removed
    if isinstance(obj, dict):
        for key in list(obj):
            if path == "" and key in ("apiVersion", "kind", "metadata"):
                continue
            sub = child(schema, key)
            if sub is None and ("properties" in schema or "additionalProperties" in schema
                                or schema.get("type") == "object"):
                removed.append(f"{path}.{key}")
                del obj[key]
            elif sub is not None:
                removed.extend(prune(obj[key], sub, f"{path}.{key}"))
    elif isinstance(obj, list):
        sub = items(schema)
        for index, value in enumerate(obj):
            removed.extend(prune(value, sub, f"{path}[{index}]"))
    return removed


def apply_defaults(obj: Any, schema: Schema | None) -> None:
    if schema is None:
        return
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key not in obj and "default" in sub:
                obj[key] = copy.deepcopy(sub["default"])
        for key, value in obj.items():
            apply_defaults(value, child(schema, key))
    elif isinstance(obj, list):
        for value in obj:
            apply_defaults(value, items(schema))


# --- typed conversion, as structured-merge-diff does for apply patches ------------------

def type_errors(obj: Any, schema: Schema | None, path: str = "") -> Iterator[str]:
    if schema is None or obj is None:
        return
    expected = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(obj, (int, str)) or isinstance(obj, bool):
            yield f"{path}: expected string or numeric, got {_type_name(obj)}"
        return
    checks = {
        "string": (lambda v: isinstance(v, str), "expected string"),
        "integer": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                    "expected numeric (int or float)"),
        "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                   "expected numeric (int or float)"),
        "boolean": (lambda v: isinstance(v, bool), "expected boolean"),
        "object": (lambda v: isinstance(v, dict), "expected map"),
        "array": (lambda v: isinstance(v, list), "expected list"),
    }
    if expected in checks:
        ok, text = checks[expected]
        if not ok(obj):
            yield f"{path}: {text}, got {_type_name(obj)}"
            return
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from type_errors(value, child(schema, key), f"{path}.{key}")
    elif isinstance(obj, list):
        keys = map_keys(schema) if list_type(schema) == "map" else []
        for index, value in enumerate(obj):
            label = _item_label(value, keys, index)
            yield from type_errors(value, items(schema), f"{path}{label}")


def _item_label(value: Any, keys: list[str], index: int) -> str:
    if keys and isinstance(value, dict) and all(k in value for k in keys):
        return "[" + ",".join(f"{k}={json.dumps(value[k])}" for k in keys) + "]"
    return f"[{index}]"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null"


# --- validation → metav1.StatusCause list ---------------------------------------------

def _go(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _causes_for(error: jsonschema.ValidationError) -> list[dict[str, str]]:
    field = _field(error.absolute_path)
    value = error.instance
    kind = error.validator
    arg = error.validator_value
    if kind == "required":
        missing = [r for r in arg if isinstance(value, dict) and r not in value]
        return [{"reason": "FieldValueRequired", "message": "Required value",
                 "field": f"{field}.{m}" if field else m} for m in missing]
    if kind == "type":
        wanted = arg if isinstance(arg, str) else arg[0]
        got = _type_name(value).replace("map", "object").replace("list", "array").replace(
            "number", "integer" if isinstance(value, int) else "number")
        msg = f"Invalid value: {json.dumps(got)}: {field} in body must be of type {wanted}: {json.dumps(got)}"
        return [{"reason": "FieldValueTypeInvalid", "message": msg, "field": field}]
    if kind == "enum":
        allowed = ", ".join(_go(v) for v in arg)
        return [{"reason": "FieldValueNotSupported",
                 "message": f"Unsupported value: {_go(value)}: supported values: {allowed}",
                 "field": field}]
    texts = {
        "pattern": f"should match '{arg}'",
        "minimum": f"should be greater than or equal to {arg}",
        "maximum": f"should be less than or equal to {arg}",
        "minLength": f"should be at least {arg} chars long",
        "minItems": f"should have at least {arg} items",
        "format": f"must be of type {arg}: {_go(value)}",
        "multipleOf": f"should be a multiple of {arg}",
        "uniqueItems": "shouldn't contain duplicates",
        "minProperties": f"should have at least {arg} properties",
    }
    if kind == "maxLength":
        return [{"reason": "FieldValueTooLong",
                 "message": f"Too long: may not be more than {arg} bytes", "field": field}]
    if kind == "maxItems":
        return [{"reason": "FieldValueTooMany",
                 "message": f"Too many: {len(value)}: must have at most {arg} items", "field": field}]
    if kind == "maxProperties":
        return [{"reason": "FieldValueTooMany",
                 "message": f"Too many: {len(value)}: must have at most {arg} items", "field": field}]
    shown = len(value) if kind == "minItems" else _go(value) if not isinstance(value, dict) else "object"
    text = texts.get(kind, error.message)
    return [{"reason": "FieldValueInvalid",
             "message": f"Invalid value: {shown}: {field} in body {text}", "field": field}]


def _duplicate_keys(obj: Any, schema: Schema | None, path: str) -> Iterator[dict[str, str]]:
    if schema is None:
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _duplicate_keys(value, child(schema, key), f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        keys = map_keys(schema) if list_type(schema) == "map" else []
        seen: set[str] = set()
        for index, value in enumerate(obj):
            if list_type(schema) == "set" or keys:
                ident = json.dumps(value if not keys else {k: value.get(k) for k in keys
                                                           if isinstance(value, dict)},
                                   sort_keys=True)
                if ident in seen:
                    yield {"reason": "FieldValueDuplicate",
                           "message": f"Duplicate value: {ident}", "field": f"{path}[{index}]"}
                seen.add(ident)
            yield from _duplicate_keys(value, items(schema), f"{path}[{index}]")


def validate(obj: dict[str, Any], schema: Schema) -> list[dict[str, str]]:
    """Causes (reason/message/field) for every violation; empty when valid."""
    body = {k: v for k, v in obj.items() if k != "metadata"}
    js = to_jsonschema(schema)
    js.get("properties", {}).pop("metadata", None)
    if "required" in js:
        js["required"] = [r for r in js["required"] if r != "metadata"]
    validator = jsonschema.Draft4Validator(js, format_checker=_FORMATS)
    causes: list[dict[str, str]] = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        for cause in _causes_for(error):
            if cause not in causes:
                causes.append(cause)
    causes.extend(_duplicate_keys(body, schema, ""))
    return causes


_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def name_causes(name: str) -> list[dict[str, str]]:
    if len(name) <= 253 and _DNS1123_SUBDOMAIN.match(name):
        return []
    return [{"reason": "FieldValueInvalid", "field": "metadata.name",
             "message": f"Invalid value: {json.dumps(name)}: a lowercase RFC 1123 subdomain must "
                        "consist of lower case alphanumeric characters, '-' or '.', and must start "
                        "and end with an alphanumeric character (e.g. 'example.com', regex used for "
                        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}]
