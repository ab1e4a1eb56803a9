"""Test helpers: find the upstream files (tests.upstream), and validate objects against Cilium's CRD and
Helm values schemas the way the API server and Helm would.

The CRD openAPIV3Schema is a structural schema; the API server prunes unknown fields, so
an unknown field is an error here (``additionalProperties: false`` wherever properties are
listed). ``x-kubernetes-list-type: map`` keys must be unique; ``int-or-string`` takes both;
formats ``cidr``, ``int32`` and ``int64`` are checked. Metadata follows the Kubernetes
rules for names and labels, which the CRD schema leaves to the API server.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.upstream import require

PROJECT_ROOT = Path(__file__).resolve().parents[4]
VALUES_SCHEMA = "values.schema.1.18.0-dev.json"
SNAPSHOTS = {(1, 16): "v1.16-branchpoint", (1, 17): "v1.17-branchpoint",
             (1, 18): "1.18.0-dev-2025-03-23"}
# Chart values the 1.18-dev schema lacks: values.yaml declares them commented out, so the
# schema generator skips them, but the chart's templates read them.
VALUES_NOT_IN_SCHEMA = {"kubeProxyReplacement"}


def snapshot_for(version: tuple[int, int]) -> str:
    """The CRD snapshot closest to a Cilium minor version (1.19+: the 1.18 one)."""
    return SNAPSHOTS[min(version, max(SNAPSHOTS))]


# --- CRD schemas -------------------------------------------------------------------------

def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def _list_map_keys(validator, keys, instance, schema):
    if not validator.is_type(instance, "array"):
        return
    seen: dict[tuple, int] = {}
    for i, item in enumerate(instance):
        key = tuple(item.get(k) for k in keys) if isinstance(item, dict) else (item,)
        if key in seen:
            named = dict(zip(keys, key, strict=True))
            yield jsonschema.ValidationError(
                f"items {seen[key]} and {i} have the same list-map key {named}")
        seen[key] = i


def _list_type(validator, kind, instance, schema):
    if kind == "set" and validator.is_type(instance, "array"):
        if len({json.dumps(i, sort_keys=True) for i in instance}) != len(instance):
            yield jsonschema.ValidationError("x-kubernetes-list-type set has duplicates")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are large
_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("cidr", raises=ValueError)
def _is_cidr(value: object) -> bool:
    # Go's net.ParseCIDR: an address with a prefix length, host bits allowed.
    if not isinstance(value, str) or "/" not in value:
        return False
    ipaddress.ip_network(value, strict=False)
    return True


@_FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -2**31 <= value < 2**31


@_FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -2**63 <= value < 2**63


_CrdValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    {"x-kubernetes-list-map-keys": _list_map_keys, "x-kubernetes-list-type": _list_type},
)


@cache
def crd_index(snapshot: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → {"crd", "validator", "file", "deprecated"} for one snapshot."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(require(f"cilium/{snapshot}").glob("*/*.yaml")):
        crd = yaml.load(path.read_text(), Loader=_LOADER)
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            index[key] = {"crd": crd, "file": path.name,
                          "validator": _CrdValidator(schema, format_checker=_FORMATS),
                          "deprecated": bool(version.get("deprecated"))}
    return index


DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def metadata_errors(meta: dict[str, Any], namespaced: bool) -> list[str]:
    errors = []
    name = meta.get("name", "")
    if not (DNS_SUBDOMAIN.match(name) and len(name) <= 253):
        errors.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    if namespaced != ("namespace" in meta):
        errors.append("metadata.namespace " + ("missing" if namespaced else
                                               "set on a cluster-scoped object"))
    for key, value in (meta.get("labels") or {}).items():
        prefix, _, label = key.rpartition("/")
        if prefix and not (DNS_SUBDOMAIN.match(prefix) and len(prefix) <= 253):
            errors.append(f"label key {key!r}: bad prefix")
        if not (LABEL_NAME.match(label) and len(label) <= 63):
            errors.append(f"label key {key!r}: bad name")
        if not (isinstance(value, str) and LABEL_VALUE.match(value) and len(value) <= 63):
            errors.append(f"label {key}={value!r}: bad value")
    return errors


def crd_errors(obj: dict[str, Any], snapshot: str) -> list[str]:
    """Why the API server of this snapshot's CRDs would refuse obj (empty: accepted)."""
    found = crd_index(snapshot).get((obj.get("apiVersion"), obj.get("kind")))
    if found is None:
        return [f"{obj.get('apiVersion')} {obj.get('kind')} is not served by the CRDs of "
                f"{snapshot}"]
    errors = [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
              for e in found["validator"].iter_errors(obj)]
    namespaced = found["crd"]["spec"]["scope"] == "Namespaced"
    return errors + metadata_errors(obj.get("metadata") or {}, namespaced)


# --- Helm values -------------------------------------------------------------------------

@cache
def values_schema() -> dict[str, Any]:
    return json.loads(require(f"cilium/{VALUES_SCHEMA}").read_text())


def values_errors(values: dict[str, Any]) -> list[str]:
    """Schema errors, plus keys the chart does not know (the schema allows any key, so a
    typo would pass it silently)."""
    schema = values_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(values)]

    def walk(value: Any, node: dict[str, Any], path: str) -> None:
        if not isinstance(value, dict) or "properties" not in node:
            return
        for key, sub in value.items():
            where = f"{path}.{key}" if path else key
            if key not in node["properties"]:
                if where not in VALUES_NOT_IN_SCHEMA:
                    errors.append(f"{where}: not a value of the Cilium chart")
                continue
            walk(sub, node["properties"][key], where)

    walk(values, schema, "")
    return errors
