"""The machine-readable outputs (`-o json`, `-o yaml`): one envelope, one schema per kind.

Every document carries ``apiVersion`` and ``kind`` first; its JSON Schema ships in the
package (``core/schemas/<kind>.schema.json``; the Plan's is made from its model) and
``nativek8s schema KIND`` prints it. A change that breaks a reader bumps ``API_VERSION``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from .plan import Plan

from .errors import UsageError

API_VERSION = "nativek8s/v1"

# kind → (the command that prints it, what it is)
KINDS: dict[str, tuple[str, str]] = {
    "Status": ("status -o json", "machines and BGP sessions of a deployed lab"),
    "VerifyReport": ("verify -o json", "every check, passed, failed or not run"),
    "Plan": ("plan -o json", "every address, session and expected route of a topology"),
    "PluginList": ("plugins -o json", "installed plugins"),
}


def document(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    return {"apiVersion": API_VERSION, "kind": kind, **body}


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a kind (its name as in KINDS, any case)."""
    name = next((k for k in KINDS if k.lower() == kind.lower()), None)
    if name is None:
        raise UsageError(f"no document kind {kind!r}; kinds: {', '.join(KINDS)}")
    if name == "Plan":
        return _plan_schema()
    text = resources.files(__package__).joinpath(f"schemas/{name}.schema.json").read_text()
    return json.loads(text)


def _plan_schema() -> dict[str, Any]:
    from .plan import Plan

    body = Plan.model_json_schema()
    body["properties"] = {"apiVersion": {"const": API_VERSION}, "kind": {"const": "Plan"},
                          **body["properties"]}
    body["required"] = ["apiVersion", "kind", *body.get("required", [])]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://nativek8s.invalid/schemas/{API_VERSION}/Plan.schema.json",
            **body}


def render(doc: dict[str, Any], fmt: str) -> str:
    """The document as JSON (indented) or YAML (block style, keys in document order)."""
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).rstrip("\n")
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render_plan(plan: Plan, fmt: str) -> str:
    """The Plan document, as render() writes it; its JSON without the dump → parse → dump
    round trip, which takes a second for a thousand-node lab (see plan/json_text.py)."""
    if fmt == "json":
        from .plan.json_text import plan_json

        return plan_json(document("Plan", {}), plan)
    return render(document("Plan", json.loads(plan.model_dump_json())), fmt)
