"""Per-plugin `options` in topologies: checked by the plugin's own model, located by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from nativek8s.core.errors import TopologyError
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan

BASE = """\
name: opts
datacentres:
  dc1:
    nodes:
      node-1: {role: controlplane}
  dc2:
    nodes:
      node-2: {}
"""


def _load(tmp_path: Path, extra: str, registry):
    topo = tmp_path / "opts.yaml"
    topo.write_text(BASE + extra)
    return load_topology(str(topo), registry)[0]


def test_valid_options_reach_the_plan_merged_per_datacentre(tmp_path: Path, sample_registry):
    topo = _load(tmp_path, "options:\n  sample-router: {firewall: open, mtu: 9000}\n",
                 sample_registry)
    dcs = {**topo.datacentres}
    dcs["dc2"] = dcs["dc2"].model_copy(update={"options": {"sample-router": {"mtu": 1400}}})
    plan = build_plan(topo.model_copy(update={"datacentres": dcs}))
    assert plan.options_for("sample-router") == {"firewall": "open", "mtu": 9000}
    assert plan.options_for("sample-router", "dc1") == {"firewall": "open", "mtu": 9000}
    assert plan.options_for("sample-router", "dc2") == {"firewall": "open", "mtu": 1400}


@pytest.mark.parametrize(("extra", "expected"), [
    ("options:\n  sample-router: {firewal: open}\n",
     [(10, "options.sample-router.firewal",
       "unknown option; sample-router takes: firewall, mtu")]),
    ("options:\n  sample-router:\n    firewall: closed\n",
     [(11, "options.sample-router.firewall", "Input should be 'strict' or 'open'")]),
    ("options:\n  sample-os: {x: 1}\n",
     [(10, "options.sample-os", "plugin 'sample-os' takes no options; remove this key")]),
], ids=["unknown-key", "bad-value", "no-options"])
def test_bad_options_are_located(tmp_path: Path, sample_registry, extra, expected):
    with pytest.raises(TopologyError) as err:
        _load(tmp_path, extra, sample_registry)
    assert [(p.line, p.path, p.message) for p in err.value.problems] == expected


def test_per_datacentre_options_are_checked_too(tmp_path: Path, sample_registry):
    text = BASE.replace("  dc2:\n", "  dc2:\n    options:\n      sample-router: {mtu: big}\n")
    topo = tmp_path / "opts.yaml"
    topo.write_text(text)
    with pytest.raises(TopologyError) as err:
        load_topology(str(topo), sample_registry)
    [problem] = err.value.problems
    assert problem.path == "datacentres.dc2.options.sample-router.mtu"
    assert problem.line == 8 and "integer" in problem.message
