"""Server-side apply and managed-fields bookkeeping, after structured-merge-diff.

Apply: the applier's new field set replaces its old one; fields it dropped are removed
unless another manager owns them; a field another manager owns whose value would change
is a conflict (409) unless force=true, which moves ownership to the applier.
Update (create/PUT/non-apply PATCH): changed fields move to the updating manager.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

from . import errors
from . import fieldpaths as fp
from . import schema as sch

Key = tuple[str, str, str]  # (manager, operation, subresource)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Managed:
    """managedFields decoded into path sets, keeping entry order and metadata."""

    sets: dict[Key, set[fp.Path]]
    meta: dict[Key, dict[str, Any]]

    @classmethod
    def decode(cls, entries: list[dict[str, Any]] | None) -> Managed:
        sets: dict[Key, set[fp.Path]] = {}
        meta: dict[Key, dict[str, Any]] = {}
        for entry in entries or []:
            key = (entry["manager"], entry["operation"], entry.get("subresource", ""))
            sets[key] = fp.from_fields_v1(entry.get("fieldsV1") or {})
            meta[key] = {"apiVersion": entry.get("apiVersion", ""), "time": entry.get("time")}
        return cls(sets, meta)

    def encode(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for key, paths in self.sets.items():
            if not paths:
                continue
            manager, operation, subresource = key
            entry: dict[str, Any] = {"manager": manager, "operation": operation,
                                     "apiVersion": self.meta[key]["apiVersion"],
                                     "time": self.meta[key]["time"] or now(),
                                     "fieldsType": "FieldsV1",
                                     "fieldsV1": fp.to_fields_v1(paths)}
            if subresource:
                entry["subresource"] = subresource
            out.append(entry)
        return out

    def touch(self, key: Key, api_version: str) -> None:
        self.meta[key] = {"apiVersion": api_version, "time": now()}
        self.sets.setdefault(key, set())

    def printed(self, key: Key) -> str:
        """printManager() of managedfields/internal/conflict.go."""
        manager, operation, subresource = key
        text = f'"{manager}"'
        if subresource:
            text += f' with subresource "{subresource}"'
        if operation == "Update":
            text += f" using {self.meta[key]['apiVersion']} at {self.meta[key]['time']}"
        return text


def merge(live: Any, applied: Any, schema: sch.Schema | None) -> Any:
    """Merge an apply configuration into the live value (SMD merge semantics)."""
    if isinstance(live, dict) and isinstance(applied, dict) and not sch.is_atomic_map(schema):
        out = copy.deepcopy(live)
        for key, value in applied.items():
            sub = sch.child(schema, key)
            out[key] = merge(live[key], value, sub) if key in live else copy.deepcopy(value)
        return out
    if isinstance(live, list) and isinstance(applied, list) and schema is not None:
        kind, keys = sch.list_type(schema), sch.map_keys(schema)
        if kind == "map" and keys:
            merged: list[Any] = copy.deepcopy(live)
            for item in applied:
                element = fp.key_element(item, keys)
                index = next((i for i, cur in enumerate(merged)
                              if fp.key_element(cur, keys) == element), -1)
                if index >= 0:
                    merged[index] = merge(merged[index], item, sch.items(schema))
                else:
                    merged.append(copy.deepcopy(item))
            return merged
        if kind == "set":
            return copy.deepcopy(live) + [copy.deepcopy(v) for v in applied if v not in live]
    return copy.deepcopy(applied)


def _rebuild(original: dict[str, Any] | None, tracked: dict[str, Any], subresource: str,
             has_status: bool) -> dict[str, Any]:
    """Put the untracked parts (apiVersion, kind, identity metadata, other half) back."""
    base = copy.deepcopy(original) if original else {}
    result: dict[str, Any] = {k: v for k, v in base.items() if k in ("apiVersion", "kind")}
    meta_untracked = {k: v for k, v in (base.get("metadata") or {}).items()
                      if k in fp._UNTRACKED_META}
    if subresource == "status":
        result.update({k: v for k, v in base.items() if k not in ("apiVersion", "kind", "status")})
        if "status" in tracked:
            result["status"] = tracked["status"]
        return result
    if has_status and "status" in base:
        result["status"] = base["status"]
    for key, value in tracked.items():
        if key != "metadata":
            result[key] = value
    result["metadata"] = {**meta_untracked, **tracked.get("metadata", {})}
    return result


def apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str, force: bool,
          schema: sch.Schema | None, subresource: str, has_status: bool,
          api_version: str) -> dict[str, Any]:
    """Result of applying `config`; raises a 409 ApiError on conflicts without force."""
    managed = Managed.decode((live or {}).get("metadata", {}).get("managedFields"))
    own: Key = (manager, "Apply", subresource)
    applied_tracked = fp.tracked(config, subresource, has_status)
    live_tracked = fp.tracked(live, subresource, has_status)
    new_set = fp.fieldset(applied_tracked, schema)
    others = {k: s for k, s in managed.sets.items() if k != own}
    owned_by_others: set[fp.Path] = set().union(*others.values()) if others else set()

    merged = copy.deepcopy(live_tracked)
    for path in sorted(managed.sets.get(own, set()) - new_set - owned_by_others,
                       key=len, reverse=True):
        fp.remove_at(merged, path)
    merged = merge(merged, applied_tracked, schema)

    conflicts: list[tuple[Key, fp.Path]] = []
    for key, paths in others.items():
        for path in sorted(paths & new_set):
            before, after = fp.value_at(live_tracked, path), fp.value_at(merged, path)
            if before != after and not fp.is_container(path, before, after):
                conflicts.append((key, path))
    if conflicts and not force:
        raise errors.apply_conflict([(managed.printed(k), fp.path_string(p)) for k, p in conflicts])
    for key, path in conflicts:
        managed.sets[key].discard(path)

    managed.touch(own, api_version)
    managed.sets[own] = new_set
    result = _rebuild(live if live else config, merged, subresource, has_status)
    result.setdefault("metadata", {})["managedFields"] = managed.encode()
    return result


def record_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                  schema: sch.Schema | None, subresource: str, has_status: bool,
                  api_version: str) -> None:
    """Move ownership of what changed between `old` and `new` to `manager` (in place)."""
    managed = Managed.decode((old or {}).get("metadata", {}).get("managedFields")
                             if old else new.get("metadata", {}).get("managedFields"))
    before = fp.tracked(old, subresource, has_status)
    after = fp.tracked(new, subresource, has_status)
    old_set, new_set = fp.fieldset(before, schema), fp.fieldset(after, schema)
    changed = set()
    for path in new_set:
        a, b = fp.value_at(before, path), fp.value_at(after, path)
        if path not in old_set or (a != b and not fp.is_container(path, a, b)):
            changed.add(path)
    removed = old_set - new_set
    own: Key = (manager, "Update", subresource)
    for key in managed.sets:
        managed.sets[key] -= removed
        if key != own:
            managed.sets[key] -= changed
    if changed or own in managed.sets:
        managed.touch(own, api_version)
        managed.sets[own] |= changed
    new.setdefault("metadata", {})["managedFields"] = managed.encode()
