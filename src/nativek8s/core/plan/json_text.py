"""The plan as indented JSON text (`plan -o json`), fast enough for a thousand-node lab.

The plain way, ``json.dumps(json.loads(plan.model_dump_json()), indent=2)``, takes about a
second for 1,000 nodes: json's indenting encoder is pure Python, and it walks all 122,100
expected routes one by one although ``build_plan`` shares about 6,300 route objects between
machines. Here each shared route is dumped once and its text reused; the rest of the plan
(small) goes the plain way. The text is byte for byte the plain way's
(tests/core/test_plan_json.py compares them).
"""

from __future__ import annotations

import json
from typing import Any

from .models import ExpectedRoute, Machine, Plan

_ROUTES = {"routers": {"__all__": {"routes"}}, "nodes": {"__all__": {"routes"}}}
_MARK = "\0routes"  # stands for a machine's routes in the rest of the plan; no plan value is this
_MARK_TEXT = json.dumps(_MARK)


def plan_json(head: dict[str, Any], plan: Plan) -> str:
    """``json.dumps({**head, **plan's JSON}, indent=2, ensure_ascii=False)``, reusing the text
    of routes shared between machines."""
    # Values exactly as model_dump_json gives them, parsed back: what the plain way prints.
    rest = json.loads(plan.model_dump_json(exclude=_ROUTES))
    rest["routers"] = [_marked(m, d) for m, d in zip(plan.routers, rest["routers"], strict=True)]
    rest["nodes"] = [_marked(m, d) for m, d in zip(plan.nodes, rest["nodes"], strict=True)]
    pieces = json.dumps({**head, **rest}, indent=2, ensure_ascii=False).split(_MARK_TEXT)
    machines = plan.machines  # routers then nodes: the document's order
    if len(pieces) != len(machines) + 1:
        raise AssertionError(f"{len(pieces) - 1} route marks for {len(machines)} machines")
    texts: dict[tuple[int, int], str] = {}  # (id of a route, indent) → its text, this dump only
    out = [pieces[0]]
    for machine, piece in zip(machines, pieces[1:], strict=True):
        line = out[-1][out[-1].rfind("\n") + 1:]  # '      "routes": '
        out.append(_routes(machine.routes, len(line) - len(line.lstrip(" ")), texts))
        out.append(piece)
    return "".join(out)


def _marked(machine: Machine, dumped: dict[str, Any]) -> dict[str, Any]:
    # model_dump_json writes the fields in declaration order: the mark goes where routes were.
    return {name: _MARK if name == "routes" else dumped[name]
            for name in type(machine).model_fields}


def _routes(routes: tuple[ExpectedRoute, ...], indent: int,
            texts: dict[tuple[int, int], str]) -> str:
    """The routes list as json.dumps(indent=2) writes it with its key at ``indent`` spaces."""
    if not routes:
        return "[]"
    pad = " " * (indent + 2)
    items = []
    for route in routes:
        key = (id(route), indent)  # the plan keeps every route alive, so ids stay unique
        if key not in texts:
            body = json.dumps(json.loads(route.model_dump_json()), indent=2, ensure_ascii=False)
            texts[key] = pad + body.replace("\n", "\n" + pad)
        items.append(texts[key])
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
