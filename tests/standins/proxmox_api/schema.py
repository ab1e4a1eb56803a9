"""Load the upstream PVE API schema (apidata.js as JSON) and match request paths against it.

The schema is a tree of ``{path, text, leaf, info, children}`` nodes; ``info`` maps an HTTP
method to the endpoint definition (``parameters``, ``permissions``, ``allowtoken``, ...).
Matching follows PVE's RESTHandler: a path component matches a literal child, or the single
``{name}`` child of that level (PVE never mixes both on one level).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = "proxmox/apischema.9.1.3.json"
from tests import upstream  # noqa: E402

# The one routing fact the schema cannot express: pve-storage registers the content
# subclass with ``fragmentDelimiter => ''`` because volume IDs contain '/'.
FRAGMENT_JOIN_PATHS = frozenset({"/nodes/{node}/storage/{storage}/content"})

# Upper bounds of indexed keys ("net[n]" = net0..net31) that the schema only states in prose
# or not at all (qemu-server/pve-container constants); "(n is A to B)" in a description wins.
INDEXED_KEY_COUNT = {
    "net": 32, "ipconfig": 32, "hostpci": 16, "numa": 8, "unused": 256, "usb": 14,
    "virtiofs": 10, "mp": 256, "dev": 256, "link": 8, "acmedomain": 5,
}
_N_RANGE_RE = re.compile(r"n is (\d+) to (\d+)")
_INDEXED_KEY_RE = re.compile(r"^([a-z][a-z_-]*?)(0|[1-9][0-9]*)$")


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


def schema_path() -> Path | None:
    return upstream.find(SCHEMA_FILE)


def missing_reason() -> str:
    return upstream.missing_reason(SCHEMA_FILE)


def require_schema() -> Path:
    """The schema, or skip the calling test (fail under NATIVEK8S_REQUIRE_ALL=1)."""
    return upstream.require(SCHEMA_FILE)


@dataclass(frozen=True)
class Endpoint:
    template: str
    method: str
    info: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.info.get("name", ""))

    @property
    def allowtoken(self) -> bool:
        return bool(self.info.get("allowtoken", 1))

    @property
    def permissions(self) -> dict[str, Any] | None:
        return self.info.get("permissions")

    @property
    def proxyto(self) -> str | None:
        return self.info.get("proxyto")

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        props: dict[str, dict[str, Any]] = self.info.get("parameters", {}).get("properties", {})
        return props

    @property
    def additional_properties(self) -> Any:
        # absent = undefined in Perl, which allows extra properties
        return self.info.get("parameters", {}).get("additionalProperties")

    def property_schema(self, key: str) -> dict[str, Any] | None:
        return property_schema(self.properties, key)


def indexed_count(base: str, schema: dict[str, Any]) -> int:
    match = _N_RANGE_RE.search(str(schema.get("description", "")))
    if match:
        return int(match.group(2)) + 1
    return INDEXED_KEY_COUNT.get(base, 256)


def property_schema(props: dict[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
    """Schema of ``key``, resolving indexed keys like ``net3`` through ``net[n]``."""
    if key in props:
        return props[key]
    match = _INDEXED_KEY_RE.match(key)
    if not match:
        return None
    base, index = match.group(1), int(match.group(2))
    schema = props.get(f"{base}[n]")
    if schema is None or index >= indexed_count(base, schema):
        return None
    return schema


@dataclass
class PathNode:
    path: str
    literal: dict[str, PathNode] = field(default_factory=dict)
    variable: tuple[str, PathNode] | None = None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)


class ApiSchema:
    def __init__(self, tree: list[dict[str, Any]]) -> None:
        self.root = PathNode("")
        self.by_template: dict[str, PathNode] = {}
        for node in tree:
            self._add(self.root, node)

    @classmethod
    def load(cls, path: Path | None = None) -> ApiSchema:
        # In a test without the schema: skip (fail under NATIVEK8S_REQUIRE_ALL=1), naming it.
        return _load_cached(str(path or require_schema()))

    def _add(self, parent: PathNode, raw: dict[str, Any]) -> None:
        text = raw["path"].rsplit("/", 1)[1]
        node = PathNode(raw["path"])
        for method, info in (raw.get("info") or {}).items():
            node.endpoints[method] = Endpoint(raw["path"], method, info)
        if text.startswith("{") and text.endswith("}"):
            parent.variable = (text[1:-1], node)
        else:
            parent.literal[text] = node
        self.by_template[raw["path"]] = node
        for child in raw.get("children") or []:
            self._add(node, child)

    def resolve(self, rel_path: str) -> tuple[PathNode, dict[str, str]] | None:
        """Walk ``rel_path`` (e.g. ``/nodes/pve/qemu/100``) down the tree; None if no node."""
        stack = [c for c in rel_path.split("/") if c]
        node, params = self.root, {}
        while stack:
            comp = stack.pop(0)
            if node.path in FRAGMENT_JOIN_PATHS and stack:
                comp, stack = "/".join([comp, *stack]), []
            if node.variable is not None:
                name, child = node.variable
                if re.search(r"\s", comp):  # PVE's default component regex is \S+
                    return None
                params[name] = comp
                node = child
            elif comp in node.literal:
                node = node.literal[comp]
            else:
                return None
        return node, params

    def find(self, method: str, rel_path: str) -> tuple[Endpoint, dict[str, str]] | None:
        resolved = self.resolve(rel_path)
        if resolved is None or method not in resolved[0].endpoints:
            return None
        node, params = resolved
        return node.endpoints[method], params

    def endpoint(self, method: str, template: str) -> Endpoint:
        return self.by_template[template].endpoints[method]

    def endpoints(self) -> list[Endpoint]:
        return [ep for node in self.by_template.values() for ep in node.endpoints.values()]


@cache
def _load_cached(path: str) -> ApiSchema:
    with open(path, encoding="utf-8") as fh:
        return ApiSchema(json.load(fh))
