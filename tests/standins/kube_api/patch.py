"""Non-apply PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a
strategic merge patch covering what built-in kinds need here.

Strategic merge patch stands in for k8s.io/apimachinery/pkg/util/strategicpatch: merge
patch plus `$patch: delete|replace` directives and merge-by-key for the few list fields
whose Go types declare a patchMergeKey (containers, conditions, ...). Custom resources
reject it with 415, as the real server does.
"""

from __future__ import annotations

import copy
from typing import Any

from . import errors

# Go struct tags patchStrategy=merge, patchMergeKey=... of the kinds this stand-in serves.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "env": "name",
              "volumeMounts": "mountPath", "conditions": "type", "ownerReferences": "uid",
              "imagePullSecrets": "name", "ports": "containerPort"}
PRIMITIVE_MERGE = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$retainKeys" or key == "$patch":
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [v for v in out.get(field, []) if v not in value]
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, MERGE_KEYS[key])
        elif isinstance(value, list) and key in PRIMITIVE_MERGE and isinstance(out.get(key), list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            merged = strategic_merge_patch(out.get(key), value)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
    return out


def _merge_list(current: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    out = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise errors.bad_request(f"map: {item} does not contain declared merge key: {merge_key}")
        index = next((i for i, cur in enumerate(out) if cur.get(merge_key) == item[merge_key]), -1)
        if item.get("$patch") == "delete":
            if index >= 0:
                del out[index]
        elif index >= 0:
            out[index] = strategic_merge_patch(out[index], item)
        else:
            out.append({k: v for k, v in item.items() if k != "$patch"})
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _rejected(detail: str) -> errors.ApiError:
    return errors.ApiError(422, "Invalid",
                           "the server rejected our request due to an error in our request",
                           {"causes": [{"reason": "FieldValueInvalid", "message": detail}]})


def _parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise _rejected(f"jsonpatch: path /{'/'.join(parts)} does not exist")
    return current, parts[-1]


def _get(doc: Any, parts: list[str]) -> Any:
    parent, last = _parent(doc, parts) if parts else (None, "")
    if not parts:
        return doc
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _rejected(f"jsonpatch: path /{'/'.join(parts)} does not exist")


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> None:
    parent, last = _parent(doc, parts)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _rejected("jsonpatch replace operation does not apply: doc is missing key: "
                            f"/{'/'.join(parts)}")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if index < 0 or index > len(parent) or (replace and index >= len(parent)):
            raise _rejected(f"jsonpatch: index out of range: /{'/'.join(parts)}")
        if replace:
            parent[index] = copy.deepcopy(value)
        else:
            parent.insert(index, copy.deepcopy(value))
    else:
        raise _rejected(f"jsonpatch: path /{'/'.join(parts)} does not exist")


def _remove(doc: Any, parts: list[str]) -> None:
    _get(doc, parts)
    parent, last = _parent(doc, parts)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for op in operations:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        if kind == "add":
            _add(doc, parts, op.get("value"), replace=False)
        elif kind == "replace":
            _add(doc, parts, op.get("value"), replace=True)
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise _rejected(f"testing value /{'/'.join(parts)} failed: test failed")
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                _remove(doc, source)
            _add(doc, parts, value, replace=False)
        else:
            raise errors.bad_request(f"Unexpected kind: {kind}")
    return doc
