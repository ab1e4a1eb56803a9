"""`plan -o json`: the fast writer (shared routes dumped once) prints what the plain
dump → parse → dump round trip prints, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nativek8s.core.documents import document, render_plan
from nativek8s.core.load import load_topology
from nativek8s.core.plan import Plan, build_plan

from .conftest import run_cli
from .plans import plan_of


def plain(plan: Plan) -> str:
    """What `plan -o json` printed before: the reference the fast writer must match."""
    return json.dumps(document("Plan", json.loads(plan.model_dump_json())), indent=2,
                      ensure_ascii=False)


# Values the round trip normalises (a float's spelling, escapes, non-ASCII) ride in options.
ODD_OPTIONS = {"netns": {"note": "Zürich → Genève\t\"quoted\"\n", "big": 1e16, "tiny": 0.1,
                         "none": None, "list": [1, "two", [], {}], "empty": {}}}


def without_routes(plan: Plan) -> Plan:
    """The plan with its first node's routes gone: an empty list is written `[]`."""
    first = plan.nodes[0].model_copy(update={"routes": ()})
    return plan.model_copy(update={"nodes": (first, *plan.nodes[1:])})


SHAPES = {
    "6x4": lambda: plan_of(6, 4),
    "6x4, two routers each": lambda: plan_of(6, 4, routers=2),
    "6x4, no direct routes": lambda: plan_of(6, 4, networks={"direct_node_routes": False}),
    "3x2, odd option values": lambda: plan_of(3, 2, options=ODD_OPTIONS),
    "3x2, a node with no routes": lambda: without_routes(plan_of(3, 2)),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_fast_json_is_the_plain_round_trip(shape: str):
    plan = SHAPES[shape]()
    routes = [r for m in plan.machines for r in m.routes]
    assert len({id(r) for r in routes}) < len(routes)  # routes are shared: the reuse is exercised
    assert render_plan(plan, "json") == plain(plan)


def test_plan_command_prints_the_plain_round_trip(builtin_registry, isolated, tmp_path: Path):
    path = tmp_path / "mid.yaml"
    made = run_cli(["init", "--datacentres", "6", "--nodes-per-dc", "4", "--out", str(path)])
    assert made.exit_code == 0, made.output
    result = run_cli(["plan", "-f", str(path), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert result.stdout == plain(build_plan(load_topology(str(path))[0])) + "\n"
