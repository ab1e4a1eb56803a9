"""Field sets of server-side apply: which leaf fields an object sets, in FieldsV1 form.

Follows sigs.k8s.io/structured-merge-diff: maps are granular (unless
x-kubernetes-map-type: atomic), lists are atomic unless x-kubernetes-list-type says
`map` (items keyed `k:{...}`, each item a member too) or `set` (`v:` members).
Without a schema (built-in kinds here) maps are granular and lists atomic.
"""

from __future__ import annotations

import json
from typing import Any

from . import schema as sch

Path = tuple[str, ...]
MISSING = object()

# Fields the apiserver never records in managedFields.
_UNTRACKED_META = ("name", "namespace", "uid", "resourceVersion", "generation",
                   "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
                   "deletionGracePeriodSeconds", "generateName")


def tracked(obj: dict[str, Any] | None, subresource: str, has_status: bool) -> dict[str, Any]:
    """The part of `obj` whose ownership is tracked for a request on `subresource`."""
    if not obj:
        return {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _UNTRACKED_META}
    if meta:
        out["metadata"] = meta
    else:
        out.pop("metadata", None)
    if subresource == "status":
        return {"status": out["status"]} if "status" in out else {}
    if has_status:
        out.pop("status", None)
    return out


def key_element(item: Any, keys: list[str]) -> str:
    ident = {k: item.get(k) for k in keys} if isinstance(item, dict) else {}
    return "k:" + json.dumps(ident, separators=(",", ":"))


def fieldset(value: Any, schema: sch.Schema | None, path: Path = ()) -> set[Path]:
    out: set[Path] = set()
    _walk(value, schema, path, out)
    return out


def _walk(value: Any, schema: sch.Schema | None, path: Path, out: set[Path]) -> None:
    if isinstance(value, dict) and not sch.is_atomic_map(schema):
        if not value and path:
            out.add(path)
        for key, sub in value.items():
            _walk(sub, sch.child(schema, key), path + (f"f:{key}",), out)
        return
    if isinstance(value, list) and schema is not None:
        kind = sch.list_type(schema)
        keys = sch.map_keys(schema)
        if kind == "map" and keys:
            for item in value:
                item_path = path + (key_element(item, keys),)
                out.add(item_path)
                if isinstance(item, dict):
                    for key, sub in item.items():
                        _walk(sub, sch.child(sch.items(schema), key), item_path + (f"f:{key}",), out)
            return
        if kind == "set":
            for item in value:
                out.add(path + ("v:" + json.dumps(item, separators=(",", ":")),))
            return
    if path:
        out.add(path)


def _find_item(items: list[Any], element: str) -> int:
    if element.startswith("k:"):
        ident = json.loads(element[2:])
        for index, item in enumerate(items):
            if isinstance(item, dict) and all(item.get(k) == v for k, v in ident.items()):
                return index
    elif element.startswith("v:"):
        wanted = json.loads(element[2:])
        for index, item in enumerate(items):
            if item == wanted:
                return index
    elif element.startswith("i:"):
        index = int(element[2:])
        if index < len(items):
            return index
    return -1


def value_at(obj: Any, path: Path) -> Any:
    current = obj
    for element in path:
        if element.startswith("f:") and isinstance(current, dict):
            current = current.get(element[2:], MISSING)
        elif isinstance(current, list):
            index = _find_item(current, element)
            current = current[index] if index >= 0 else MISSING
        else:
            return MISSING
        if current is MISSING:
            return MISSING
    return current


def remove_at(obj: Any, path: Path) -> None:
    """Delete the field at `path`, then drop maps this left empty (as SMD does)."""
    parents: list[tuple[Any, str]] = []
    current = obj
    for element in path[:-1]:
        parents.append((current, element))
        current = value_at(current, (element,))
        if current is MISSING:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(current, dict):
        current.pop(last[2:], None)
    elif isinstance(current, list):
        index = _find_item(current, last)
        if index >= 0:
            del current[index]
    for parent, element in reversed(parents):
        holder = value_at(parent, (element,))
        if isinstance(holder, dict) and not holder and element.startswith("f:"):
            parent.pop(element[2:], None)
        else:
            break


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node:  # a member that also has children
            node["."] = {}
    return root


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for element, sub in tree.items():
        if element == ".":
            out.add(prefix)
            continue
        path = prefix + (element,)
        if sub:
            out |= from_fields_v1(sub, path)
        else:
            out.add(path)
    return out


def path_string(path: Path) -> str:
    """fieldpath.Path.String(): .spec.bgpInstances[name="a"].localASN"""
    out = ""
    for element in path:
        kind, raw = element[:2], element[2:]
        if kind == "f:":
            out += f".{raw}"
        elif kind == "k:":
            ident = json.loads(raw)
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in ident.items()) + "]"
        elif kind == "v:":
            out += f"[={raw}]"
        else:
            out += f"[{raw}]"
    return out


def is_container(path: Path, a: Any, b: Any) -> bool:
    """List-map items are containers: their own membership never conflicts."""
    return bool(path) and path[-1].startswith("k:") and isinstance(a, dict) and isinstance(b, dict)
