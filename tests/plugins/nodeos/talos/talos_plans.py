"""Plans for the talos plugin's tests: the reference lab and a three-datacentre lab, at the
Talos versions nativek8s supports. A plain module (not conftest) with a name no other test
folder uses, so tests import it directly."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from nativek8s.api import Topology
from nativek8s.core.load import parse_topology
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.validate import check_topology
from tests.topology_changes import merge as _merge
from tests.topology_changes import topology_text

VERSIONS = ("1.13.9", "1.14.0-rc.1")

# Three datacentres, two control planes (one in dc1, one in dc3), a datacentre with two
# nodes, one whose nodes install to another disk, and a pod mask that is not the default.
THREE_DC: dict[str, Any] = {
    "name": "threedc",
    "datacentres": {
        "dc1": {"nodes": {"cp-1": {"role": "controlplane"}, "w-1": {}}},
        "dc2": {"nodes": {"w-2": {}},
                "options": {"talos": {"install_disk": "/dev/sda", "disk_size_gib": 20}}},
        "dc3": {"nodes": {"cp-2": {"role": "controlplane"}, "w-3": {}}},
    },
    "networks": {"pods": "10.128.0.0/14", "pod_mask": 25, "services": "10.112.0.0/16"},
}


def topology(changes: dict[str, Any] | None = None) -> Topology:
    topo, _ = parse_topology(topology_text(changes), "test")
    return topo


@cache
def _plan(changes: str) -> Plan:  # plans are frozen: one per distinct topology is enough
    topo = topology(json.loads(changes))
    errors, _ = check_topology(topo)
    assert not errors, errors
    return build_plan(topo)


def make_plan(changes: dict[str, Any] | None = None) -> Plan:
    """The reference lab with changes merged in (datacentres replaced as a whole)."""
    return _plan(json.dumps(changes or {}, sort_keys=True))


def reference(version: str = "1.13.9", **changes: Any) -> Plan:
    return make_plan(_merge({"versions": {"talos": version}}, changes))


def three_dc(version: str = "1.13.9", **changes: Any) -> Plan:
    return make_plan(_merge({**THREE_DC, "versions": {"talos": version}}, changes))
