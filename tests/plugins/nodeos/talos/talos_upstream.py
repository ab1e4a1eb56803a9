"""Test helpers: find the upstream Talos config schemas (tests.upstream) and validate
documents against Talos's machine-config JSON schemas the way its strict decoder would
(``additionalProperties: false`` everywhere; a document's kind picks its definition, no kind
means v1alpha1).

Two things are not configuration and are handled before validating:
- ``$patch: delete`` is a strategic-merge directive of talosctl's patcher, not a field.
- Erratum of the 1.14.0-rc.1 schema: it names the kind ``UnattendedInstall`` while Talos
  registers and decodes ``UnattendedInstallConfig`` (siderolabs/talos#14349, fixed by
  #14351 after rc.1). The schema's definition is used for the real kind;
  ``test_talos_schema_erratum_still_present`` notices when the file is fixed.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.upstream import require

PROJECT_ROOT = Path(__file__).resolve().parents[4]
SCHEMAS = {(1, 13): "config.schema.v1.13.9.json", (1, 14): "config.schema.v1.14.0-rc.1.json"}
ERRATUM_DEF = "runtime.UnattendedInstallConfigV1Alpha1"
ERRATUM_KINDS = ("UnattendedInstall", "UnattendedInstallConfig")  # (in the file, real)


def schema_path(minor: tuple[int, int]) -> Path:
    """The Talos config schema of a minor version, or skip (fail under REQUIRE_ALL)."""
    return require(f"talos/{SCHEMAS[minor]}")


@cache
def raw_schema(minor: tuple[int, int]) -> dict[str, Any]:
    return json.loads(schema_path(minor).read_text())


@cache
def _definitions(minor: tuple[int, int]) -> dict[str, Any]:
    defs = copy.deepcopy(raw_schema(minor)["$defs"])
    kind = defs.get(ERRATUM_DEF, {}).get("properties", {}).get("kind", {})
    if kind.get("enum") == [ERRATUM_KINDS[0]]:
        kind["enum"] = [ERRATUM_KINDS[1]]
    return defs


def definition_for(doc: dict[str, Any], minor: tuple[int, int]) -> str:
    if "kind" not in doc:
        return "v1alpha1.Config"
    for name, definition in _definitions(minor).items():
        if definition.get("properties", {}).get("kind", {}).get("enum") == [doc["kind"]]:
            return name
    raise AssertionError(f"Talos {minor} has no config document of kind {doc['kind']!r}")


def strip_directives(node: Any) -> Any:
    """What Talos decodes once it has taken the ``$patch: delete`` selectors out
    (configloader's decoder/delete.go): a key whose value is a mapping holding
    ``$patch: delete`` is a selector, not a value, and goes, as does a mapping emptied by
    such removals."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$patch" or (isinstance(value, dict) and value.get("$patch") == "delete"):
                continue
            stripped = strip_directives(value)
            if isinstance(value, dict) and value and stripped == {}:
                continue
            out[key] = stripped
        return out
    if isinstance(node, list):
        return [strip_directives(v) for v in node]
    return node


def schema_errors(doc: dict[str, Any], minor: tuple[int, int]) -> list[str]:
    """Every way a (patch) document breaks the schema, as ``path: message`` lines."""
    name = definition_for(doc, minor)
    validator = jsonschema.Draft202012Validator(
        {"$defs": _definitions(minor), "$ref": f"#/$defs/{name}"})
    return sorted(f"{'.'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}"
                  for e in validator.iter_errors(strip_directives(doc)))
