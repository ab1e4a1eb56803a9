"""Plans for the cilium plugin's tests: the reference lab and variations of it.

A plain module (not conftest) so tests import it by a name no other test folder uses."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from nativek8s.core.load import parse_topology
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.validate import check_topology
from tests.topology_changes import merge as _merge
from tests.topology_changes import topology_text

# Three datacentres: two routers and two nodes in dc1, one router each elsewhere, a
# datacentre with two nodes, and one with a router only (no nodes: no Cilium resources).
THREE_DC: dict[str, Any] = {
    "name": "threedc",
    "datacentres": {
        "dc1": {"routers": {"router-1a": {}, "router-1b": {}},
                "nodes": {"node-1": {"role": "controlplane"}, "node-2": {}}},
        "dc2": {"nodes": {"node-3": {}}},
        "dc3": {"nodes": {"node-4": {}, "node-5": {}}},
        "edge": {"lan": "10.9.0.0/24"},
    },
}


def make_plan(changes: dict[str, Any] | None = None) -> Plan:
    """The reference lab with changes merged in (datacentres replaced as a whole)."""
    return _plan(json.dumps(changes or {}, sort_keys=True))


@cache
def _plan(changes: str) -> Plan:  # plans are frozen: one per distinct topology is enough
    topo, _ = parse_topology(topology_text(json.loads(changes)), "test")
    errors, _ = check_topology(topo)
    assert not errors, errors
    return build_plan(topo)


def three_dc(md5: bool = False, **changes: Any) -> Plan:
    return make_plan(_merge({**THREE_DC, "bgp": {"md5": md5}}, changes))


def with_cilium(version: str, **options: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"versions": {"cilium": version}}
    if options:
        out["options"] = {"cilium": options}
    return out
